// Element-wise ops against float64 references and finite differences, on every kernel set.
import { beforeAll, describe, expect, it } from "vitest";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import * as T from "../../src/tensor/index.js";
import { checkOp } from "../helpers/gradcheck.js";
import { gelu64 } from "../helpers/ref64.js";
import { randArray } from "../helpers/random.js";

/** out = f(a, b) with numpy broadcasting, in float64. */
function broadcast64(f: (x: number, y: number) => number, a: Float64Array, as: number[], b: Float64Array, bs: number[]): Float64Array {
  const n = Math.max(as.length, bs.length);
  const pa = [...Array(n - as.length).fill(1), ...as], pb = [...Array(n - bs.length).fill(1), ...bs];
  const os = pa.map((d, i) => Math.max(d, pb[i]));
  const total = os.reduce((x, y) => x * y, 1);
  const out = new Float64Array(total);
  const idx = new Array(n).fill(0);
  for (let lin = 0; lin < total; lin++) {
    let r = lin;
    for (let d = n - 1; d >= 0; d--) { idx[d] = r % os[d]; r = Math.floor(r / os[d]); }
    let ia = 0, ib = 0;
    for (let d = 0; d < n; d++) {
      ia = ia * pa[d] + (pa[d] === 1 ? 0 : idx[d]);
      ib = ib * pb[d] + (pb[d] === 1 ? 0 : idx[d]);
    }
    out[lin] = f(a[ia], b[ib]);
  }
  return out;
}

describe.each(availableKernelSets())("element-wise ops (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });

  const shapes: [number[], number[]][] = [
    [[3, 4], [3, 4]], [[2, 3, 4], [4]], [[2, 1, 4], [3, 1]], [[1], [5, 2]], [[7], []], [[2, 3], [2, 1]],
  ];
  const fns = {
    add: [T.add, (x: number, y: number) => x + y],
    sub: [T.sub, (x: number, y: number) => x - y],
    mul: [T.mul, (x: number, y: number) => x * y],
    div: [T.div, (x: number, y: number) => x / y],
  } as const;
  for (const [name, [op, f]] of Object.entries(fns)) {
    it.each(shapes)(`${name} broadcasts %j with %j`, (as, bs) => {
      const na = as.reduce((x, y) => x * y, 1), nb = bs.reduce((x, y) => x * y, 1);
      const bData = randArray(nb, 2, name === "div" ? 0.5 : -1, name === "div" ? 2 : 1);
      checkOp({
        label: `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`,
        inputs: [{ shape: as, data: randArray(na, 1) }, { shape: bs, data: bData }],
        op: ([a, b]) => op(a, b),
        ref: ([a, b]) => broadcast64(f, a, as, b, bs),
      });
    });
  }

  const unaries: [string, (x: T.Tensor) => T.Tensor, (x: number) => number, number, number][] = [
    ["exp", T.exp, Math.exp, -3, 3],
    ["log", T.log, Math.log, 0.1, 4],
    ["sqrt", T.sqrt, Math.sqrt, 0.1, 4],
    ["rsqrt", T.rsqrt, (x) => 1 / Math.sqrt(x), 0.2, 4],
    ["sigmoid", T.sigmoid, (x) => 1 / (1 + Math.exp(-x)), -8, 8],
    ["tanh", T.tanh, Math.tanh, -4, 4],
    ["silu", T.silu, (x) => x / (1 + Math.exp(-x)), -6, 6],
    ["relu", T.relu, (x) => Math.max(0, x), -2, 2],
    ["square", T.square, (x) => x * x, -3, 3],
    ["neg", T.neg, (x) => -x, -3, 3],
    ["gelu tanh", (x) => T.gelu(x, "tanh"), (x) => gelu64(x, "tanh"), -5, 5],
    ["gelu erf", (x) => T.gelu(x, "erf"), (x) => gelu64(x, "erf"), -5, 5],
    ["affine", (x) => T.affine(x, -2.5, 0.75), (x) => -2.5 * x + 0.75, -3, 3],
  ];
  it.each(unaries)("%s", (name, op, f, lo, hi) => {
    checkOp({
      label: name,
      inputs: [{ shape: [5, 7], data: randArray(35, 3, lo, hi) }],
      op: ([x]) => op(x),
      ref: ([x]) => x.map(f),
    });
  });

  it("sigmoid, silu and gelu stay finite at extreme inputs", () => {
    const x = T.Tensor.from([-1e4, -80, -20, 0, 20, 80, 1e4]);
    for (const op of [T.sigmoid, T.silu, (t: T.Tensor) => T.gelu(t, "tanh"), (t: T.Tensor) => T.gelu(t, "erf")]) {
      expect(op(x).toArray().every(Number.isFinite)).toBe(true);
    }
    expect(T.sigmoid(x).toArray()[0]).toBe(0);
    expect(T.silu(x).toArray()[6]).toBe(1e4);
  });

  it("swiglu equals silu(gate) * up", () => {
    checkOp({
      label: "swiglu",
      inputs: [{ shape: [3, 8], data: randArray(24, 4, -4, 4) }, { shape: [3, 8], data: randArray(24, 5) }],
      op: ([g, u]) => T.swiglu(g, u),
      ref: ([g, u]) => g.map((x, i) => (x / (1 + Math.exp(-x))) * u[i]),
    });
  });

  it("maximum routes the gradient to the larger operand", () => {
    checkOp({
      label: "maximum",
      inputs: [{ shape: [4, 3], data: randArray(12, 6) }, { shape: [3], data: randArray(3, 7) }],
      op: ([a, b]) => T.maximum(a, b),
      ref: ([a, b]) => a.map((x, i) => Math.max(x, b[i % 3])),
    });
  });

  it("where selects and splits the gradient", () => {
    const cond = Uint8Array.from([1, 0, 0, 1, 1, 0]);
    checkOp({
      label: "where",
      inputs: [{ shape: [2, 3], data: randArray(6, 8) }, { shape: [2, 3], data: randArray(6, 9) }],
      op: ([a, b]) => T.where(cond, a, b),
      ref: ([a, b]) => a.map((x, i) => (cond[i] ? x : b[i])),
    });
  });

  it("dropout zeroes about p and rescales the rest; p = 0 is the identity", () => {
    const x = T.Tensor.full([10000], 1);
    const y = T.dropout(x, 0.25, new T.Rng(1));
    const zeros = y.toArray().filter((v) => v === 0).length;
    expect(zeros / 10000).toBeGreaterThan(0.22);
    expect(zeros / 10000).toBeLessThan(0.28);
    expect(y.toArray().filter((v) => v !== 0).every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    expect(T.dropout(x, 0, new T.Rng(1))).toBe(x);
  });

  it("a tensor used twice accumulates both gradients", () => {
    const x = T.Tensor.from([1, 2, 3]);
    x.requiresGrad = true;
    const y = T.sum(T.add(T.mul(x, x), x)); // d/dx = 2x + 1
    y.backward();
    expect(x.grad?.toArray()).toEqual([3, 5, 7]);
  });

  it("mismatched shapes raise an error naming the op and shapes", () => {
    expect(() => T.add(T.Tensor.zeros([2, 3]), T.Tensor.zeros([4]))).toThrow(/add: shapes \(2, 3\) and \(4\) cannot be broadcast/);
    expect(() => T.swiglu(T.Tensor.zeros([2]), T.Tensor.zeros([3]))).toThrow(/swiglu/);
    expect(() => T.dropout(T.Tensor.zeros([2]), 1, new T.Rng(0))).toThrow(/dropout: p must be/);
  });
});
