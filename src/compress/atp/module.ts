// The ATP threshold predictor: per ATP layer, a small MLP with two heads that predicts, per
// instance, the thresholds theta_r (redundancy) and theta_s (spatial) from that instance's score
// vectors (each average-pooled to a fixed length) [R: the re-implementation's variant b]; with
// cfg.questionDim > 0 (a vlmc option) also from the question's hidden state, through fc_q, which starts
// at zero so training starts from the plain module.
import { Linear } from "../../nn/layers.js";
import { Module } from "../../nn/module.js";
import { add, relu, sigmoid } from "../../tensor/ops/elementwise.js";
import type { Rng } from "../../tensor/random.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { AtpConfig } from "./config.js";

export class AtpThresholds extends Module {
  fc: Linear; head_r: Linear; head_s: Linear;
  fc_q: Linear | null;

  constructor(cfg: AtpConfig, rng: Rng) {
    super();
    this.fc = new Linear(2 * cfg.pool, cfg.hidden, true, { rng, std: 0.1 });
    this.fc_q = cfg.questionDim > 0 ? new Linear(cfg.questionDim, cfg.hidden, false, { rng, std: 0 }) : null;
    this.head_r = new Linear(cfg.hidden, 1, true, { rng, std: 0.1 });
    this.head_s = new Linear(cfg.hidden, 1, true, { rng, std: 0.1 });
  }

  /** x (B, 2*pool) [and q (B, questionDim) with fc_q] -> theta_r, theta_s (B, 1) in (0, 1). */
  forward(x: Tensor, q?: Tensor): { thetaR: Tensor; thetaS: Tensor } {
    if ((this.fc_q === null) !== (q === undefined)) throw new Error(`ATP thresholds: ${this.fc_q === null ? "no question input configured, but one was given" : "questionDim is set but no question input was given"}`);
    const pre = this.fc.forward(x);
    const h = relu(this.fc_q === null ? pre : add(pre, this.fc_q.forward(q!)));
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
