// PyramidDrop (Xing et al., CVPR 2025; Cooperx521/PyramidDrop): the LLM is split into stages; at the
// end of each stage a fraction lambda of the vision tokens still alive is kept, ranked by the
// attention the last instruction token gives them (averaged over heads). With stage ends after
// layers 8/16/24 of 32 and lambda 0.5, the stages see 100/50/25/12.5% of the tokens. Training-free here.
import type { TokenLayout } from "../../model/layout.js";
import type { VlmHooks } from "../../model/vlm.js";
import type { Tensor } from "../../tensor/tensor.js";
import { keepMask, receivedAttention, topK, visionSlots } from "../common.js";

export interface PDropConfig {
  /** Decoder layers (0-based) after which a stage ends. */
  stageEnds: number[];
  /** Fraction of the alive vision tokens kept at each stage end, in (0, 1]. */
  lambda: number;
  /** Drop before each stage end's MLP (default true; same output, fewer FLOPs). */
  pruneBeforeMlp?: boolean;
}

export function pdropHooks(cfg: PDropConfig): VlmHooks {
  if (!(cfg.lambda > 0 && cfg.lambda <= 1)) throw new Error(`PyramidDrop lambda must be in (0, 1], got ${cfg.lambda}`);
  return {
    wantsProbs: (l) => cfg.stageEnds.includes(l),
    pruneBeforeMlp: (l) => cfg.stageEnds.includes(l) && (cfg.pruneBeforeMlp ?? true),
    afterLayer(l: number, _h: Tensor, L: TokenLayout, probs: Tensor | null): Uint8Array | null {
      if (!cfg.stageEnds.includes(l) || probs === null) return null;
      const kept = Array.from({ length: L.B }, (_, b) => {
        const vis = visionSlots(L, b);
        const scores = receivedAttention(probs, L, b, [L.length[b] - 1], vis);
        return topK(vis, scores, Math.round(vis.length * cfg.lambda));
      });
      return keepMask(L, kept);
    },
  };
}
