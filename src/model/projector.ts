// The multimodal projector, LLaVA-1.5's `mlp2x_gelu`: Linear(vision D -> C), GELU (exact erf, as
// torch nn.GELU()), Linear(C -> C). Parameters are named `0.*` and `2.*` as in nn.Sequential, so
// `model.mm_projector.0.weight` loads by name.
import { Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { gelu } from "../tensor/ops/elementwise.js";
import type { Rng } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";

export class Mlp2xGeluProjector extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(visionDim: number, textDim: number, rng: Rng, std = 0.02) {
    super();
    this.fc1 = new Linear(visionDim, textDim, true, { rng, std });
    this.fc2 = new Linear(textDim, textDim, true, { rng, std });
  }

  override namedParameters(prefix = ""): [string, Tensor][] {
    return [...this.fc1.namedParameters(prefix + "0."), ...this.fc2.namedParameters(prefix + "2.")];
  }

  // (..., D) -> (..., C)
  forward(x: Tensor): Tensor {
    return this.fc2.forward(gelu(this.fc1.forward(x), "erf"));
  }
}
