// Cross-check of the two kernel sets: every kernel runs on the same seeded inputs (sizes that are not
// tile multiples) through the TS reference set and the native set; the max difference per kernel is
// printed and must stay within the kernel's tolerance (see native.test.ts for why each is what it is:
// the TS set accumulates in double, the native set in float32 vectors).
import { afterAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernel.js";
import { loadNativeKernels } from "../../src/kernels/native.js";
import { tsKernels } from "../../src/kernels/ts/index.js";
import { Rng } from "../../src/tensor/random.js";
import { closeness, type Tol } from "../helpers/allclose.js";

const loaded = loadNativeKernels();
const native = "error" in loaded ? null : loaded.kernels;

function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r.uniform());
}
const ints = (xs: number[]): Int32Array => Int32Array.from(xs);

/** One kernel call: fresh inputs each run (outputs may accumulate), returns every output buffer. */
interface Case {
  name: string;
  tol: Tol;
  run(K: Kernels): (Float32Array | Int32Array | number)[];
}

const cases: Case[] = [];
const matmulShapes: [number, number, number, number][] = [[1, 7, 33, 5], [1, 65, 70, 129], [3, 33, 17, 9], [1, 1, 257, 33]];
for (const [batch, M, N, K] of matmulShapes) for (const ta of [false, true]) for (const tb of [false, true]) {
  cases.push({
    name: `matmul ${batch}x${M}x${N}x${K} ${ta ? "T" : "N"}${tb ? "T" : "N"}`,
    tol: { rtol: 1e-5, atol: 2e-6 * Math.sqrt(K) },
    run: (k) => {
      const c = rand(batch * M * N, 3);
      k.matmul(c, rand(batch * M * K, 1), rand(K * N, 2), batch, M, N, K, ta, tb, M * K, 0, 0.5, 1);
      return [c];
    },
  });
}
const unaryOps = ["exp", "log", "sqrt", "neg", "sigmoid", "tanh", "silu", "geluTanh", "geluErf", "relu", "rsqrt",
  "abs", "square"] as const;
