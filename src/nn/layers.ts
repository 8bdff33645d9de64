// Leaf modules: Linear, Embedding, RMSNorm, LayerNorm. Field names follow PyTorch/HF
// (`weight`, `bias`) so state dicts map to checkpoints 1:1. Linear stores weight as (out, in), as
// PyTorch does, and computes x·Wᵀ with the transposed matmul form (no copy).
import { add } from "../tensor/ops/elementwise.js";
import { embedding } from "../tensor/ops/gather.js";
import { matmul } from "../tensor/ops/matmul.js";
import { layerNorm, rmsNorm } from "../tensor/ops/norm.js";
import { reshape } from "../tensor/ops/shape.js";
import { Rng } from "../tensor/random.js";
import { fmt, OpError } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { Module, parameter } from "./module.js";

export interface InitOptions {
  rng: Rng;
  /** Std of the normal init; default 0.02 (HF `initializer_range`). */
  std?: number;
}

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, useBias: boolean, init: InitOptions) {
    super();
    this.weight = parameter(Tensor.randn([outFeatures, inFeatures], init.rng, init.std ?? 0.02));
    this.bias = useBias ? parameter(Tensor.zeros([outFeatures])) : null;
  }

  // x: (..., in) -> (..., out)
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new OpError("Linear", `input ${fmt(x.shape)} has last axis ${x.shape[x.ndim - 1]}, expected ${this.inFeatures}`);
    }
    const y = matmul(x.ndim === 1 ? reshape(x, [1, this.inFeatures]) : x, this.weight, { transB: true });
    const out = this.bias === null ? y : add(y, this.bias);
    return x.ndim === 1 ? reshape(out, [this.outFeatures]) : out;
  }
}

export class Embedding extends Module {
  weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly dim: number, init: InitOptions) {
    super();
    this.weight = parameter(Tensor.randn([numEmbeddings, dim], init.rng, init.std ?? 0.02));
  }

  /** ids (N) -> (N, dim). */
  forward(ids: Int32Array): Tensor {
    return embedding(this.weight, ids);
  }
}

export class RMSNorm extends Module {
  weight: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-6) {
    super();
    this.weight = parameter(Tensor.full([dim], 1));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

export class LayerNorm extends Module {
  weight: Tensor;
  bias: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = parameter(Tensor.full([dim], 1));
    this.bias = parameter(Tensor.zeros([dim]));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
