// Average pooling of a G x G patch grid into N regions: the "Avg. Pool + Linear" baseline pools
// with it, and VoCo's pooled start (a vlmc option) gives each <voco> token its region's mean.
// The grid is split into n_h x n_w nearly equal rectangles (N = n_h * n_w, the most square
// factorisation; N = 1 pools everything).
import { Tensor } from "../tensor/tensor.js";

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
