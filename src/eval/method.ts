// The hooks that reproduce a model's compression method at inference (from its folder's record),
// with the overrides the bounds need: VoCo's lower bound is the upper-bound model with the mask on.
import { avgPoolHooks } from "../compress/baselines/pool.js";
import { fastVHooks } from "../compress/baselines/fastv.js";
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

/** `vlmc eval --prune`: "none" (a model's own pruning switched off) or FastV after a layer. */
export type PruneOverride = { kind: "none" } | { kind: "fastv"; afterLayer: number; ratio: number; merge: boolean; mergeStates: boolean };

/** Parses "none" or "fastv:LAYER:RATIO[:merge|:merge-avg]" (LAYER 0-based, below numLayers - 1; RATIO dropped,
 * in [0, 1); ":merge": dropped tokens counted into kept ones, ":merge-avg" also averaging states; compress/merge.ts). */
export function parsePruneOverride(spec: string, numLayers: number): PruneOverride {
  if (spec === "none") return { kind: "none" };
  const m = /^fastv:(\d+):([0-9.]+)(:merge|:merge-avg)?$/.exec(spec);
  if (m === null) throw new Error(`--prune must be "none" or "fastv:LAYER:RATIO[:merge|:merge-avg]" (e.g. fastv:2:0.87), got "${spec}"`);
  const afterLayer = Number(m[1]), ratio = Number(m[2]);
  // pruning after the last layer would change nothing: refuse it rather than report a no-op as FastV
  if (afterLayer >= numLayers - 1) throw new Error(`--prune ${spec}: LAYER must be below ${numLayers - 1} (the model has ${numLayers} layers), got ${afterLayer}`);
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`--prune ${spec}: RATIO (the fraction dropped) must be in [0, 1), got ${m[2]}`);
  return { kind: "fastv", afterLayer, ratio, merge: m[3] !== undefined, mergeStates: m[3] === ":merge-avg" };
}

/** The hooks of a model folder's method with a --prune override applied. */
export function hooksWithOverride(m: MethodSetup, model: LlavaForCausalLM, dir: string, o: PruneOverride | null): VlmHooks | undefined {
  if (o === null) return hooksFor(m, model, dir);
  if (m.vocoTokens > 0 || m.poolTokens > 0) throw new Error(`--prune applies to full and ATP models; ${dir} uses ${describeMethod(m)}`);
  return o.kind === "none" ? undefined : fastVHooks({ afterLayer: o.afterLayer, ratio: o.ratio, merge: o.merge, mergeStates: o.mergeStates });
}
