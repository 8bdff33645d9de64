// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_): scales every gradient by
// maxNorm / norm when the norm of all gradients together exceeds maxNorm. Returns the norm before.
import { K } from "../kernels/index.js";
import type { Tensor } from "../tensor/tensor.js";

export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  let ss = 0;
  for (const p of params) if (p.grad !== null) ss += K().sumSquares(p.grad.data, p.grad.size);
  const norm = Math.sqrt(ss);
  if (norm > maxNorm && norm > 0) {
    const s = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad !== null) K().affine(p.grad.data, p.grad.data, p.grad.size, s, 0);
  }
  return norm;
}
