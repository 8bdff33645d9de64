// RMSNorm (LLaMA) and LayerNorm (ViT) over the last axis, fused forward and backward.
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import { fmt, OpError } from "../shape.js";
import { Tensor } from "../tensor.js";

function rowsCols(op: string, x: Tensor, w: Tensor): [number, number] {
  const C = x.shape[x.ndim - 1];
  if (x.ndim < 1 || w.ndim !== 1 || w.shape[0] !== C) {
    throw new OpError(op, `weight ${fmt(w.shape)} does not match the last axis of x ${fmt(x.shape)}`);
  }
  return [x.size / C, C];
}

// y = x * rsqrt(mean(x^2) + eps) * w      x: (N, C), w: (C)
export function rmsNorm(x: Tensor, w: Tensor, eps: number): Tensor {
  const [N, C] = rowsCols("rmsNorm", x, w);
  const y = Tensor.zeros(x.shape), rstd = new Float32Array(N); // rstd saved for backward
  K().rmsNormForward(y.data, rstd, x.data, w.data, N, C, eps);
  return record(y, "rmsNorm", [x, w], (dy) => {
    const dx = Tensor.zeros(x.shape), dw = Tensor.zeros(w.shape);
    K().rmsNormBackward(dx.data, dw.data, dy.data, x.data, w.data, rstd, N, C);
    return [dx, dw];
  });
}

// y = (x - mean) * rstd * w + b
export function layerNorm(x: Tensor, w: Tensor, b: Tensor, eps: number): Tensor {
  const [N, C] = rowsCols("layerNorm", x, w);
  if (b.ndim !== 1 || b.shape[0] !== C) throw new OpError("layerNorm", `bias ${fmt(b.shape)} != (${C})`);
  const y = Tensor.zeros(x.shape), mu = new Float32Array(N), rstd = new Float32Array(N);
  K().layerNormForward(y.data, mu, rstd, x.data, w.data, b.data, N, C, eps);
  return record(y, "layerNorm", [x, w, b], (dy) => {
    const dx = Tensor.zeros(x.shape), dw = Tensor.zeros(w.shape), db = Tensor.zeros(b.shape);
    K().layerNormBackward(dx.data, dw.data, db.data, dy.data, x.data, w.data, mu, rstd, N, C);
    return [dx, dw, db];
  });
}
