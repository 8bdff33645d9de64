// Shape ops: reshape (a view: same buffer), transpose/permute, slice, concat, and a copy.
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import { fmt, normAxis, numel, OpError, stridesOf } from "../shape.js";
import { Tensor } from "../tensor.js";

/** Same data, new shape; one dimension may be -1. The result shares the buffer (never write into it). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const neg = shape.indexOf(-1);
  let s = [...shape];
  if (neg >= 0) {
    const rest = numel(shape.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) throw new OpError("reshape", `cannot infer -1 in ${fmt(shape)} from ${fmt(x.shape)}`);
    s[neg] = x.size / rest;
  }
  if (numel(s) !== x.size) throw new OpError("reshape", `${fmt(x.shape)} (${x.size} elements) cannot become ${fmt(shape)}`);
  s = s.map(Number);
  const out = new Tensor(x.data, s);
  return record(out, "reshape", [x], (g) => [new Tensor(g.data, x.shape)]);
}

/** Permutes axes: out.shape[i] = x.shape[perm[i]]. Copies. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const nd = x.ndim;
  if (perm.length !== nd || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new OpError("permute", `perm [${perm.join(", ")}] is not a permutation of ${nd} axes of ${fmt(x.shape)}`);
  }
  const xs = stridesOf(x.shape);
  const outShape = perm.map((p) => x.shape[p]);
  const out = Tensor.zeros(outShape);
  const readStrides = Int32Array.from(perm.map((p) => xs[p]));
  if (out.size > 0 && nd > 0) K().copyStrided(out.data, x.data, Int32Array.from(outShape), readStrides);
  else out.data.set(x.data);
  return record(out, "permute", [x], (g) => {
    const dx = Tensor.zeros(x.shape);
    if (g.size > 0 && nd > 0) K().accumulateStrided(dx.data, g.data, Int32Array.from(outShape), readStrides);
    return [dx];
  });
}

/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const i = normAxis("transpose", a, x.ndim), j = normAxis("transpose", b, x.ndim);
  const perm = x.shape.map((_, k) => k);
  perm[i] = j; perm[j] = i;
  return permute(x, perm);
}

/** x[..., start:end, ...] along one axis. Copies. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normAxis("slice", axis, x.ndim);
  const d = x.shape[ax];
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= d)) {
    throw new OpError("slice", `range [${start}, ${end}) out of bounds for axis ${ax} of ${fmt(x.shape)}`);
  }
  let outer = 1, inner = 1;
  for (let i = 0; i < ax; i++) outer *= x.shape[i];
  for (let i = ax + 1; i < x.ndim; i++) inner *= x.shape[i];
  const len = end - start;
  const outShape = x.shape.map((s, i) => (i === ax ? len : s));
  const out = Tensor.zeros(outShape);
  for (let o = 0; o < outer; o++) {
    const src = (o * d + start) * inner;
    out.data.set(x.data.subarray(src, src + len * inner), o * len * inner);
  }
  return record(out, "slice", [x], (g) => {
    const dx = Tensor.zeros(x.shape);
    for (let o = 0; o < outer; o++) dx.data.set(g.data.subarray(o * len * inner, (o + 1) * len * inner), (o * d + start) * inner);
    return [dx];
  });
}

/** Concatenates along an axis; all other dimensions must match. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new OpError("concat", "no tensors given");
  const first = xs[0];
  const ax = normAxis("concat", axis, first.ndim);
  for (const t of xs) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== ax && s !== first.shape[i])) {
      throw new OpError("concat", `shapes ${xs.map((u) => fmt(u.shape)).join(", ")} differ outside axis ${ax}`);
    }
  }
  let outer = 1, inner = 1;
  for (let i = 0; i < ax; i++) outer *= first.shape[i];
  for (let i = ax + 1; i < first.ndim; i++) inner *= first.shape[i];
  const total = xs.reduce((s, t) => s + t.shape[ax], 0);
  const out = Tensor.zeros(first.shape.map((s, i) => (i === ax ? total : s)));
  let offset = 0;
  const offsets: number[] = [];
  for (const t of xs) {
    const len = t.shape[ax];
    offsets.push(offset);
    for (let o = 0; o < outer; o++) {
      out.data.set(t.data.subarray(o * len * inner, (o + 1) * len * inner), (o * total + offset) * inner);
    }
    offset += len;
  }
  return record(out, "concat", xs, (g) => xs.map((t, k) => {
    if (!t.requiresGrad) return null;
    const len = t.shape[ax], dt = Tensor.zeros(t.shape);
    for (let o = 0; o < outer; o++) {
      const src = (o * total + offsets[k]) * inner;
      dt.data.set(g.data.subarray(src, src + len * inner), o * len * inner);
    }
    return dt;
  }));
}
