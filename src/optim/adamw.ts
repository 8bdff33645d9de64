// AdamW (Loshchilov & Hutter): Adam moments with decoupled weight decay, as torch.optim.AdamW.
// Parameter groups carry their own weight decay and LR multiplier (norms and biases usually get
// no decay). The state (moments, step) is exposed for checkpoints so training resumes exactly.
import { K } from "../kernels/index.js";
import { Tensor } from "../tensor/tensor.js";

export interface ParamGroup {
  params: [string, Tensor][];
  weightDecay: number;
  lrScale?: number;
}

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class AdamW {
  readonly groups: ParamGroup[];
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  step = 0;
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();

  constructor(groups: ParamGroup[], opts: AdamWOptions = {}) {
    this.groups = groups;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  /** One update with learning rate lr. Parameters without a gradient are skipped (their moments too). */
  update(lr: number): void {
    this.step++;
    const bc1 = 1 - this.beta1 ** this.step, bc2 = 1 - this.beta2 ** this.step;
    for (const g of this.groups) {
      const glr = lr * (g.lrScale ?? 1);
      for (const [name, p] of g.params) {
        if (p.grad === null) continue;
        let m = this.m.get(name), v = this.v.get(name);
        if (m === undefined || v === undefined) {
          m = new Float32Array(p.size); v = new Float32Array(p.size);
          this.m.set(name, m); this.v.set(name, v);
        }
        K().adamwStep(p.data, p.grad.data, m, v, p.size, glr, this.beta1, this.beta2, this.eps, g.weightDecay, bc1, bc2);
      }
    }
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const [, p] of g.params) p.grad = null;
  }
}

/** Splits parameters into decayed (matrices) and not decayed (vectors: norms, biases), nanoGPT style. */
export function decayGroups(params: [string, Tensor][], weightDecay: number): ParamGroup[] {
  return [
    { params: params.filter(([, p]) => p.ndim >= 2), weightDecay },
    { params: params.filter(([, p]) => p.ndim < 2), weightDecay: 0 },
  ];
}

/** decayGroups, further split by a per-parameter LR multiplier (e.g. a small module that must move faster
 * than the network it sits in); without lrScale, exactly decayGroups. */
export function scaledGroups(params: [string, Tensor][], weightDecay: number, lrScale?: (name: string) => number): ParamGroup[] {
  if (lrScale === undefined) return decayGroups(params, weightDecay);
  const byScale = new Map<number, [string, Tensor][]>();
  for (const entry of params) {
    const s = lrScale(entry[0]);
    if (!(s > 0)) throw new Error(`learning-rate multiplier of ${entry[0]} must be > 0, got ${s}`);
    const group = byScale.get(s);
    if (group === undefined) byScale.set(s, [entry]);
    else group.push(entry);
  }
  return [...byScale].flatMap(([s, ps]) => decayGroups(ps, weightDecay).map((g) => ({ ...g, lrScale: s })));
}
