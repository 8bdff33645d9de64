// The hooks that reproduce a model's compression method at inference (from its folder's record),
// with the overrides the bounds need: VoCo's lower bound is the upper-bound model with the mask on.
import { avgPoolHooks } from "../compress/baselines/pool.js";
import { vocoMaskHooks } from "../compress/voco/mask.js";
import type { VlmHooks } from "../model/vlm.js";
import type { MethodSetup } from "../train/model-dir.js";
import { AtpHooks } from "../compress/atp/hooks.js";
import { loadAtpModules } from "../train/atp-files.js";
import type { LlavaForCausalLM } from "../model/vlm.js";

/** Hooks for a model folder's method; ATP modules are read from the folder (hard pruning). */
export function hooksFor(m: MethodSetup, model: LlavaForCausalLM, dir: string): VlmHooks | undefined {
  if (m.atp !== null) {
    const grid = model.vcfg.vision.image_size / model.vcfg.vision.patch_size;
    return new AtpHooks(loadAtpModules(dir, m.atp, 0), m.atp, "hard", model.cfg.num_hidden_layers, grid);
  }
  if (m.vocoMask && m.vocoTokens > 0) return vocoMaskHooks();
  if (m.poolTokens > 0) return avgPoolHooks(m.poolTokens);
  return undefined;
}

export function describeMethod(m: MethodSetup): string {
  if (m.vocoTokens > 0) return `${m.vocoTokens} <voco> token(s), mask ${m.vocoMask ? "on" : "off"}`;
  if (m.poolTokens > 0) return `average pooling to ${m.poolTokens} token(s)`;
  if (m.atp !== null) return `ATP pruning after layers ${m.atp.layers.join(", ")} (target ${(100 * m.atp.targetFraction).toFixed(0)}%)`;
  return "full vision tokens";
}
