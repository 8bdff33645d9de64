// FastV (Chen et al., ECCV 2024; pkunlp-icler/FastV): after LLM layer K, rank the vision tokens by the
// attention the last token gives them (averaged over heads) and drop R of them for all later
// layers. Training-free. Faithful to the official code, which ranks by the last token's attention
// (the paper describes an average over tokens; FastV issues #14, #44).
import type { TokenLayout } from "../../model/layout.js";
import type { VlmHooks } from "../../model/vlm.js";
import type { Tensor } from "../../tensor/tensor.js";
import { keepMask, receivedAttention, topK, visionSlots } from "../common.js";
import { MergedSizes } from "../merge.js";

export interface FastVConfig {
  /** Prune after this decoder layer (0-based; FastV's K = 2 means after the second layer, i.e. 1). */
  afterLayer: number;
  /** Fraction of vision tokens dropped, in [0, 1). */
  ratio: number;
  /** Count each dropped token into its most similar kept one and weight keys by size (a vlmc option; merge.ts). */
  merge?: boolean;
  /** With merge: also average each kept token's state with the states merged into it (ToMe's merge). */
  mergeStates?: boolean;
  /** Drop before layer K's MLP (default true; same output, fewer FLOPs); not with merge (it reads states). */
  pruneBeforeMlp?: boolean;
}

export function fastVHooks(cfg: FastVConfig): VlmHooks {
  if (!(cfg.ratio >= 0 && cfg.ratio < 1)) throw new Error(`FastV ratio must be in [0, 1), got ${cfg.ratio}`);
  const sizes = cfg.merge ? new MergedSizes() : null;
  return {
    wantsProbs: (l) => l === cfg.afterLayer,
    pruneBeforeMlp: (l) => l === cfg.afterLayer && sizes === null && (cfg.pruneBeforeMlp ?? true),
    keyBias: (l, L) => (sizes !== null && l > cfg.afterLayer ? sizes.bias(L) : null),
    mixStates: (l, h, L) => (sizes !== null && cfg.mergeStates && l === cfg.afterLayer ? sizes.mix(h, L) : null),
    afterLayer(l: number, h: Tensor, L: TokenLayout, probs: Tensor | null): Uint8Array | null {
      if (l !== cfg.afterLayer || probs === null) return null;
      const kept = Array.from({ length: L.B }, (_, b) => {
        const vis = visionSlots(L, b);
        const scores = receivedAttention(probs, L, b, [L.length[b] - 1], vis);
        return topK(vis, scores, Math.round(vis.length * (1 - cfg.ratio)));
      });
      sizes?.reset(); // one pruning layer: each forward's merge starts afresh
      sizes?.absorb(h, L, kept);
      return keepMask(L, kept);
    },
  };
}
