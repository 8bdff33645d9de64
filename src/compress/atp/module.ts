// The ATP threshold predictor: per ATP layer, a small MLP with two heads that predicts, per
// instance, the thresholds theta_r (redundancy) and theta_s (spatial) from that instance's score
// vectors (each average-pooled to a fixed length) [R: the re-implementation's variant b].
import { Linear } from "../../nn/layers.js";
import { Module } from "../../nn/module.js";
import { relu, sigmoid } from "../../tensor/ops/elementwise.js";
import type { Rng } from "../../tensor/random.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { AtpConfig } from "./config.js";

export class AtpThresholds extends Module {
  fc: Linear; head_r: Linear; head_s: Linear;

  constructor(cfg: AtpConfig, rng: Rng) {
    super();
    this.fc = new Linear(2 * cfg.pool, cfg.hidden, true, { rng, std: 0.1 });
    this.head_r = new Linear(cfg.hidden, 1, true, { rng, std: 0.1 });
    this.head_s = new Linear(cfg.hidden, 1, true, { rng, std: 0.1 });
  }

  /** x (B, 2*pool) -> theta_r, theta_s (B, 1) in (0, 1). */
  forward(x: Tensor): { thetaR: Tensor; thetaS: Tensor } {
    const h = relu(this.fc.forward(x));
    return { thetaR: sigmoid(this.head_r.forward(h)), thetaS: sigmoid(this.head_s.forward(h)) };
  }
}

/** All ATP modules of a model; saved beside the LLaVA weights as atp.safetensors. */
export class AtpModules extends Module {
  layers: AtpThresholds[];
  constructor(readonly cfg: AtpConfig, rng: Rng) {
    super();
    this.layers = cfg.layers.map(() => new AtpThresholds(cfg, rng));
  }
}

/** Average-pools v into n bins by position (empty input: zeros). */
export function poolTo(v: ArrayLike<number>, n: number): Float32Array {
  const out = new Float32Array(n);
  if (v.length === 0) return out;
  for (let k = 0; k < n; k++) {
    const lo = Math.floor((k * v.length) / n), hi = Math.max(lo + 1, Math.floor(((k + 1) * v.length) / n));
    let s = 0;
    for (let i = lo; i < hi; i++) s += v[i];
    out[k] = s / (hi - lo);
  }
  return out;
}
