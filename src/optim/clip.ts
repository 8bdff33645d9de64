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

/**
 * clipGradNorm applied to each group on its own (groupOf names a parameter's group), so one group's
 * large gradients do not shrink another's. Returns the norm before clipping of all groups together.
 */
export function clipGradNormByGroup(named: readonly [string, Tensor][], maxNorm: number, groupOf: (name: string) => string): number {
  const groups = new Map<string, Tensor[]>();
  for (const [name, p] of named) {
    const g = groupOf(name);
    groups.set(g, [...(groups.get(g) ?? []), p]);
  }
  let ss = 0;
  for (const params of groups.values()) ss += clipGradNorm(params, maxNorm) ** 2;
  return Math.sqrt(ss);
}
