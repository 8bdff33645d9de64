// The native kernel set against float64 references written here from the formulas of
// src/kernels/kernel.ts (plain loops, sharing no code with either kernel set), on seeded inputs of
// awkward sizes (1, 7, 33, 257, ... never tile multiples), all transpose forms, broadcast batch
// strides, beta = 1 accumulation, NaN in C with beta = 0, subarrays with a non-zero byteOffset.
// Every case runs on each instruction-set path the CPU has (AVX-512, AVX2, portable scalar).
//
// Tolerances, as max |native - ref| <= atol + rtol |ref|:
// - element-wise, softmax, norms, RoPE, losses: rtol 1e-5 (float32 rounding plus ~2 ulp for the
//   vector exp/tanh); atol 1e-6 to 1e-7 so that values near zero (x - mean, tails) are not judged
//   by a relative error they cannot have.
// - matmul: rtol 1e-5 plus atol 2e-6 * sqrt(K): the float32 dot product of K terms of size ~0.3
//   carries ~sqrt(K) roundings of the running sum, which a purely relative bound cannot absorb when
//   the sum cancels to near zero.
// - attention: rtol 1e-4, atol 1e-5 (forward) / 3e-5 (backward): scores, probabilities and the two
//   (five in backward) products are chained float32 GEMMs over up to ~100 keys.
// - affine, axpy, gather/scatter, copies, max: exact (same double arithmetic / no arithmetic).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BinaryOp, UnaryOp } from "../../src/kernels/kernel.js";
import { loadNativeKernels, type NativeKernels, type NativeSimd } from "../../src/kernels/native.js";
import { Rng } from "../../src/tensor/random.js";
import { expectAllclose, type Tol } from "../helpers/allclose.js";

const loaded = loadNativeKernels();
const native = "error" in loaded ? null : loaded;
const LEVELS: NativeSimd[] = ["avx512", "avx2", "scalar"];

// ------------------------------------------------------------------ inputs
function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.uniform();
  return a;
}

/** A copy of `a` living at a non-zero byteOffset inside a larger buffer (tests subarray handling). */
function shifted(a: Float32Array, pad = 3): Float32Array {
  const big = new Float32Array(a.length + 2 * pad).fill(NaN);
  big.set(a, pad);
  return big.subarray(pad, pad + a.length);
}

const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);

// ------------------------------------------------------------------ float64 references
function matmulRef(c0: Float32Array, a: Float32Array, b: Float32Array, batch: number, M: number, N: number,
  K: number, ta: boolean, tb: boolean, sA: number, sB: number, alpha: number, beta: number): Float64Array {
  const c = new Float64Array(batch * M * N);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let p = 0; p < K; p++) {
          const x = ta ? a[bi * sA + p * M + i] : a[bi * sA + i * K + p];
          const y = tb ? b[bi * sB + j * K + p] : b[bi * sB + p * N + j];
          s += x * y;
        }
        const at = (bi * M + i) * N + j;
        c[at] = alpha * s + (beta === 0 ? 0 : beta * c0[at]);
      }
    }
  }
  return c;
}

// erfc from its definition, 2/sqrt(pi) * integral_x^inf exp(-t^2) dt, by composite Simpson on
// [x, x + 12] (the rest is below 1e-60). Relative error ~1e-9, ample for float32 checks.
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  const n = 4000, h = 12 / n;
  let s = Math.exp(-x * x) + Math.exp(-(x + 12) * (x + 12));
  for (let i = 1; i < n; i++) {
    const t = x + i * h;
    s += (i % 2 === 1 ? 4 : 2) * Math.exp(-t * t);
  }
  return ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
}

const C_GELU = Math.sqrt(2 / Math.PI), A_GELU = 0.044715;
const sig = (x: number): number => 1 / (1 + Math.exp(-x));

function unaryRef(op: UnaryOp, x: number): number {
  switch (op) {
    case "exp": return Math.exp(x);
    case "log": return Math.log(x);
    case "sqrt": return Math.sqrt(x);
    case "neg": return -x;
    case "sigmoid": return sig(x);
    case "tanh": return Math.tanh(x);
    case "silu": return x * sig(x);
    case "geluTanh": return 0.5 * x * (1 + Math.tanh(C_GELU * (x + A_GELU * x ** 3)));
    case "geluErf": return 0.5 * x * erfc(-x / Math.SQRT2);
    case "relu": return x > 0 ? x : 0;
    case "rsqrt": return 1 / Math.sqrt(x);
    case "abs": return Math.abs(x);
    case "square": return x * x;
  }
}

function unaryDerivRef(op: UnaryOp, x: number): number {
  switch (op) {
    case "exp": return Math.exp(x);
    case "log": return 1 / x;
    case "sqrt": return 0.5 / Math.sqrt(x);
    case "neg": return -1;
    case "sigmoid": return sig(x) * (1 - sig(x));
    case "tanh": return 1 - Math.tanh(x) ** 2;
    case "silu": return sig(x) + x * sig(x) * (1 - sig(x));
    case "geluTanh": {
      const t = Math.tanh(C_GELU * (x + A_GELU * x ** 3));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C_GELU * (1 + 3 * A_GELU * x * x);
    }
    case "geluErf": return 0.5 * erfc(-x / Math.SQRT2) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
    case "relu": return x > 0 ? 1 : 0;
    case "rsqrt": return -0.5 * x ** -1.5;
    case "abs": return x > 0 ? 1 : x < 0 ? -1 : 0;
    case "square": return 2 * x;
  }
}

