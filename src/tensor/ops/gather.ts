// Row gather and scatter: embedding lookup and its scatter-add backward, and token pruning
// (gather the surviving rows; scatter rows back into a full sequence).
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import { checkIndices, fmt, OpError } from "../shape.js";
import { Tensor } from "../tensor.js";

/** out[i] = x[idx[i]] over the first axis of x; out shape (idx.length, ...x.shape[1:]). */
export function gatherRows(x: Tensor, idx: Int32Array, op = "gatherRows"): Tensor {
  if (x.ndim < 1) throw new OpError(op, `x must have at least 1 axis, got ${fmt(x.shape)}`);
  checkIndices(op, idx, x.shape[0]);
  const C = x.size / Math.max(x.shape[0], 1);
  const out = Tensor.zeros([idx.length, ...x.shape.slice(1)]);
  K().gatherRows(out.data, x.data, idx, idx.length, C);
  return record(out, op, [x], (g) => {
    const dx = Tensor.zeros(x.shape);
    K().scatterAddRows(dx.data, g.data, idx, idx.length, C); // repeated indices add up
    return [dx];
  });
}

/** Embedding lookup: weight (V, C), ids -> (ids.length, C). */
export function embedding(weight: Tensor, ids: Int32Array): Tensor {
  if (weight.ndim !== 2) throw new OpError("embedding", `weight must be (V, C), got ${fmt(weight.shape)}`);
  return gatherRows(weight, ids, "embedding");
}

/** A copy of x with rows idx replaced by `rows` (idx unique). Gradients: rows get g[idx]; x gets g with those rows zeroed. */
export function scatterRows(x: Tensor, idx: Int32Array, rows: Tensor): Tensor {
  checkIndices("scatterRows", idx, x.shape[0]);
  const C = x.size / Math.max(x.shape[0], 1);
  if (rows.shape[0] !== idx.length || rows.size !== idx.length * C) {
    throw new OpError("scatterRows", `rows ${fmt(rows.shape)} do not match ${idx.length} indices of rows of x ${fmt(x.shape)}`);
  }
  const seen = new Uint8Array(x.shape[0]);
  for (const i of idx) {
    if (seen[i]) throw new OpError("scatterRows", `index ${i} repeated: scatter would be ambiguous`);
    seen[i] = 1;
  }
  const out = new Tensor(x.data.slice(), x.shape);
  for (let i = 0; i < idx.length; i++) out.data.set(rows.data.subarray(i * C, (i + 1) * C), idx[i] * C);
  return record(out, "scatterRows", [x, rows], (g) => {
    const dx = new Tensor(g.data.slice(), x.shape);
    for (const i of idx) dx.data.fill(0, i * C, (i + 1) * C);
    const dr = Tensor.zeros(rows.shape);
    K().gatherRows(dr.data, g.data, idx, idx.length, C);
    return [dx, dr];
  });
}
