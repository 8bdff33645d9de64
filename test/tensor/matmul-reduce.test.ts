// matmul (every transpose form, batching, broadcasting), reductions, softmax and shape ops.
import { beforeAll, describe, expect, it } from "vitest";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import * as T from "../../src/tensor/index.js";
import { checkOp } from "../helpers/gradcheck.js";
import { matmul64, softmaxRows64 } from "../helpers/ref64.js";
import { randArray } from "../helpers/random.js";

describe.each(availableKernelSets())("matmul (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });
  const forms: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
  it.each(forms)("2-d, transA=%s transB=%s, awkward sizes", (tA, tB) => {
    for (const [M, K, N] of [[1, 1, 1], [7, 33, 5], [3, 1, 9], [13, 8, 1]]) {
      checkOp({
        label: `matmul ${M}x${K}x${N} ${tA} ${tB}`,
        inputs: [{ shape: tA ? [K, M] : [M, K], data: randArray(M * K, 1) }, { shape: tB ? [N, K] : [K, N], data: randArray(K * N, 2) }],
        op: ([a, b]) => T.matmul(a, b, { transA: tA, transB: tB }),
        ref: ([a, b]) => matmul64(a, b, M, K, N, tA, tB),
      });
    }
  });

  function batched64(a: Float64Array, b: Float64Array, batch: number, M: number, K: number, N: number,
    tA: boolean, tB: boolean, aBatched: boolean, bBatched: boolean): Float64Array {
    const out = new Float64Array(batch * M * N);
    for (let i = 0; i < batch; i++) {
      const ai = aBatched ? a.subarray(i * M * K, (i + 1) * M * K) : a;
      const bi = bBatched ? b.subarray(i * K * N, (i + 1) * K * N) : b;
      out.set(matmul64(ai, bi, M, K, N, tA, tB), i * M * N);
    }
    return out;
  }

  it.each(forms)("batched and broadcast, transA=%s transB=%s", (tA, tB) => {
    const [B, M, K, N] = [3, 4, 5, 6];
    const aS = tA ? [K, M] : [M, K], bS = tB ? [N, K] : [K, N];
    for (const [aB, bB] of [[true, true], [true, false], [false, true]]) {
      checkOp({
        label: `batched a${aB} b${bB}`,
        inputs: [
          { shape: aB ? [B, ...aS] : aS, data: randArray((aB ? B : 1) * M * K, 3) },
          { shape: bB ? [B, ...bS] : bS, data: randArray((bB ? B : 1) * K * N, 4) },
        ],
        op: ([a, b]) => T.matmul(a, b, { transA: tA, transB: tB }),
        ref: ([a, b]) => batched64(a, b, B, M, K, N, tA, tB, aB, bB),
      });
    }
  });

  it("rejects mismatched inner dimensions, naming the shapes", () => {
    expect(() => T.matmul(T.Tensor.zeros([2, 3]), T.Tensor.zeros([4, 5]))).toThrow(/matmul: inner dimensions differ: a \(2, 3\) has 3, b \(4, 5\) has 4/);
    expect(() => T.matmul(T.Tensor.zeros([2, 2, 3]), T.Tensor.zeros([3, 3, 5]))).toThrow(/batch dimensions differ/);
  });
});