/** Visits every multi-index of `shape` in row-major order with its linear index. */
function eachIndex(shape: number[], visit: (lin: number, idx: number[]) => void): void {
  const total = shape.reduce((p, d) => p * d, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let lin = 0; lin < total; lin++) {
    let r = lin;
    for (let d = shape.length - 1; d >= 0; d--) { idx[d] = r % shape[d]; r = Math.floor(r / shape[d]); }
    visit(lin, idx);
  }
}
const dotIdx = (idx: number[], strides: number[]): number => idx.reduce((s, v, d) => s + v * strides[d], 0);

interface AttnDims { B: number; Tq: number; Tk: number; NH: number; NKV: number; HS: number; scale: number;
  perQuery: boolean }

/** Scaled, biased scores of query (b, t, h) for every key; -Infinity where hidden. */
function attnScores(q: Float32Array, k: Float32Array, bias: Float32Array | null, lo: Int32Array, hi: Int32Array,
  d: AttnDims, b: number, t: number, h: number): Float64Array {
  const s = new Float64Array(d.Tk).fill(-Infinity);
  const g = Math.floor(h / (d.NH / d.NKV));
  for (let j = Math.max(0, lo[b * d.Tq + t]); j < Math.min(d.Tk, hi[b * d.Tq + t]); j++) {
    let dot = 0;
    for (let e = 0; e < d.HS; e++) dot += q[((b * d.Tq + t) * d.NH + h) * d.HS + e] * k[((b * d.Tk + j) * d.NKV + g) * d.HS + e];
    const bj = bias === null ? 0 : bias[(d.perQuery ? (b * d.Tq + t) * d.Tk : b * d.Tk) + j];
    s[j] = dot * d.scale + bj;
  }
  return s;
}

/** Softmax of one score row; all zeros when nothing is visible. Also returns the log-sum-exp. */
function probRow(s: Float64Array): { p: Float64Array; lse: number } {
  const m = Math.max(...s);
  if (m === -Infinity) return { p: new Float64Array(s.length), lse: -Infinity };
  let sum = 0;
  for (const x of s) sum += Math.exp(x - m);
  return { p: s.map((x) => Math.exp(x - m) / sum), lse: m + Math.log(sum) };
}

function attnForwardRef(q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null,
  lo: Int32Array, hi: Int32Array, d: AttnDims): { out: Float64Array; lse: Float64Array; probs: Float64Array } {
  const out = new Float64Array(d.B * d.Tq * d.NH * d.HS), lse = new Float64Array(d.B * d.NH * d.Tq);
  const probs = new Float64Array(d.B * d.NH * d.Tq * d.Tk);
  for (let b = 0; b < d.B; b++) for (let h = 0; h < d.NH; h++) for (let t = 0; t < d.Tq; t++) {
    const g = Math.floor(h / (d.NH / d.NKV));
    const { p, lse: l } = probRow(attnScores(q, k, bias, lo, hi, d, b, t, h));
    lse[(b * d.NH + h) * d.Tq + t] = l;
    probs.set(p, ((b * d.NH + h) * d.Tq + t) * d.Tk);
    for (let e = 0; e < d.HS; e++) {
      let acc = 0;
      for (let j = 0; j < d.Tk; j++) acc += p[j] * v[((b * d.Tk + j) * d.NKV + g) * d.HS + e];
      out[((b * d.Tq + t) * d.NH + h) * d.HS + e] = acc;
    }
  }
  return { out, lse, probs };
}

// dS = P (dO·vᵀ - rowsum(dO ∘ out));  dq = dS·k s;  dk = dSᵀ·q s;  dv = Pᵀ·dO;  dbias = sum_h dS
function attnBackwardRef(dout: Float32Array, out: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array,
  bias: Float32Array | null, lo: Int32Array, hi: Int32Array, d: AttnDims) {
  const dq = new Float64Array(q.length), dk = new Float64Array(k.length), dv = new Float64Array(v.length);
  const dbias = new Float64Array(d.B * (d.perQuery ? d.Tq * d.Tk : d.Tk));
  for (let b = 0; b < d.B; b++) for (let h = 0; h < d.NH; h++) for (let t = 0; t < d.Tq; t++) {
    const g = Math.floor(h / (d.NH / d.NKV));
    const { p } = probRow(attnScores(q, k, bias, lo, hi, d, b, t, h));
    const qo = ((b * d.Tq + t) * d.NH + h) * d.HS;
    let D = 0;
    for (let e = 0; e < d.HS; e++) D += dout[qo + e] * out[qo + e];
    for (let j = 0; j < d.Tk; j++) {
      if (p[j] === 0) continue;
      const ko = ((b * d.Tk + j) * d.NKV + g) * d.HS;
      let dp = 0;
      for (let e = 0; e < d.HS; e++) dp += dout[qo + e] * v[ko + e];
      const ds = p[j] * (dp - D);
      for (let e = 0; e < d.HS; e++) {
        dq[qo + e] += ds * k[ko + e] * d.scale;
        dk[ko + e] += ds * q[qo + e] * d.scale;
        dv[ko + e] += p[j] * dout[qo + e];
      }
      dbias[(d.perQuery ? (b * d.Tq + t) * d.Tk : b * d.Tk) + j] += ds;
    }
  }
  return { dq, dk, dv, dbias };
}

const plus = (a: Float32Array, b: Float64Array): Float64Array => b.map((x, i) => x + a[i]);

