// Norms, RoPE, fused attention, gather/scatter and losses against float64 references and
// finite differences, on every kernel set.
import { beforeAll, describe, expect, it } from "vitest";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import * as T from "../../src/tensor/index.js";
import { checkOp } from "../helpers/gradcheck.js";
import { attention64, crossEntropy64, layerNorm64, rmsNorm64, rope64, softmaxRows64 } from "../helpers/ref64.js";
import { randArray } from "../helpers/random.js";

describe.each(availableKernelSets())("norms, rope, attention, gather, losses (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });

  it("rmsNorm and layerNorm", () => {
    const [N, C] = [5, 33];
    checkOp({
      label: "rmsNorm",
      inputs: [{ shape: [N, C], data: randArray(N * C, 1, -2, 2) }, { shape: [C], data: randArray(C, 2, 0.5, 1.5) }],
      op: ([x, w]) => T.rmsNorm(x, w, 1e-5), ref: ([x, w]) => rmsNorm64(x, w, N, C, 1e-5),
    });
    checkOp({
      label: "layerNorm",
      inputs: [{ shape: [N, C], data: randArray(N * C, 3, -2, 2) }, { shape: [C], data: randArray(C, 4, 0.5, 1.5) }, { shape: [C], data: randArray(C, 5) }],
      op: ([x, w, b]) => T.layerNorm(x, w, b, 1e-5), ref: ([x, w, b]) => layerNorm64(x, w, b, N, C, 1e-5),
    });
    expect(() => T.rmsNorm(T.Tensor.zeros([2, 4]), T.Tensor.zeros([3]), 1e-5)).toThrow(/rmsNorm: weight \(3\) does not match/);
  });

  it("rope with arbitrary position ids (HF rotate-half) and its inverse as backward", () => {
    const [B, Tn, NH, HS] = [2, 3, 2, 8];
    const pos = Int32Array.from([0, 5, 17, 3, 4, 1000]);
    checkOp({
      label: "rope",
      inputs: [{ shape: [B, Tn, NH, HS], data: randArray(B * Tn * NH * HS, 6) }],
      op: ([x]) => T.rope(x, pos, 10000), ref: ([x]) => rope64(x, pos, B * Tn, NH, HS, 10000),
    });
    expect(() => T.rope(T.Tensor.zeros([1, 2, 1, 4]), Int32Array.of(0), 1e4)).toThrow(/rope: pos has 1 ids/);
  });

  interface AttnCase { label: string; B: number; Tq: number; Tk: number; NH: number; NKV: number; HS: number;
    ranges?: (b: number, t: number) => [number, number]; bias?: "key" | "query"; }
  const cases: AttnCase[] = [
    { label: "causal", B: 2, Tq: 5, Tk: 5, NH: 2, NKV: 2, HS: 4 },
    { label: "GQA + decode offset", B: 1, Tq: 2, Tk: 7, NH: 4, NKV: 2, HS: 3 },
    { label: "VoCo-style prefix block + hidden row", B: 2, Tq: 6, Tk: 6, NH: 2, NKV: 1, HS: 4,
      ranges: (b, t) => (b === 1 && t === 0 ? [0, 0] : t >= 4 ? [2, t + 1] : [0, t + 1]) },
    { label: "key bias", B: 2, Tq: 4, Tk: 4, NH: 2, NKV: 2, HS: 4, bias: "key" },
    { label: "query bias, full", B: 1, Tq: 3, Tk: 5, NH: 3, NKV: 1, HS: 2, bias: "query", ranges: () => [0, 5] },
  ];
  it.each(cases)("attention: $label", (c) => {
    const { B, Tq, Tk, NH, NKV, HS } = c;
    const keyLo = new Int32Array(B * Tq), keyHi = new Int32Array(B * Tq);
    for (let b = 0; b < B; b++) for (let t = 0; t < Tq; t++) {
      [keyLo[b * Tq + t], keyHi[b * Tq + t]] = c.ranges ? c.ranges(b, t) : [0, Tk - Tq + t + 1];
    }
    const inputs = [
      { shape: [B, Tq, NH, HS], data: randArray(B * Tq * NH * HS, 7, -2, 2) },
      { shape: [B, Tk, NKV, HS], data: randArray(B * Tk * NKV * HS, 8, -2, 2) },
      { shape: [B, Tk, NKV, HS], data: randArray(B * Tk * NKV * HS, 9) },
    ];
    const biasShape = c.bias === "query" ? [B, Tq, Tk] : [B, Tk];
    if (c.bias) inputs.push({ shape: biasShape, data: randArray(biasShape.reduce((a, b) => a * b), 10, -2, 1) });
    checkOp({
      label: `attention ${c.label}`,
      inputs,
      op: ([q, k, v, bias]) => T.attention(q, k, v, { keyLo, keyHi, bias }).out,
      ref: ([q, k, v, bias]) => attention64({ q, k, v, bias, biasPerQuery: c.bias === "query", B, Tq, Tk, NH, NKV, HS, keyLo, keyHi }).out,
    });
    const q = T.Tensor.from(inputs[0].data, inputs[0].shape), k = T.Tensor.from(inputs[1].data, inputs[1].shape);
    const v = T.Tensor.from(inputs[2].data, inputs[2].shape);
    const bias = c.bias ? T.Tensor.from(inputs[3].data, biasShape) : undefined;
    const { probs } = T.attention(q, k, v, { keyLo, keyHi, bias, returnProbs: true });
    const ref = attention64({ q: Float64Array.from(q.data), k: Float64Array.from(k.data), v: Float64Array.from(v.data),
      bias: bias && Float64Array.from(bias.data), biasPerQuery: c.bias === "query", B, Tq, Tk, NH, NKV, HS, keyLo, keyHi });
    const p = probs?.data ?? new Float32Array(0);
    expect(p.length).toBe(ref.probs.length);
    for (let i = 0; i < p.length; i++) expect(Math.abs(p[i] - ref.probs[i])).toBeLessThan(1e-5);
  });

  it("attention rejects inconsistent shapes and ranges", () => {
    const q = T.Tensor.zeros([1, 2, 3, 4]), k = T.Tensor.zeros([1, 2, 2, 4]);
    expect(() => T.attention(q, k, k)).toThrow(/attention: incompatible/);
    const k3 = T.Tensor.zeros([1, 2, 3, 4]);
    expect(() => T.attention(q, k3, k3, { keyLo: new Int32Array(1), keyHi: new Int32Array(1) })).toThrow(/need B\*Tq = 2/);
    expect(() => T.attention(q, k3, k3, { bias: T.Tensor.zeros([1, 3]) })).toThrow(/bias \(1, 3\) must be/);
  });

  it("gather with repeated indices, embedding, scatterRows", () => {
    const idx = Int32Array.from([2, 0, 2, 2, 1]);
    checkOp({
      label: "gatherRows", inputs: [{ shape: [3, 4], data: randArray(12, 11) }], op: ([x]) => T.gatherRows(x, idx),
      ref: ([x]) => { const o = new Float64Array(20); idx.forEach((r, i) => o.set(x.subarray(r * 4, r * 4 + 4), i * 4)); return o; },
    });
    const rows = Int32Array.from([3, 1]);
    checkOp({
      label: "scatterRows", inputs: [{ shape: [4, 3], data: randArray(12, 12) }, { shape: [2, 3], data: randArray(6, 13) }],
      op: ([x, r]) => T.scatterRows(x, rows, r),
      ref: ([x, r]) => { const o = x.slice(); rows.forEach((row, i) => o.set(r.subarray(i * 3, i * 3 + 3), row * 3)); return o; },
    });
    expect(() => T.embedding(T.Tensor.zeros([5, 2]), Int32Array.of(1, 5))).toThrow(/embedding: index 5 at position 1 out of range \[0, 5\)/);
    expect(() => T.gatherRows(T.Tensor.zeros([5, 2]), Int32Array.of(-1))).toThrow(/out of range/);
    expect(() => T.embedding(T.Tensor.zeros([5, 2]), Float32Array.of(1.5) as unknown as Int32Array)).toThrow(/embedding: indices must be an Int32Array, got Float32Array/);
    expect(() => T.scatterRows(T.Tensor.zeros([3, 2]), Int32Array.of(1, 1), T.Tensor.zeros([2, 2]))).toThrow(/repeated/);
  });

  it("cross-entropy with ignored rows, and all rows ignored", () => {
    const [N, V] = [6, 7];
    const targets = Int32Array.from([3, -100, 0, 6, -100, 2]);
    checkOp({
      label: "crossEntropy", inputs: [{ shape: [2, 3, V], data: randArray(N * V, 14, -3, 3) }],
      op: ([x]) => T.crossEntropy(x, targets), ref: ([x]) => Float64Array.of(crossEntropy64(x, targets, N, V)),
    });
    const x = T.Tensor.zeros([2, V], true);
    const l = T.crossEntropy(x, Int32Array.from([-100, -100]));
    expect(l.item()).toBe(0);
    l.backward();
    expect(x.grad?.toArray().every((g) => g === 0)).toBe(true);
    expect(() => T.crossEntropy(x, Int32Array.from([7, 0]))).toThrow(/crossEntropy: index 7/);
    expect(() => T.crossEntropy(x, Int32Array.from([1]))).toThrow(/1 targets for 2 rows/);
    expect(() => T.crossEntropy(x, [1, 2] as unknown as Int32Array)).toThrow(/crossEntropy: indices must be an Int32Array, got Array/);
  });

  it("KL divergence against a fixed teacher, with a row mask and temperature", () => {
    const [N, V] = [4, 5];
    const teacher = randArray(N * V, 15, -2, 2);
    const mask = Uint8Array.from([1, 0, 1, 1]);
    const tau = 2;
    checkOp({
      label: "klDivergence", inputs: [{ shape: [N, V], data: randArray(N * V, 16, -2, 2) }],
      op: ([s]) => T.klDivergence(s, T.Tensor.from(teacher, [N, V]), tau, mask),
      ref: ([s]) => {
        const ls = softmaxRows64(s.map((v) => v / tau), N, V, true), lt = softmaxRows64(Float64Array.from(Float32Array.from(teacher)).map((v) => v / tau), N, V, true);
        let kl = 0;
        for (let n = 0; n < N; n++) if (mask[n]) for (let v = 0; v < V; v++) kl += Math.exp(lt[n * V + v]) * (lt[n * V + v] - ls[n * V + v]);
        return Float64Array.of((kl * tau * tau) / 3);
      },
    });
  });
});
