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

/** Parameters split into groups by groupOf(name), in first-seen order: built once, clipped every step. */
export function clipGroups(named: readonly [string, Tensor][], groupOf: (name: string) => string): Tensor[][] {
  const groups = new Map<string, Tensor[]>();
  for (const [name, p] of named) {
    const g = groupOf(name), group = groups.get(g);
    if (group === undefined) groups.set(g, [p]);
    else group.push(p);
  }
  return [...groups.values()];
}

/**
 * clipGradNorm applied to each group on its own, so one group's large gradients do not shrink another's
 * (one group = clipGradNorm). Returns the norm before clipping of all groups together.
 */
export function clipGradNormByGroup(groups: readonly (readonly Tensor[])[], maxNorm: number): number {
  let ss = 0;
  for (const params of groups) ss += clipGradNorm(params, maxNorm) ** 2;
  return Math.sqrt(ss);
}