// ------------------------------------------------------------------ tests
describe.skipIf(native === null)("native kernels vs float64 references", () => {
  // The suite body still runs (to collect tests) when skipped, so no dereference of null here.
  const nk = native ?? ({} as NativeKernels);
  const K = nk.kernels;

  it("loads and reports its SIMD level and threads", () => {
    expect(K.name).toBe("native");
    expect(["avx512", "avx2", "scalar"]).toContain(nk.info.simd);
    expect(nk.info.threads).toBeGreaterThanOrEqual(1);
  });

  describe.each(LEVELS)("%s path", (level) => {
    beforeAll(() => { nk.setSimd(level); });
    afterAll(() => { nk.setSimd("avx512"); });

    it("matmul: every transpose form, awkward sizes, batch strides, alpha/beta", () => {
      // [batch, M, N, K, strideA is 0 (broadcast A), strideB is 0 (broadcast B)]
      const shapes: [number, number, number, number, boolean, boolean][] = [
        [1, 1, 1, 1, false, false], [1, 7, 33, 5, false, false], [1, 33, 7, 257, false, false], [1, 2, 2000, 100, false, false],
        [1, 257, 33, 7, false, false], [1, 1, 257, 33, false, false], [1, 4, 300, 7, false, false],
        [1, 5, 100, 3, false, false], [1, 130, 200, 300, false, false], [1, 6, 2100, 9, false, false],
        [3, 7, 33, 5, false, false], [6, 40, 50, 60, false, false], [4, 33, 17, 9, false, true],
        [3, 3, 20, 11, true, false], [2, 70, 90, 80, false, true], [1, 9, 9, 0, false, false],
      ];
      let seed = 1;
      for (const [batch, M, N, Kd, bcastA, bcastB] of shapes) {
        for (const ta of [false, true]) for (const tb of [false, true]) {
          const sA = bcastA ? 0 : M * Kd, sB = bcastB ? 0 : Kd * N;
          const a = rand(Math.max(1, bcastA ? M * Kd : batch * M * Kd), seed++);
          const b = rand(Math.max(1, bcastB ? Kd * N : batch * Kd * N), seed++);
          for (const [alpha, beta] of [[1, 0], [0.5, 1]]) {
            const c = beta === 0 ? new Float32Array(batch * M * N).fill(NaN) : rand(batch * M * N, seed++);
            const ref = matmulRef(c, a, b, batch, M, N, Kd, ta, tb, sA, sB, alpha, beta);
            K.matmul(c, a, b, batch, M, N, Kd, ta, tb, sA, sB, alpha, beta);
            expectAllclose(c, ref, { rtol: 1e-5, atol: 2e-6 * Math.sqrt(Kd + 1) },
              `matmul b=${batch} ${M}x${N}x${Kd} ta=${ta} tb=${tb} sA=${sA} sB=${sB} alpha=${alpha} beta=${beta}`);
          }
        }
      }
    });

    it("matmul: subarray operands, and identical bits on 1 and 2 threads", () => {
      const M = 65, N = 47, Kd = 300;
      const a = shifted(rand(M * Kd, 11)), b = shifted(rand(Kd * N, 12), 5);
      const c = shifted(new Float32Array(M * N).fill(NaN), 7);
      K.matmul(c, a, b, 1, M, N, Kd, false, true, 0, 0, 1, 0);
      expectAllclose(c, matmulRef(c, a, b, 1, M, N, Kd, false, true, 0, 0, 1, 0), { rtol: 1e-5, atol: 4e-5 }, "subarrays");
      const threads = nk.info.threads;
      const big = [rand(300 * 280, 13), rand(280 * 260, 14)];
      const one = new Float32Array(300 * 260), two = new Float32Array(300 * 260);
      nk.setThreads(1);
      K.matmul(one, big[0], big[1], 1, 300, 260, 280, true, false, 0, 0, 1, 0);
      nk.setThreads(2);
      K.matmul(two, big[0], big[1], 1, 300, 260, 280, true, false, 0, 0, 1, 0);
      nk.setThreads(threads);
      expect(Buffer.from(one.buffer).equals(Buffer.from(two.buffer))).toBe(true);
    });

    it("unary and unaryBackward, including tails and special values", () => {
      const special = [0, -0, 1e-8, -1e-8, 0.5, 0.625, -0.625, 3, -3, 9, -9, 20, -20];
      const wide = Float32Array.from([...rand(1013, 21, -6, 6), ...special]);
      const positive = rand(257, 22, 0.05, 5);
      const cases: [UnaryOp, Float32Array, Tol][] = [
        ["exp", Float32Array.from([...rand(500, 23, -87, 88), ...special]), { rtol: 1e-5, atol: 0 }],
        ["log", positive, { rtol: 1e-5, atol: 1e-7 }],
        ["sqrt", positive, { rtol: 1e-6, atol: 0 }],
        ["neg", wide, { rtol: 0, atol: 0 }],
        ["sigmoid", Float32Array.from([...wide, -80, 80, -100, 100]), { rtol: 1e-5, atol: 1e-30 }],
        ["tanh", wide, { rtol: 1e-5, atol: 1e-12 }],
        ["silu", wide, { rtol: 1e-5, atol: 1e-12 }],
        ["geluTanh", wide, { rtol: 1e-5, atol: 1e-12 }],
        ["geluErf", wide, { rtol: 1e-5, atol: 1e-12 }],
        ["relu", wide, { rtol: 0, atol: 0 }],
        ["rsqrt", positive, { rtol: 1e-6, atol: 0 }],
        ["abs", wide, { rtol: 0, atol: 0 }],
        ["square", wide, { rtol: 1e-7, atol: 0 }],
      ];
      for (const [op, x, tol] of cases) {
        const n = x.length, out = new Float32Array(n);
        K.unary(op, out, x, n);
        expectAllclose(out, f64(x).map((v) => unaryRef(op, v)), tol, `unary ${op}`);
        const dy = rand(n, 24), dx0 = rand(n, 25), dx = dx0.slice();
        K.unaryBackward(op, dx, dy, x, out, n);
        const ref = f64(x).map((v, i) => dx0[i] + dy[i] * unaryDerivRef(op, v));
        expectAllclose(dx, ref, { rtol: 2e-5, atol: 1e-6 }, `unaryBackward ${op}`);
      }
      // tails of length 1..W-1 and an offset start
      const x7 = shifted(rand(7, 26, -3, 3)), o7 = new Float32Array(7);
      K.unary("silu", o7, x7, 7);
      expectAllclose(o7, f64(x7).map((v) => unaryRef("silu", v)), { rtol: 1e-5, atol: 1e-7 }, "silu n=7");
    });

    it("binary with broadcast and permuted strides, NaN like the TS set", () => {
      const ops: BinaryOp[] = ["add", "sub", "mul", "div", "max", "min"];
      const refOp = (op: BinaryOp, a: number, b: number): number =>
        op === "add" ? a + b : op === "sub" ? a - b : op === "mul" ? a * b : op === "div" ? a / b
          : op === "max" ? (a >= b ? a : b) : (a <= b ? a : b);
      // [shape, a length, aStrides, b length, bStrides]
      const cases: [number[], number, number[], number, number[]][] = [
        [[4, 33], 132, [33, 1], 132, [33, 1]],
        [[4, 33], 132, [33, 1], 33, [0, 1]],
        [[4, 33], 4, [1, 0], 33, [0, 1]],
        [[2, 3, 5], 30, [15, 5, 1], 30, [1, 2, 6]],
        [[257], 1, [0], 257, [1]],
        [[3, 0, 2], 1, [0, 0, 0], 1, [0, 0, 0]],
      ];
      let seed = 30;
      for (const [shape, na, sa, nb, sb] of cases) {
        const a = rand(na, seed++), b = rand(nb, seed++, 0.5, 2);
        if (na > 3) { a[1] = NaN; b[2 % nb] = NaN; }
        for (const op of ops) {
          const total = shape.reduce((p, d) => p * d, 1), out = new Float32Array(total);
          K.binary(op, out, a, b, Int32Array.from(shape), Int32Array.from(sa), Int32Array.from(sb));
          const ref = new Float64Array(total);
          eachIndex(shape, (lin, idx) => { ref[lin] = Math.fround(refOp(op, a[dotIdx(idx, sa)], b[dotIdx(idx, sb)])); });
          expectAllclose(out, ref, { rtol: 0, atol: 0 }, `binary ${op} ${shape}`);
        }
      }
    });

    it("affine, axpy (bitwise like double arithmetic), strided copy and accumulate", () => {
      const n = 1001, a = rand(n, 40), out = new Float32Array(n);
      K.affine(out, a, n, 1 / 3, 0.1);
      expect(Array.from(out)).toEqual(Array.from(a, (x) => Math.fround(x * (1 / 3) + 0.1)));
      K.affine(a, a, n, 1, 0); // aliasing copy
      const acc = rand(n, 41), acc0 = acc.slice();
      K.axpy(acc, a, n, -0.7);
      expect(Array.from(acc)).toEqual(Array.from(acc0, (x, i) => Math.fround(x + a[i] * -0.7)));

      // transpose-copy (2, 3, 5) out of a (5, 3, 2) buffer, from a subarray
      const x = shifted(rand(30, 42)), t = new Float32Array(30);
      K.copyStrided(t, x, Int32Array.from([2, 3, 5]), Int32Array.from([1, 2, 6]));
      const tr = new Float64Array(30);
      eachIndex([2, 3, 5], (lin, idx) => { tr[lin] = x[dotIdx(idx, [1, 2, 6])]; });
      expectAllclose(t, tr, { rtol: 0, atol: 0 }, "copyStrided");

      // sum a (3, 4, 5) gradient into a (3, 1, 5) input, and a permuted accumulate
      const g = rand(60, 43), red = rand(15, 44), red0 = red.slice();
      K.accumulateStrided(red, g, Int32Array.from([3, 4, 5]), Int32Array.from([5, 0, 1]));
      const rref = f64(red0);
      eachIndex([3, 4, 5], (lin, idx) => { rref[dotIdx(idx, [5, 0, 1])] += g[lin]; });
      expectAllclose(red, rref, { rtol: 1e-6, atol: 1e-7 }, "accumulateStrided broadcast");
      const perm = rand(60, 45), perm0 = perm.slice();
      K.accumulateStrided(perm, g, Int32Array.from([3, 4, 5]), Int32Array.from([1, 3, 12]));
      const pref = f64(perm0);
      eachIndex([3, 4, 5], (lin, idx) => { pref[dotIdx(idx, [1, 3, 12])] += g[lin]; });
      expectAllclose(perm, pref, { rtol: 1e-6, atol: 1e-7 }, "accumulateStrided permuted");
    });

    it("sumAxis, maxAxis (first max, NaN wins), sumSquares", () => {
      for (const [outer, dim, inner] of [[3, 257, 1], [2, 33, 7], [1, 1000, 1], [4, 0, 3], [5, 7, 600]]) {
        const x = rand(outer * dim * inner, 50 + dim), out = new Float32Array(outer * inner);
        K.sumAxis(out, x, outer, dim, inner, 0.5);
        const ref = new Float64Array(outer * inner);
        for (let o = 0; o < outer; o++) for (let d = 0; d < dim; d++) for (let i = 0; i < inner; i++) {
          ref[o * inner + i] += 0.5 * x[(o * dim + d) * inner + i];
        }
        expectAllclose(out, ref, { rtol: 1e-6, atol: 1e-7 }, `sumAxis ${outer}x${dim}x${inner}`);
      }
      const x = Float32Array.from([1, 3, 3, -Infinity, -Infinity, -Infinity, 2, NaN, 5, 0, -1, 0]); // (outer 4, dim 3)
      const out = new Float32Array(4), arg = new Int32Array(4);
      K.maxAxis(out, arg, x, 4, 3, 1);
      expect(Array.from(out)).toEqual([3, -Infinity, NaN, 0]);
      expect(Array.from(arg)).toEqual([1, 0, 1, 0]);
      const y = rand(2 * 5 * 3, 51), o2 = new Float32Array(6), a2 = new Int32Array(6);
      K.maxAxis(o2, a2, y, 2, 5, 3);
      for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) {
        const col = [0, 1, 2, 3, 4].map((d) => y[(o * 5 + d) * 3 + i]);
        expect(o2[o * 3 + i]).toBe(Math.max(...col));
        expect(a2[o * 3 + i]).toBe(col.indexOf(Math.max(...col)));
      }
      const big = rand(100_003, 52);
      let ss = 0;
      for (const v of big) ss += v * v;
      expect(Math.abs(K.sumSquares(big, big.length) - ss) / ss).toBeLessThan(1e-12);
    });

    it("softmax and log-softmax, forward and backward, with -inf rows", () => {
      for (const [N, C] of [[5, 257], [3, 7], [2, 1]]) {
        const x = rand(N * C, 60 + C, -5, 5);
        x.fill(-Infinity, 0, C); // nothing visible
        if (N > 1 && C > 2) x.fill(-Infinity, C, C + 2); // partly hidden
        for (const log of [false, true]) {
          const y = new Float32Array(N * C);
          K.softmaxForward(y, x, N, C, log);
          const ref = new Float64Array(N * C);
          for (let n = 0; n < N; n++) {
            const row = f64(x.subarray(n * C, n * C + C));
            const m = Math.max(...row);
            if (m === -Infinity) { ref.fill(log ? -Infinity : 0, n * C, n * C + C); continue; }
            const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
            row.forEach((v, c) => { ref[n * C + c] = log ? v - m - Math.log(s) : Math.exp(v - m) / s; });
          }
          expectAllclose(y, ref, { rtol: 1e-5, atol: 1e-7 }, `softmaxForward ${N}x${C} log=${log}`);

          const dy = rand(N * C, 61), dx0 = rand(N * C, 62), dx = dx0.slice();
          K.softmaxBackward(dx, dy, y, N, C, log);
          const bref = f64(dx0);
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let c = 0; c < C; c++) s += log ? dy[n * C + c] : dy[n * C + c] * y[n * C + c];
            for (let c = 0; c < C; c++) {
              const i = n * C + c;
              bref[i] += log ? dy[i] - Math.exp(y[i]) * s : y[i] * (dy[i] - s);
            }
          }
          expectAllclose(dx, bref, { rtol: 1e-5, atol: 1e-6 }, `softmaxBackward ${N}x${C} log=${log}`);
        }
      }
    });

    it("rmsNorm and layerNorm, forward and backward (accumulating)", () => {
      for (const [N, C] of [[7, 33], [5, 257], [1, 1], [40, 70]]) {
        const x = shifted(rand(N * C, 70 + C, -2, 2)), w = rand(C, 71, 0.5, 1.5), bb = rand(C, 72);
        const xs = x.map((v) => v + 100); // large mean: the variance must not cancel
        const dy = rand(N * C, 73), eps = 1e-5;
        // RMSNorm: y = x r w, r = 1/sqrt(mean(x^2) + eps); dx = r (w dy - x r mean(w dy x r)); dw = sum dy x r
        const y = new Float32Array(N * C), rstd = new Float32Array(N);
        K.rmsNormForward(y, rstd, x, w, N, C, eps);
        const yr = new Float64Array(N * C), rr = new Float64Array(N), dxr = new Float64Array(N * C), dwr = new Float64Array(C);
        for (let n = 0; n < N; n++) {
          let ss = 0;
          for (let c = 0; c < C; c++) ss += x[n * C + c] ** 2;
          const r = 1 / Math.sqrt(ss / C + eps);
          rr[n] = r;
          let m = 0;
          for (let c = 0; c < C; c++) m += (w[c] * dy[n * C + c] * x[n * C + c] * r) / C;
          for (let c = 0; c < C; c++) {
            const i = n * C + c;
            yr[i] = x[i] * r * w[c];
            dxr[i] = r * (w[c] * dy[i] - x[i] * r * m);
            dwr[c] += dy[i] * x[i] * r;
          }
        }
        expectAllclose(y, yr, { rtol: 1e-5, atol: 1e-6 }, `rmsNormForward ${N}x${C}`);
        expectAllclose(rstd, rr, { rtol: 1e-5, atol: 0 }, `rmsNorm rstd ${N}x${C}`);
        const dx0 = rand(N * C, 74), dw0 = rand(C, 75), dx = dx0.slice(), dw = dw0.slice();
        K.rmsNormBackward(dx, dw, dy, x, w, rstd, N, C);
        expectAllclose(dx, plus(dx0, dxr), { rtol: 1e-5, atol: 1e-5 }, `rmsNormBackward dx ${N}x${C}`);
        expectAllclose(dw, plus(dw0, dwr), { rtol: 1e-5, atol: 1e-5 }, `rmsNormBackward dw ${N}x${C}`);

        // LayerNorm: xhat = (x - mean) r; y = xhat w + b; dx = r (g - mean(g) - xhat mean(g xhat)), g = w dy
        const ly = new Float32Array(N * C), mean = new Float32Array(N), lr = new Float32Array(N);
        K.layerNormForward(ly, mean, lr, xs, w, bb, N, C, eps);
        const lyr = new Float64Array(N * C), ldx = new Float64Array(N * C), ldw = new Float64Array(C), ldb = new Float64Array(C);
        for (let n = 0; n < N; n++) {
          let mu = 0, v = 0;
          for (let c = 0; c < C; c++) mu += xs[n * C + c] / C;
          for (let c = 0; c < C; c++) v += (xs[n * C + c] - mu) ** 2 / C;
          const r = 1 / Math.sqrt(v + eps);
          let mg = 0, mgx = 0;
          for (let c = 0; c < C; c++) {
            const i = n * C + c, xh = (xs[i] - mu) * r;
            mg += (w[c] * dy[i]) / C;
            mgx += (w[c] * dy[i] * xh) / C;
          }
          for (let c = 0; c < C; c++) {
            const i = n * C + c, xh = (xs[i] - mu) * r;
            lyr[i] = xh * w[c] + bb[c];
            ldx[i] = r * (w[c] * dy[i] - mg - xh * mgx);
            ldw[c] += dy[i] * xh;
            ldb[c] += dy[i];
          }
        }
        // atol 2e-5 in y: x - mean loses log2(100) bits of x's float32 precision (input rounding)
        expectAllclose(ly, lyr, { rtol: 1e-5, atol: 2e-5 }, `layerNormForward ${N}x${C}`);
        const ldx0 = rand(N * C, 76), ldw0 = rand(C, 77), ldb0 = rand(C, 78);
        const ldxk = ldx0.slice(), ldwk = ldw0.slice(), ldbk = ldb0.slice();
        K.layerNormBackward(ldxk, ldwk, ldbk, dy, xs, w, mean, lr, N, C);
        const tol = { rtol: 1e-4, atol: 1e-4 }; // the same input rounding, amplified by rstd (1/std)
        expectAllclose(ldxk, plus(ldx0, ldx), tol, `layerNormBackward dx ${N}x${C}`);
        expectAllclose(ldwk, plus(ldw0, ldw), tol, `layerNormBackward dw ${N}x${C}`);
        expectAllclose(ldbk, plus(ldb0, ldb), { rtol: 1e-6, atol: 1e-6 }, `layerNormBackward db ${N}x${C}`);
      }
    });

    it("rope: rotate-half pairs, inverse, aliasing, odd head size", () => {
      for (const [BT, NH, HS] of [[6, 3, 16], [5, 2, 10], [3, 1, 7], [1, 4, 64]]) {
        const x = rand(BT * NH * HS, 80 + HS), pos = Int32Array.from({ length: BT }, (_, i) => [0, 5, -3, 100_000, 17, 2][i % 6]);
        const theta = 10000, half = HS >> 1;
        for (const inverse of [false, true]) {
          const out = new Float32Array(BT * NH * HS).fill(7);
          K.rope(out, x, pos, BT, NH, HS, theta, inverse);
          const ref = new Float64Array(BT * NH * HS).fill(7);
          for (let t = 0; t < BT; t++) for (let h = 0; h < NH; h++) for (let i = 0; i < half; i++) {
            const ang = (inverse ? -1 : 1) * pos[t] * theta ** ((-2 * i) / HS), o = (t * NH + h) * HS;
            ref[o + i] = x[o + i] * Math.cos(ang) - x[o + i + half] * Math.sin(ang);
            ref[o + i + half] = x[o + i + half] * Math.cos(ang) + x[o + i] * Math.sin(ang);
          }
          expectAllclose(out, ref, { rtol: 1e-5, atol: 1e-6 }, `rope ${BT}x${NH}x${HS} inverse=${inverse}`);
        }
        const y = x.slice();
        K.rope(y, y, pos, BT, NH, HS, theta, false); // in place
        K.rope(y, y, pos, BT, NH, HS, theta, true); // and back
        expectAllclose(y, f64(x), { rtol: 1e-5, atol: 1e-5 }, "rope round trip in place");
      }
    });

    it("gatherRows, scatterAddRows with repeated indices", () => {
      const C = 33, rows = 10, x = shifted(rand(rows * C, 90)), idx = Int32Array.from([3, 0, 9, 3, 3, 7]);
      const out = new Float32Array(idx.length * C);
      K.gatherRows(out, x, idx, idx.length, C);
      idx.forEach((r, i) => expect(Array.from(out.subarray(i * C, i * C + C))).toEqual(Array.from(x.subarray(r * C, r * C + C))));
      const acc = rand(rows * C, 91), acc0 = acc.slice();
      K.scatterAddRows(acc, out, idx, idx.length, C);
      const ref = new Float32Array(acc0); // sequential float32 adds, the order the contract implies
      idx.forEach((r, i) => { for (let c = 0; c < C; c++) ref[r * C + c] += out[i * C + c]; });
      expect(Array.from(acc)).toEqual(Array.from(ref));
    });

    it("crossEntropy forward and backward with an ignore index", () => {
      for (const [N, V] of [[9, 257], [4, 7], [3, 1]]) {
        const logits = rand(N * V, 100 + V, -4, 4), ignore = -100;
        const targets = Int32Array.from({ length: N }, (_, n) => (n % 4 === 1 ? ignore : (n * 7) % V));
        const loss = new Float32Array(N), lse = new Float32Array(N);
        K.crossEntropyForward(loss, lse, logits, targets, N, V, ignore);
        const lref = new Float64Array(N), sref = new Float64Array(N);
        for (let n = 0; n < N; n++) {
          const row = f64(logits.subarray(n * V, n * V + V)), m = Math.max(...row);
          sref[n] = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
          lref[n] = targets[n] === ignore ? 0 : sref[n] - row[targets[n]];
        }
        expectAllclose(lse, sref, { rtol: 1e-6, atol: 1e-6 }, `crossEntropy lse ${N}x${V}`);
        expectAllclose(loss, lref, { rtol: 1e-5, atol: 2e-6 }, `crossEntropy loss ${N}x${V}`);
        const dloss = rand(N, 101), d0 = rand(N * V, 102), d = d0.slice();
        K.crossEntropyBackward(d, dloss, logits, lse, targets, N, V, ignore);
        const dref = f64(d0);
        for (let n = 0; n < N; n++) {
          if (targets[n] === ignore) continue;
          for (let v = 0; v < V; v++) dref[n * V + v] += dloss[n] * (Math.exp(logits[n * V + v] - sref[n]) - (v === targets[n] ? 1 : 0));
        }
        expectAllclose(d, dref, { rtol: 1e-5, atol: 1e-6 }, `crossEntropyBackward ${N}x${V}`);
      }
    });

    it("swiglu forward and backward", () => {
      const n = 1031, g = rand(n, 110, -8, 8), u = rand(n, 111), out = new Float32Array(n);
      K.swigluForward(out, g, u, n);
      expectAllclose(out, f64(g).map((x, i) => x * sig(x) * u[i]), { rtol: 1e-5, atol: 1e-9 }, "swigluForward");
      const dout = rand(n, 112), dg0 = rand(n, 113), du0 = rand(n, 114), dg = dg0.slice(), du = du0.slice();
      K.swigluBackward(dg, du, dout, g, u, n);
      const dgr = f64(g).map((x, i) => dg0[i] + dout[i] * u[i] * (sig(x) + x * sig(x) * (1 - sig(x))));
      const dur = f64(g).map((x, i) => du0[i] + dout[i] * x * sig(x));
      expectAllclose(dg, dgr, { rtol: 1e-5, atol: 1e-6 }, "swigluBackward dgate");
      expectAllclose(du, dur, { rtol: 1e-5, atol: 1e-6 }, "swigluBackward dup");
    });

    it("adamwStep over several steps (moments stored as float32)", () => {
      const n = 70_001, p = rand(n, 120), m = new Float32Array(n), v = new Float32Array(n);
      const pr = f64(p), mr = new Float64Array(n), vr = new Float64Array(n);
      const [lr, b1, b2, eps, wd] = [1e-3, 0.9, 0.999, 1e-8, 0.1];
      for (let t = 1; t <= 3; t++) {
        const g = rand(n, 120 + t), bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
        K.adamwStep(p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2);
        for (let i = 0; i < n; i++) {
          mr[i] = Math.fround(b1 * mr[i] + (1 - b1) * g[i]);
          vr[i] = Math.fround(b2 * vr[i] + (1 - b2) * g[i] * g[i]);
          pr[i] = Math.fround(pr[i] - lr * (mr[i] / bc1 / (Math.sqrt(vr[i] / bc2) + eps) + wd * pr[i]));
        }
      }
      expectAllclose(p, pr, { rtol: 1e-6, atol: 1e-7 }, "adamw p");
      expectAllclose(m, mr, { rtol: 1e-6, atol: 1e-9 }, "adamw m");
      expectAllclose(v, vr, { rtol: 1e-6, atol: 1e-12 }, "adamw v");
    });

    // [B, Tq, Tk, NH, NKV, HS, bias: none | key | query, range kind]
    const attnCases: [number, number, number, number, number, number, "none" | "key" | "query", string][] = [
      [2, 37, 37, 4, 2, 16, "key", "causal"],
      [1, 70, 90, 2, 1, 33, "query", "mixed"],
      [2, 1, 129, 4, 4, 64, "none", "decode"],
      [1, 9, 5, 3, 3, 7, "key", "mixed"],
      [2, 20, 30, 4, 2, 8, "query", "mixed"],
    ];
    function attnInputs(B: number, Tq: number, Tk: number, NH: number, NKV: number, HS: number,
      biasKind: string, kind: string, seed: number) {
      const q = rand(B * Tq * NH * HS, seed), k = rand(B * Tk * NKV * HS, seed + 1), v = rand(B * Tk * NKV * HS, seed + 2);
      const bias = biasKind === "none" ? null : rand(B * (biasKind === "query" ? Tq : 1) * Tk, seed + 3, -2, 2);
      const lo = new Int32Array(B * Tq), hi = new Int32Array(B * Tq);
      const r = new Rng(seed + 4);
      for (let i = 0; i < B * Tq; i++) {
        const t = i % Tq;
        if (kind === "causal") { lo[i] = 0; hi[i] = Tk - Tq + t + 1; } else if (kind === "decode") { lo[i] = 0; hi[i] = Tk; } else {
          lo[i] = Math.floor(r.uniform() * Tk) - 3; // sometimes negative: clamped to 0
          hi[i] = lo[i] + Math.floor(r.uniform() * (Tk + 6));
        }
      }
      if (kind === "mixed") {
        lo[1] = 4; hi[1] = 4; // sees nothing
        lo[2] = 3; hi[2] = 1; // inverted range: sees nothing
        lo[3] = -5; hi[3] = Tk + 9; // sees everything (clamped)
        if (bias !== null && Tq > 4) { // sees keys 0..1, both biased to -inf: hidden as well
          lo[4] = 0; hi[4] = 2;
          const row = biasKind === "query" ? 4 * Tk : 0;
          if (biasKind === "query") { bias[row] = -Infinity; bias[row + 1] = -Infinity; }
        }
      }
      return { q, k, v, bias, lo, hi };
    }

    it.each(attnCases)("attention B=%i Tq=%i Tk=%i NH=%i NKV=%i HS=%i bias=%s ranges=%s", (B, Tq, Tk, NH, NKV, HS, biasKind, kind) => {
      const { q, k, v, bias, lo, hi } = attnInputs(B, Tq, Tk, NH, NKV, HS, biasKind, kind, 200 + HS);
      const d: AttnDims = { B, Tq, Tk, NH, NKV, HS, scale: 1 / Math.sqrt(HS), perQuery: biasKind === "query" };
      const out = shifted(new Float32Array(B * Tq * NH * HS).fill(NaN)), lse = new Float32Array(B * NH * Tq).fill(NaN);
      const probs = new Float32Array(B * NH * Tq * Tk).fill(NaN);
      K.attentionForward(out, lse, probs, shifted(q), k, v, bias, lo, hi, B, Tq, Tk, NH, NKV, HS, d.scale, d.perQuery);
      const ref = attnForwardRef(q, k, v, bias, lo, hi, d);
      expectAllclose(out, ref.out, { rtol: 1e-4, atol: 1e-5 }, "attention out");
      expectAllclose(lse, ref.lse, { rtol: 1e-5, atol: 1e-5 }, "attention lse");
      expectAllclose(probs, ref.probs, { rtol: 1e-4, atol: 1e-6 }, "attention probs");
      for (const x of out) expect(Number.isNaN(x)).toBe(false);
      const out2 = new Float32Array(out.length), lse2 = new Float32Array(lse.length);
      K.attentionForward(out2, lse2, null, q, k, v, bias, lo, hi, B, Tq, Tk, NH, NKV, HS, d.scale, d.perQuery);
      expect(Array.from(out2)).toEqual(Array.from(out));

      const dout = rand(out.length, 300);
      const g = attnBackwardRef(dout, out, q, k, v, bias, lo, hi, d);
      const dq0 = rand(q.length, 301), dk0 = rand(k.length, 302), dv0 = rand(v.length, 303);
      const db0 = bias === null ? null : rand(bias.length, 304);
      const dq = dq0.slice(), dk = dk0.slice(), dv = dv0.slice(), db = db0 === null ? null : db0.slice();
      K.attentionBackward(dq, dk, dv, db, dout, out, lse, q, k, v, bias, lo, hi, B, Tq, Tk, NH, NKV, HS, d.scale, d.perQuery);
      const tol = { rtol: 1e-4, atol: 3e-5 };
      expectAllclose(dq, plus(dq0, g.dq), tol, "attention dq");
      expectAllclose(dk, plus(dk0, g.dk), tol, "attention dk");
      expectAllclose(dv, plus(dv0, g.dv), tol, "attention dv");
      if (db !== null && db0 !== null) expectAllclose(db, plus(db0, g.dbias), tol, "attention dbias");
      // without a bias gradient the rest is unchanged
      const dq2 = dq0.slice(), dk2 = dk0.slice(), dv2 = dv0.slice();
      K.attentionBackward(dq2, dk2, dv2, null, dout, out, lse, q, k, v, bias, lo, hi, B, Tq, Tk, NH, NKV, HS, d.scale, d.perQuery);
      expect(Array.from(dq2)).toEqual(Array.from(dq));
      expect(Array.from(dv2)).toEqual(Array.from(dv));
    });
  });

  it("misuse throws a JS error naming the kernel, and never crashes", () => {
    const raw = K as unknown as Record<string, (...args: unknown[]) => unknown>;
    const f = new Float32Array(16);
    expect(() => raw.matmul(f, f, f, 1, 4, 4, 5, false, false, 0, 0, 1, 0)).toThrow(/native matmul: argument 1 \(a\)/);
    expect(() => raw.matmul(f, new Float64Array(16), f, 1, 4, 4, 4, false, false, 0, 0, 1, 0)).toThrow(/Float32Array/);
    expect(() => raw.matmul(f, f, f, 1, 4, 4, 4, 0, false, 0, 0, 1, 0)).toThrow(/transA.*boolean/);
    expect(() => raw.matmul(f, f, f, 1, 4, 4)).toThrow(/expected 13 arguments/);
    expect(() => raw.softmaxForward(f, f, -1, 4, false)).toThrow(/non-negative integer/);
    expect(() => raw.gatherRows(f, f, Int32Array.from([0, 4]), 2, 4)).toThrow(/native gatherRows: idx\[1\] = 4/);
    expect(() => raw.scatterAddRows(f, f, Int32Array.from([-1]), 1, 4)).toThrow(/out of range/);
    expect(() => raw.crossEntropyForward(new Float32Array(2), new Float32Array(2), f, Int32Array.from([0, 8]), 2, 8, -1))
      .toThrow(/targets\[1\]/);
    expect(() => raw.binary("add", f, f, f, Int32Array.from([4, 4]), Int32Array.from([4, 1]), Int32Array.from([-4, 1])))
      .toThrow(/negative stride/);
    expect(() => raw.attentionForward(f, f, null, f, f, f, null, new Int32Array(1), new Int32Array(1),
      1, 1, 1, 3, 2, 1, 1, false)).toThrow(/multiple of NKV/);
    expect(() => raw.unary("nope", f, f, 4)).toThrow(/native unary/);
  });
});
