// Reductions (sum, mean, max over an axis or everything) and softmax / log-softmax over the last axis.
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import { normAxis } from "../shape.js";
import { Tensor } from "../tensor.js";

/** (outer, dim, inner) view of x around `axis`. */
function split3(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

function reducedShape(shape: readonly number[], axis: number, keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

function sumScaled(op: string, x: Tensor, axis: number | undefined, keepDims: boolean, meanDiv: boolean): Tensor {
  if (axis === undefined) { // everything -> scalar
    const n = x.size;
    const out = Tensor.zeros(keepDims ? x.shape.map(() => 1) : []);
    K().sumAxis(out.data, x.data, 1, n, 1, meanDiv ? 1 / n : 1);
    return record(out, op, [x], (g) => [Tensor.full(x.shape, g.data[0] * (meanDiv ? 1 / n : 1))]);
  }
  const ax = normAxis(op, axis, x.ndim);
  const [outer, dim, inner] = split3(x.shape, ax);
  const s = meanDiv ? 1 / dim : 1;
  const out = Tensor.zeros(reducedShape(x.shape, ax, keepDims));
  K().sumAxis(out.data, x.data, outer, dim, inner, s);
  return record(out, op, [x], (g) => {
    // dx[o, d, i] = g[o, i] * s: a broadcast copy along the reduced axis
    const dx = Tensor.zeros(x.shape);
    for (let o = 0; o < outer; o++) for (let d = 0; d < dim; d++) {
      const src = o * inner, dst = (o * dim + d) * inner;
      K().axpy(dx.data.subarray(dst, dst + inner), g.data.subarray(src, src + inner), inner, s);
    }
    return [dx];
  });
}

/** Sum over one axis, or over everything when axis is undefined. */
export function sum(x: Tensor, axis?: number, keepDims = false): Tensor {
  return sumScaled("sum", x, axis, keepDims, false);
}

export function mean(x: Tensor, axis?: number, keepDims = false): Tensor {
  return sumScaled("mean", x, axis, keepDims, true);
}

/** Max over an axis; the gradient flows to the first position holding the max. Also returns argmax. */
export function maxWithIndex(x: Tensor, axis: number, keepDims = false): { values: Tensor; indices: Int32Array } {
  const ax = normAxis("max", axis, x.ndim);
  const [outer, dim, inner] = split3(x.shape, ax);
  const out = Tensor.zeros(reducedShape(x.shape, ax, keepDims));
  const arg = new Int32Array(outer * inner);
  K().maxAxis(out.data, arg, x.data, outer, dim, inner);
  record(out, "max", [x], (g) => {
    const dx = Tensor.zeros(x.shape);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      dx.data[(o * dim + arg[o * inner + i]) * inner + i] = g.data[o * inner + i];
    }
    return [dx];
  });
  return { values: out, indices: arg };
}

export function max(x: Tensor, axis: number, keepDims = false): Tensor {
  return maxWithIndex(x, axis, keepDims).values;
}

function softmaxLike(op: string, x: Tensor, log: boolean): Tensor {
  if (x.ndim === 0) return softmaxLike(op, new Tensor(x.data, [1]), log);
  const C = x.shape[x.ndim - 1], N = x.size / Math.max(C, 1);
  const y = Tensor.zeros(x.shape);
  K().softmaxForward(y.data, x.data, N, C, log);
  return record(y, op, [x], (g) => {
    const dx = Tensor.zeros(x.shape);
    K().softmaxBackward(dx.data, g.data, y.data, N, C, log);
    return [dx];
  });
}

/** Softmax over the last axis. A row of all -Infinity gives zeros. */
export function softmax(x: Tensor): Tensor {
  return softmaxLike("softmax", x, false);
}

/** Log-softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  return softmaxLike("logSoftmax", x, true);
}
