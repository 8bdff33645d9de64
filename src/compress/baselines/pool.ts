// Average pooling of the projected vision tokens to N tokens before the LLM: the paper's
// "Avg. Pool + Linear" baseline (LLaMA-VID's content token), with our mlp2x_gelu projector as the
// linear part. The regions: model/pool-grid.ts.
// NOTE: LLaMA-VID pools the ViT features and then projects; we pool after the projector, so the
// same trained projector serves every N (pooling and a linear layer commute; the GELU does not).
import type { VlmHooks } from "../../model/vlm.js";
import { poolMatrix } from "../../model/pool-grid.js";
import { matmul } from "../../tensor/ops/matmul.js";

export { gridFactors, poolMatrix } from "../../model/pool-grid.js";

/** Hooks that pool each image's tokens to N before the LLM. */
export function avgPoolHooks(N: number): VlmHooks {
  const cache = new Map<number, ReturnType<typeof poolMatrix>>();
  return {
    reduceVision(feats, image) {
      let p = cache.get(image.grid);
      if (p === undefined) { p = poolMatrix(image.grid, N); cache.set(image.grid, p); }
      return { feats: matmul(p.weights, feats), patches: p.centres }; // (N, P) x (P, C)
    },
  };
}
