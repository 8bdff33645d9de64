// Average pooling of the projected vision tokens to N tokens before the LLM: the paper's
// "Avg. Pool + Linear" baseline (LLaMA-VID's content token), with our mlp2x_gelu projector as the
// linear part. The G x G grid is split into n_h x n_w nearly equal rectangles (N = n_h * n_w, the
// most square factorisation; N = 1 pools everything), each averaged into one token.
// NOTE: LLaMA-VID pools the ViT features and then projects; we pool after the projector, so the
// same trained projector serves every N (pooling and a linear layer commute; the GELU does not).
import type { VlmHooks } from "../../model/vlm.js";
import { matmul } from "../../tensor/ops/matmul.js";
import { Tensor } from "../../tensor/tensor.js";

/** The most square n_h x n_w = N with n_h <= n_w. */
export function gridFactors(N: number): [number, number] {
  let h = Math.floor(Math.sqrt(N));
  while (N % h !== 0) h--;
  return [h, N / h];
}

/** (N, G*G) averaging matrix: row r averages the patches of rectangle r. Also each rectangle's centre patch. */
export function poolMatrix(G: number, N: number): { weights: Tensor; centres: Int32Array } {
  const [nh, nw] = gridFactors(N);
  if (nh > G || nw > G) throw new Error(`cannot pool a ${G}x${G} grid into ${nh}x${nw} regions`);
  const w = new Float32Array(N * G * G), centres = new Int32Array(N);
  for (let r = 0; r < nh; r++) for (let c = 0; c < nw; c++) {
    const y0 = Math.floor((r * G) / nh), y1 = Math.floor(((r + 1) * G) / nh);
    const x0 = Math.floor((c * G) / nw), x1 = Math.floor(((c + 1) * G) / nw);
    const k = r * nw + c, inv = 1 / ((y1 - y0) * (x1 - x0));
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) w[k * G * G + y * G + x] = inv;
    centres[k] = Math.floor((y0 + y1 - 1) / 2) * G + Math.floor((x0 + x1 - 1) / 2);
  }
  return { weights: new Tensor(w, [N, G * G]), centres };
}

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