describe.each(availableKernelSets())("reductions, softmax, shape ops (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });
  const shape = [3, 4, 5];
  const n = 60;
  function reduce64(x: Float64Array, axis: number, f: (v: number[]) => number): Float64Array {
    const [, d1, d2] = shape;
    const outShape = shape.filter((_, i) => i !== axis);
    const out = new Float64Array(outShape[0] * outShape[1]);
    for (let o = 0; o < out.length; o++) {
      const vals: number[] = [];
      const a = Math.floor(o / outShape[1]), b = o % outShape[1];
      for (let r = 0; r < shape[axis]; r++) {
        const idx = axis === 0 ? [r, a, b] : axis === 1 ? [a, r, b] : [a, b, r];
        vals.push(x[(idx[0] * d1 + idx[1]) * d2 + idx[2]]);
      }
      out[o] = f(vals);
    }
    return out;
  }
  it.each([0, 1, 2, -1])("sum, mean and max over axis %i", (axis) => {
    const ax = axis < 0 ? axis + 3 : axis;
    const data = randArray(n, 5);
    checkOp({ label: "sum", inputs: [{ shape, data }], op: ([x]) => T.sum(x, axis), ref: ([x]) => reduce64(x, ax, (v) => v.reduce((a, b) => a + b)) });
    checkOp({ label: "mean", inputs: [{ shape, data }], op: ([x]) => T.mean(x, axis), ref: ([x]) => reduce64(x, ax, (v) => v.reduce((a, b) => a + b) / v.length) });
    checkOp({ label: "max", inputs: [{ shape, data }], op: ([x]) => T.max(x, axis), ref: ([x]) => reduce64(x, ax, (v) => Math.max(...v)) });
  });

  it("sum of everything, with and without keepDims", () => {
    checkOp({ label: "sum all", inputs: [{ shape, data: randArray(n, 6) }], op: ([x]) => T.sum(x), ref: ([x]) => Float64Array.of(x.reduce((a, b) => a + b)) });
    expect(T.mean(T.Tensor.zeros([2, 3]), undefined, true).shape).toEqual([1, 1]);
    expect(T.sum(T.Tensor.zeros([2, 3]), 1, true).shape).toEqual([2, 1]);
  });

  it("softmax and log-softmax over the last axis, including rows hidden by -inf", () => {
    const data = randArray(4 * 9, 7, -5, 5);
    checkOp({ label: "softmax", inputs: [{ shape: [4, 9], data }], op: ([x]) => T.softmax(x), ref: ([x]) => softmaxRows64(x, 4, 9) });
    checkOp({ label: "logSoftmax", inputs: [{ shape: [4, 9], data }], op: ([x]) => T.logSoftmax(x), ref: ([x]) => softmaxRows64(x, 4, 9, true) });
    const masked = T.Tensor.from([-Infinity, -Infinity, 1, -Infinity, 2, 3], [2, 3]);
    masked.requiresGrad = true;
    const y = T.softmax(masked);
    expect(Array.from(y.data.subarray(0, 3))).toEqual([0, 0, 1]);
    y.backward(T.Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]));
    expect(masked.grad?.toArray().every(Number.isFinite)).toBe(true);
    const allHidden = T.softmax(T.Tensor.from([-Infinity, -Infinity]));
    expect(allHidden.toArray()).toEqual([0, 0]);
  });

  it("permute, transpose, slice, concat and reshape move data and gradients exactly", () => {
    const data = randArray(n, 8);
    const at = (x: Float64Array, i: number, j: number, l: number) => x[(i * 4 + j) * 5 + l];
    checkOp({
      label: "permute", inputs: [{ shape, data }], op: ([x]) => T.permute(x, [2, 0, 1]),
      ref: ([x]) => { const o = new Float64Array(n); let k = 0; for (let l = 0; l < 5; l++) for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) o[k++] = at(x, i, j, l); return o; },
    });
    checkOp({
      label: "transpose", inputs: [{ shape, data }], op: ([x]) => T.transpose(x, 0, 1),
      ref: ([x]) => { const o = new Float64Array(n); let k = 0; for (let j = 0; j < 4; j++) for (let i = 0; i < 3; i++) for (let l = 0; l < 5; l++) o[k++] = at(x, i, j, l); return o; },
    });
    checkOp({
      label: "slice", inputs: [{ shape, data }], op: ([x]) => T.slice(x, 1, 1, 3),
      ref: ([x]) => { const o: number[] = []; for (let i = 0; i < 3; i++) for (let j = 1; j < 3; j++) for (let l = 0; l < 5; l++) o.push(at(x, i, j, l)); return Float64Array.from(o); },
    });
    const d2 = randArray(3 * 2 * 5, 9);
    checkOp({
      label: "concat", inputs: [{ shape, data }, { shape: [3, 2, 5], data: d2 }], op: ([x, y]) => T.concat([x, y], 1),
      ref: ([x, y]) => { const o: number[] = []; for (let i = 0; i < 3; i++) { for (let j = 0; j < 4; j++) for (let l = 0; l < 5; l++) o.push(at(x, i, j, l)); for (let j = 0; j < 2; j++) for (let l = 0; l < 5; l++) o.push(y[(i * 2 + j) * 5 + l]); } return Float64Array.from(o); },
    });
    checkOp({ label: "reshape", inputs: [{ shape, data }], op: ([x]) => T.mul(T.reshape(x, [12, -1]), T.reshape(x, [12, 5])), ref: ([x]) => x.map((v) => v * v) });
  });

  it("shape errors name the op and the shapes", () => {
    const x = T.Tensor.zeros([2, 3]);
    expect(() => T.reshape(x, [4, 2])).toThrow(/reshape: \(2, 3\) \(6 elements\) cannot become \(4, 2\)/);
    expect(() => T.slice(x, 1, 2, 5)).toThrow(/slice: range \[2, 5\) out of bounds/);
    expect(() => T.concat([x, T.Tensor.zeros([3, 3])], 1)).toThrow(/concat/);
    expect(() => T.permute(x, [0, 0])).toThrow(/permute/);
    expect(() => T.sum(x, 2)).toThrow(/sum: axis 2 out of range/);
    expect(() => new T.Tensor(new Float32Array(5), [2, 3])).toThrow(/data has 5 elements, shape \(2, 3\) needs 6/);
  });
});
