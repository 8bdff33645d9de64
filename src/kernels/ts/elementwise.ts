// Reference element-wise kernels: unary functions with their derivatives, broadcast binary ops,
// strided copies (transpose, slice) and strided accumulation (broadcast gradient reduction).
import type { BinaryOp, UnaryOp } from "../kernel.js";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is only 1e-7 accurate; use a series/continued-fraction split for ~1e-15.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // erfc continued fraction (Lentz), accurate for ax >= 2.5
  let f = ax, C = ax, D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = ax + an * D; D = D === 0 ? 1e-300 : 1 / D;
    C = ax + an / C; if (C === 0) C = 1e-300;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return x < 0 ? erfc - 1 : 1 - erfc;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** f(x) for one element. */
export function unaryScalar(op: UnaryOp, x: number): number {
  switch (op) {
    case "exp": return Math.exp(x);
    case "log": return Math.log(x);
    case "sqrt": return Math.sqrt(x);
    case "neg": return -x;
    case "sigmoid": return sigmoid(x);
    case "tanh": return Math.tanh(x);
    case "silu": return x * sigmoid(x);
    case "geluTanh": return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)));
    case "geluErf": return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case "relu": return x > 0 ? x : 0;
    case "rsqrt": return 1 / Math.sqrt(x);
    case "abs": return Math.abs(x);
    case "square": return x * x;
  }
}

/** f'(x), given y = f(x). */
export function unaryDerivative(op: UnaryOp, x: number, y: number): number {
  switch (op) {
    case "exp": return y;
    case "log": return 1 / x;
    case "sqrt": return 0.5 / y;
    case "neg": return -1;
    case "sigmoid": return y * (1 - y);
    case "tanh": return 1 - y * y;
    case "silu": { const s = sigmoid(x); return s * (1 + x * (1 - s)); }
    case "geluTanh": {
      // d/dx 0.5 x (1 + tanh(u)), u = c (x + a x^3):  0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
      const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
    }
    case "geluErf": // Phi(x) + x phi(x)
      return 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
    case "relu": return x > 0 ? 1 : 0;
    case "rsqrt": return -0.5 * y * y * y;
    case "abs": return x > 0 ? 1 : x < 0 ? -1 : 0;
    case "square": return 2 * x;
  }
}

export function unary(op: UnaryOp, out: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = unaryScalar(op, x[i]);
}

export function unaryBackward(op: UnaryOp, dx: Float32Array, dy: Float32Array, x: Float32Array, y: Float32Array,
  n: number): void {
  for (let i = 0; i < n; i++) dx[i] += dy[i] * unaryDerivative(op, x[i], y[i]);
}

function binaryScalar(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case "add": return a + b;
    case "sub": return a - b;
    case "mul": return a * b;
    case "div": return a / b;
    case "max": return a >= b ? a : b;
    case "min": return a <= b ? a : b;
  }
}

/**
 * Walks every multi-index of `shape` in row-major order, calling visit(linear, offA, offB) with the
 * offsets given by two stride vectors. The innermost axis is a plain loop.
 */
function walk2(shape: Int32Array, sa: Int32Array, sb: Int32Array,
  visitRow: (lin: number, offA: number, offB: number, n: number, stepA: number, stepB: number) => void): void {
  const nd = shape.length;
  const inner = shape[nd - 1];
  let outer = 1;
  for (let d = 0; d < nd - 1; d++) outer *= shape[d];
  if (inner === 0 || outer === 0) return;
  const idx = new Int32Array(Math.max(nd - 1, 1));
  let offA = 0, offB = 0;
  for (let o = 0; o < outer; o++) {
    visitRow(o * inner, offA, offB, inner, sa[nd - 1], sb[nd - 1]);
    // increment the multi-index over the outer axes
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++; offA += sa[d]; offB += sb[d];
      if (idx[d] < shape[d]) break;
      offA -= sa[d] * shape[d]; offB -= sb[d] * shape[d]; idx[d] = 0;
    }
  }
}

const ZERO_STRIDES = new Int32Array(8);

export function binary(op: BinaryOp, out: Float32Array, a: Float32Array, b: Float32Array,
  shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void {
  walk2(shape, aStrides, bStrides, (lin, oa, ob, n, sa, sb) => {
    for (let i = 0; i < n; i++) out[lin + i] = binaryScalar(op, a[oa + i * sa], b[ob + i * sb]);
  });
}

export function affine(out: Float32Array, a: Float32Array, n: number, s: number, t: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] * s + t;
}

export function axpy(out: Float32Array, x: Float32Array, n: number, s: number): void {
  for (let i = 0; i < n; i++) out[i] += x[i] * s;
}

export function accumulateStrided(out: Float32Array, x: Float32Array, shape: Int32Array, outStrides: Int32Array): void {
  walk2(shape, outStrides, ZERO_STRIDES.length >= shape.length ? ZERO_STRIDES : new Int32Array(shape.length),
    (lin, oo, _ob, n, so) => {
      for (let i = 0; i < n; i++) out[oo + i * so] += x[lin + i];
    });
}

export function copyStrided(out: Float32Array, x: Float32Array, shape: Int32Array, xStrides: Int32Array): void {
  walk2(shape, xStrides, ZERO_STRIDES.length >= shape.length ? ZERO_STRIDES : new Int32Array(shape.length),
    (lin, ox, _ob, n, sx) => {
      for (let i = 0; i < n; i++) out[lin + i] = x[ox + i * sx];
    });
}

export function swigluForward(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

// d silu(g) = s (1 + g (1 - s))
export function swigluBackward(dgate: Float32Array, dup: Float32Array, dout: Float32Array, gate: Float32Array,
  up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i], s = sigmoid(g);
    dgate[i] += dout[i] * up[i] * s * (1 + g * (1 - s));
    dup[i] += dout[i] * g * s;
  }
}
