// The hooks that reproduce a model's compression method at inference (from its folder's record),
// with the overrides the bounds need: VoCo's lower bound is the upper-bound model with the mask on.
import { avgPoolHooks } from "../compress/baselines/pool.js";
import { vocoMaskHooks } from "../compress/voco/mask.js";
import type { VlmHooks } from "../model/vlm.js";
import type { MethodSetup } from "../train/model-dir.js";

export function hooksFor(m: MethodSetup): VlmHooks | undefined {
  if (m.vocoMask && m.vocoTokens > 0) return vocoMaskHooks();
  if (m.poolTokens > 0) return avgPoolHooks(m.poolTokens);
  return undefined;
}

export function describeMethod(m: MethodSetup): string {
  if (m.vocoTokens > 0) return `${m.vocoTokens} <voco> token(s), mask ${m.vocoMask ? "on" : "off"}`;
  if (m.poolTokens > 0) return `average pooling to ${m.poolTokens} token(s)`;
  return "full vision tokens";
}