for (const op of unaryOps) {
  const positive = op === "log" || op === "sqrt" || op === "rsqrt";
  cases.push({
    name: `unary+backward ${op}`,
    tol: { rtol: 2e-5, atol: 1e-6 },
    run: (k) => {
      const n = 1037, x = rand(n, 10, positive ? 0.05 : -8, positive ? 5 : 8), y = new Float32Array(n), dx = rand(n, 11);
      k.unary(op, y, x, n);
      k.unaryBackward(op, dx, rand(n, 12), x, y, n);
      return [y, dx];
    },
  });
}
for (const op of ["add", "sub", "mul", "div", "max", "min"] as const) {
  cases.push({
    name: `binary ${op}`,
    tol: { rtol: 0, atol: 0 },
    run: (k) => {
      const out = new Float32Array(2 * 3 * 33);
      k.binary(op, out, rand(3 * 33, 20), rand(2 * 33, 21, 0.5, 2), ints([2, 3, 33]), ints([0, 33, 1]), ints([33, 0, 1]));
      return [out];
    },
  });
}
cases.push(
  { name: "affine", tol: { rtol: 0, atol: 0 }, run: (k) => { const o = new Float32Array(999); k.affine(o, rand(999, 30), 999, 0.37, -1.5); return [o]; } },
  { name: "axpy", tol: { rtol: 0, atol: 0 }, run: (k) => { const o = rand(999, 31); k.axpy(o, rand(999, 32), 999, -0.3); return [o]; } },
  {
    name: "copyStrided", tol: { rtol: 0, atol: 0 },
    run: (k) => { const o = new Float32Array(60); k.copyStrided(o, rand(60, 33), ints([3, 4, 5]), ints([1, 15, 3])); return [o]; },
  },
  {
    name: "accumulateStrided", tol: { rtol: 0, atol: 0 },
    run: (k) => { const o = rand(15, 34); k.accumulateStrided(o, rand(60, 35), ints([3, 4, 5]), ints([5, 0, 1])); return [o]; },
  },
  {
    name: "sumAxis", tol: { rtol: 1e-6, atol: 1e-7 },
    run: (k) => { const o = new Float32Array(2 * 7); k.sumAxis(o, rand(2 * 257 * 7, 36), 2, 257, 7, 0.25); return [o]; },
  },
  {
    name: "maxAxis", tol: { rtol: 0, atol: 0 },
    run: (k) => { const o = new Float32Array(21), a = new Int32Array(21); k.maxAxis(o, a, rand(3 * 33 * 7, 37), 3, 33, 7); return [o, a]; },
  },
  { name: "sumSquares", tol: { rtol: 1e-12, atol: 0 }, run: (k) => [k.sumSquares(rand(100_003, 38), 100_003)] },
);
for (const log of [false, true]) {
  cases.push({
    name: `softmax+backward log=${log}`, tol: { rtol: 1e-5, atol: 1e-6 },
    run: (k) => {
      const N = 6, C = 257, x = rand(N * C, 40, -6, 6), y = new Float32Array(N * C), dx = rand(N * C, 41);
      x.fill(-Infinity, 0, C);
      k.softmaxForward(y, x, N, C, log);
      k.softmaxBackward(dx, rand(N * C, 42), y, N, C, log);
      return [y, dx];
    },
  });
}
cases.push(
  {
    name: "rmsNorm+backward", tol: { rtol: 1e-5, atol: 1e-5 },
    run: (k) => {
      const N = 9, C = 257, x = rand(N * C, 50, -2, 2), w = rand(C, 51), y = new Float32Array(N * C), r = new Float32Array(N);
      const dx = rand(N * C, 52), dw = rand(C, 53);
      k.rmsNormForward(y, r, x, w, N, C, 1e-6);
      k.rmsNormBackward(dx, dw, rand(N * C, 54), x, w, r, N, C);
      return [y, r, dx, dw];
    },
  },
  {
    name: "layerNorm+backward", tol: { rtol: 1e-5, atol: 2e-5 },
    run: (k) => {
      const N = 9, C = 193, x = rand(N * C, 55, -2, 3), w = rand(C, 56), b = rand(C, 57);
      const y = new Float32Array(N * C), mu = new Float32Array(N), r = new Float32Array(N);
      const dx = rand(N * C, 58), dw = rand(C, 59), db = rand(C, 60);
      k.layerNormForward(y, mu, r, x, w, b, N, C, 1e-5);
      k.layerNormBackward(dx, dw, db, rand(N * C, 61), x, w, mu, r, N, C);
      return [y, mu, r, dx, dw, db];
    },
  },
  {
    name: "rope fwd+inverse", tol: { rtol: 1e-5, atol: 1e-6 },
    run: (k) => {
      const BT = 7, NH = 3, HS = 64, x = rand(BT * NH * HS, 62), pos = ints([0, 1, 2, 639, 5, 100, 3]);
      const y = new Float32Array(x.length), z = new Float32Array(x.length);
      k.rope(y, x, pos, BT, NH, HS, 10000, false);
      k.rope(z, x, pos, BT, NH, HS, 500000, true);
      return [y, z];
    },
  },
  {
    name: "gather+scatterAdd", tol: { rtol: 0, atol: 0 },
    run: (k) => {
      const C = 33, idx = ints([4, 0, 4, 9, 1]), g = new Float32Array(5 * C), s = rand(10 * C, 63);
      k.gatherRows(g, rand(10 * C, 64), idx, 5, C);
      k.scatterAddRows(s, g, idx, 5, C);
      return [g, s];
    },
  },
  {
    name: "crossEntropy+backward", tol: { rtol: 1e-5, atol: 2e-6 },
    run: (k) => {
      const N = 9, V = 257, logits = rand(N * V, 65, -5, 5), t = ints([3, -100, 0, 256, 7, 7, -100, 100, 1]);
      const loss = new Float32Array(N), lse = new Float32Array(N), d = rand(N * V, 66);
      k.crossEntropyForward(loss, lse, logits, t, N, V, -100);
      k.crossEntropyBackward(d, rand(N, 67), logits, lse, t, N, V, -100);
      return [loss, lse, d];
    },
  },
  {
    name: "swiglu+backward", tol: { rtol: 1e-5, atol: 1e-6 },
    run: (k) => {
      const n = 1031, g = rand(n, 68, -8, 8), u = rand(n, 69), o = new Float32Array(n), dg = rand(n, 70), du = rand(n, 71);
      k.swigluForward(o, g, u, n);
      k.swigluBackward(dg, du, rand(n, 72), g, u, n);
      return [o, dg, du];
    },
  },
  {
    name: "adamwStep", tol: { rtol: 0, atol: 0 },
    run: (k) => {
      const n = 4099, p = rand(n, 73), m = rand(n, 74, -0.01, 0.01), v = rand(n, 75, 0, 1e-4);
      k.adamwStep(p, rand(n, 76), m, v, n, 3e-4, 0.9, 0.95, 1e-8, 0.1, 1 - 0.9 ** 7, 1 - 0.95 ** 7);
      return [p, m, v];
    },
  },
);
for (const [B, Tq, Tk, NH, NKV, HS, perQuery, withBias] of [
  [2, 70, 70, 4, 2, 16, false, true], [1, 45, 80, 2, 1, 33, true, true], [1, 1, 130, 4, 4, 64, false, false],
] as const) {
  cases.push({
    name: `attention+backward B=${B} Tq=${Tq} Tk=${Tk} NH=${NH} NKV=${NKV} HS=${HS}${withBias ? (perQuery ? " bias/query" : " bias/key") : ""}`,
    tol: { rtol: 1e-4, atol: 3e-5 },
    run: (k) => {
      const q = rand(B * Tq * NH * HS, 80), kk = rand(B * Tk * NKV * HS, 81), v = rand(B * Tk * NKV * HS, 82);
      const bias = withBias ? rand(B * (perQuery ? Tq : 1) * Tk, 83, -2, 2) : null;
      const lo = new Int32Array(B * Tq), hi = new Int32Array(B * Tq);
      for (let i = 0; i < B * Tq; i++) { const t = i % Tq; lo[i] = t % 5 === 3 ? t : 0; hi[i] = Tk - Tq + t + 1; }
      lo[1] = hi[1] = 0; // a query that sees nothing
      const out = new Float32Array(q.length), lse = new Float32Array(B * NH * Tq), probs = new Float32Array(B * NH * Tq * Tk);
      const scale = 1 / Math.sqrt(HS);
      k.attentionForward(out, lse, probs, q, kk, v, bias, lo, hi, B, Tq, Tk, NH, NKV, HS, scale, perQuery);
      const dq = rand(q.length, 84), dk = rand(kk.length, 85), dv = rand(v.length, 86);
      const db = bias === null ? null : rand(bias.length, 87);
      k.attentionBackward(dq, dk, dv, db, rand(q.length, 88), out, lse, q, kk, v, bias, lo, hi, B, Tq, Tk, NH, NKV, HS,
        scale, perQuery);
      return db === null ? [out, lse, probs, dq, dk, dv] : [out, lse, probs, dq, dk, dv, db];
    },
  });
}

describe.skipIf(native === null)("native kernels vs TS kernels", () => {
  const rows: string[] = [];
  afterAll(() => {
    console.log(`native vs ts, max |diff| per kernel (and the worst diff relative to its tolerance):\n${rows.join("\n")}`);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const a = c.run(tsKernels), b = c.run(native!);
    let maxAbs = 0, worst = 0;
    a.forEach((x, i) => {
      const y = b[i];
      const xs = typeof x === "number" ? [x] : x, ys = typeof y === "number" ? [y] : y;
      const r = closeness(ys, xs, c.tol);
      maxAbs = Math.max(maxAbs, r.maxAbs);
      worst = Math.max(worst, r.worst);
    });
    rows.push(`  ${c.name.padEnd(64)} ${maxAbs.toExponential(2).padStart(9)}   ${worst.toFixed(3)}`);
    expect(worst, `${c.name}: max |diff| ${maxAbs}`).toBeLessThanOrEqual(1);
  });
});
