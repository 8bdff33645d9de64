// Tensor: a contiguous row-major Float32Array with a shape, and the autograd links that ops attach.
// Not here: the ops (./ops/*), the backward walk (./autograd.ts), kernels (../kernels).
// Float64 appears only in tests and references; bf16/f16 only in checkpoint storage.
import { backward as runBackward } from "./autograd.js";
import { Rng } from "./random.js";
import { fmt, numel, OpError, type Shape } from "./shape.js";

/** How a tensor was produced: its inputs and the function from its gradient to theirs. */
export interface GradNode {
  op: string;
  inputs: readonly Tensor[];
  /** Gradients for each input (null for inputs that need none), in the output's or the input's shape. */
  backward: (dout: Tensor) => (Tensor | null)[];
}

// Depth of withoutInit calls: random initialisers give zeros while it is above 0.
let initSkipped = 0;

/**
 * Runs `fn` with random initialisation skipped (`Tensor.randn`/`uniform` give zeros): for building
 * a model whose every weight a checkpoint is about to replace, as HF's `no_init_weights`. Drawing
 * the normals was a third of `vlmc demo`'s time.
 */
export function withoutInit<T>(fn: () => T): T {
  initSkipped++;
  try {
    return fn();
  } finally {
    initSkipped--;
  }
}

export class Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf (parameters); null until a backward reaches it. */
  grad: Tensor | null = null;
  /** Set by ops when gradients are recorded; cleared after backward. */
  node: GradNode | null = null;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    const n = numel(shape);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new OpError("Tensor", `bad shape ${fmt(shape)}`);
    if (data.length !== n) throw new OpError("Tensor", `data has ${data.length} elements, shape ${fmt(shape)} needs ${n}`);
    this.data = data;
    this.shape = [...shape];
    this.requiresGrad = requiresGrad;
  }

  static zeros(shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(numel(shape)), shape, requiresGrad);
  }

  static full(shape: Shape, value: number): Tensor {
    return new Tensor(new Float32Array(numel(shape)).fill(value), shape);
  }

  static from(values: ArrayLike<number>, shape?: Shape): Tensor {
    return new Tensor(Float32Array.from(values), shape ?? [values.length]);
  }

  static scalar(value: number): Tensor {
    return new Tensor(Float32Array.of(value), []);
  }

  /** Normal(0, std) entries from a seeded generator. */
  static randn(shape: Shape, rng: Rng, std = 1): Tensor {
    const t = Tensor.zeros(shape);
    if (initSkipped > 0) return t;
    for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * std;
    return t;
  }

  /** Uniform[lo, hi) entries from a seeded generator. */
  static uniform(shape: Shape, rng: Rng, lo = 0, hi = 1): Tensor {
    const t = Tensor.zeros(shape);
    if (initSkipped > 0) return t;
    for (let i = 0; i < t.data.length; i++) t.data[i] = lo + (hi - lo) * rng.uniform();
    return t;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new OpError("item", `tensor of shape ${fmt(this.shape)} is not a scalar`);
    return this.data[0];
  }

  /** A copy that is cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Backpropagates from this tensor (a scalar, or with an explicit upstream gradient). */
  backward(grad?: Tensor): void {
    runBackward(this, grad);
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  toString(): string {
    return `Tensor${fmt(this.shape)}`;
  }
}
