// The kernel interface: every numeric loop of the engine goes through one of these functions.
//
// Conventions (the same in the TS reference set and the C++ native set, see native/kernels/*.cc):
// - Arguments: outputs first, then inputs, then sizes, then scalars. Kernels never allocate, never
//   see a Tensor and know nothing of autograd.
// - All float buffers are contiguous row-major Float32Array (a subarray is a valid buffer).
// - "Accumulate" kernels add into their output (gradients accumulate); all others overwrite.
// - Index buffers are Int32Array; callers validate indices before calling (kernels may assume range).
//
// Shape legend: B batch, T/Tq/Tk sequence, NH query heads, NKV key/value heads, HS head size,
// N rows, C columns, M/K/N matmul sizes.
//
// Not here: shapes, broadcasting rules, error messages (src/tensor), RNG (src/tensor/random.ts).

/** Element-wise unary functions. The numeric code is what the native addon receives. */
export const UNARY_OPS = {
  exp: 0,
  log: 1,
  sqrt: 2,
  neg: 3,
  sigmoid: 4,
  tanh: 5,
  silu: 6,
  geluTanh: 7,
  geluErf: 8,
  relu: 9,
  rsqrt: 10,
  abs: 11,
  square: 12,
} as const;
export type UnaryOp = keyof typeof UNARY_OPS;

/** Element-wise binary functions over broadcast operands. */
export const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 } as const;
export type BinaryOp = keyof typeof BINARY_OPS;

export interface Kernels {
  /** "ts" or "native"; printed by the CLI and used in tests. */
  readonly name: string;

  // ---------------------------------------------------------------- matmul
  /**
   * Batched C = alpha * op(A) · op(B) + beta * C, for b in [0, batch):
   *   op(A) is (M, K): A is stored (M, K), or (K, M) when transA.
   *   op(B) is (K, N): B is stored (K, N), or (N, K) when transB.
   *   C is (M, N). Batch strides are the full matrix sizes (M*K, K*N, M*N);
   *   strideA/strideB = 0 broadcasts one A or B over the batch.
   * beta is 0 (overwrite; C's old contents are ignored, even NaN) or 1 (accumulate).
   */
  matmul(
    c: Float32Array, a: Float32Array, b: Float32Array,
    batch: number, M: number, N: number, K: number,
    transA: boolean, transB: boolean, strideA: number, strideB: number,
    alpha: number, beta: number,
  ): void;

  // ---------------------------------------------------------------- element-wise
  /** out[i] = f(x[i]) for i < n. */
  unary(op: UnaryOp, out: Float32Array, x: Float32Array, n: number): void;
  /** dx[i] += dy[i] * f'(x[i]) for i < n; y = f(x) is given for ops whose derivative uses it. */
  unaryBackward(op: UnaryOp, dx: Float32Array, dy: Float32Array, x: Float32Array, y: Float32Array, n: number): void;
  /**
   * out[idx] = f(a[idx·aStrides], b[idx·bStrides]) over every multi-index idx of `shape`
   * (out contiguous). A stride of 0 broadcasts. shape/aStrides/bStrides have the same length (>= 1).
   */
  binary(op: BinaryOp, out: Float32Array, a: Float32Array, b: Float32Array,
    shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  /** out[i] = a[i] * s + t for i < n (scale-and-shift; also a plain copy with s=1, t=0). out may alias a. */
  affine(out: Float32Array, a: Float32Array, n: number, s: number, t: number): void;
  /** out[i] += x[i] * s for i < n (axpy; the workhorse of gradient accumulation). */
  axpy(out: Float32Array, x: Float32Array, n: number, s: number): void;
  /**
   * out[idx·outStrides] += x[idx] over every multi-index idx of `shape` (x contiguous).
   * With outStrides 0 on broadcast axes this sums a gradient back to its input's shape;
   * with permuted strides it is a transpose that accumulates.
   */
  accumulateStrided(out: Float32Array, x: Float32Array, shape: Int32Array, outStrides: Int32Array): void;
  /** out[idx] = x[idx·xStrides] over every multi-index idx of `shape` (out contiguous): transpose/slice copy. */
  copyStrided(out: Float32Array, x: Float32Array, shape: Int32Array, xStrides: Int32Array): void;

  // ---------------------------------------------------------------- reductions, viewed as (outer, dim, inner)
  /** out[o, i] = sum_d x[o, d, i] * scale. out is (outer, inner). */
  sumAxis(out: Float32Array, x: Float32Array, outer: number, dim: number, inner: number, scale: number): void;
  /** out[o, i] = max_d x[o, d, i]; arg[o, i] = the first d reaching it. */
  maxAxis(out: Float32Array, arg: Int32Array, x: Float32Array, outer: number, dim: number, inner: number): void;

  // ---------------------------------------------------------------- softmax over the last axis of (N, C)
  /** y = softmax(x) row-wise (log=false) or log-softmax (log=true). A row of all -Infinity gives y = 0 (softmax) / -Infinity (log). */
  softmaxForward(y: Float32Array, x: Float32Array, N: number, C: number, log: boolean): void;
  /**
   * dx += dsoftmax. softmax: dx = y * (dy - sum(dy*y)); log-softmax: dx = dy - exp(y) * sum(dy).
   */
  softmaxBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, N: number, C: number, log: boolean): void;

  // ---------------------------------------------------------------- norms over the last axis of (N, C)
  /** y = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps); rstd (N) saved for backward. */
  rmsNormForward(y: Float32Array, rstd: Float32Array, x: Float32Array, w: Float32Array, N: number, C: number, eps: number): void;
  /** dx += ..., dw += sum_n dy * x * rstd. */
  rmsNormBackward(dx: Float32Array, dw: Float32Array, dy: Float32Array, x: Float32Array, w: Float32Array,
    rstd: Float32Array, N: number, C: number): void;
  /** y = (x - mean) * rstd * w + b; mean, rstd (N) saved for backward. */
  layerNormForward(y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array, w: Float32Array,
    b: Float32Array, N: number, C: number, eps: number): void;
  /** dx += ..., dw += sum_n dy * xhat, db += sum_n dy. */
  layerNormBackward(dx: Float32Array, dw: Float32Array, db: Float32Array, dy: Float32Array, x: Float32Array,
    w: Float32Array, mean: Float32Array, rstd: Float32Array, N: number, C: number): void;

  // ---------------------------------------------------------------- RoPE, HF rotate-half convention
  /**
   * x and out are (B, T, NH, HS); pos is (B*T) position ids. For pair i < HS/2 with
   * angle = pos * theta^(-2i/HS):  out[i] = x[i] cos - x[i+HS/2] sin,  out[i+HS/2] = x[i+HS/2] cos + x[i] sin.
   * inverse = true rotates by -angle (the backward pass). out may alias x.
   */
  rope(out: Float32Array, x: Float32Array, pos: Int32Array, BT: number, NH: number, HS: number,
    theta: number, inverse: boolean): void;

  // ---------------------------------------------------------------- fused masked attention
  /**
   * out = softmax(q·kᵀ * scale + bias + mask) · v, per batch b and head h.
   *   q, out: (B, Tq, NH, HS);  k, v: (B, Tk, NKV, HS); query head h reads kv head h / (NH/NKV).
   *   Visibility: query t of sample b sees keys j with keyLo[b*Tq+t] <= j < keyHi[b*Tq+t]
   *   (causal decoding against a cache of length P: keyLo = 0, keyHi = P + t + 1).
   *   bias: null, or (B, Tk) added to every query's scores (biasPerQuery=false),
   *         or (B, Tq, Tk) (biasPerQuery=true); shared across heads.
   *   lse: (B, NH, Tq) log-sum-exp of the visible scaled scores (saved for backward);
   *        a query that sees no key gets out = 0 and lse = -Infinity.
   *   probs: null, or (B, NH, Tq, Tk) receives the attention probabilities (0 where hidden).
   */
  attentionForward(
    out: Float32Array, lse: Float32Array, probs: Float32Array | null,
    q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null,
    keyLo: Int32Array, keyHi: Int32Array,
    B: number, Tq: number, Tk: number, NH: number, NKV: number, HS: number,
    scale: number, biasPerQuery: boolean,
  ): void;
  /**
   * Accumulates dq, dk, dv (same shapes as q, k, v) and dbias (same shape as bias, or null when no bias
   * gradient is wanted), recomputing probabilities from q, k, bias and lse.
   *   dS = P ∘ (dO·vᵀ - rowsum(dO ∘ out));  dq += dS·k*scale;  dk += dSᵀ·q*scale;  dv += Pᵀ·dO;
   *   dbias += dS summed over heads (and over queries when bias is per key).
   */
  attentionBackward(
    dq: Float32Array, dk: Float32Array, dv: Float32Array, dbias: Float32Array | null,
    dout: Float32Array, out: Float32Array, lse: Float32Array,
    q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null,
    keyLo: Int32Array, keyHi: Int32Array,
    B: number, Tq: number, Tk: number, NH: number, NKV: number, HS: number,
    scale: number, biasPerQuery: boolean,
  ): void;

  // ---------------------------------------------------------------- gather / scatter of rows
  /** out[i, :] = x[idx[i], :] for i < nIdx; rows have C floats (embedding lookup, token pruning). */
  gatherRows(out: Float32Array, x: Float32Array, idx: Int32Array, nIdx: number, C: number): void;
  /** out[idx[i], :] += x[i, :] for i < nIdx; repeated indices add up (embedding backward). */
  scatterAddRows(out: Float32Array, x: Float32Array, idx: Int32Array, nIdx: number, C: number): void;

  // ---------------------------------------------------------------- losses
  /**
   * Row-wise cross-entropy of logits (N, V) against targets (N): loss[n] = lse_n - logits[n, t_n],
   * or 0 where t_n == ignoreIndex (lse[n] still computed). lse (N) saved for backward.
   */
  crossEntropyForward(loss: Float32Array, lse: Float32Array, logits: Float32Array, targets: Int32Array,
    N: number, V: number, ignoreIndex: number): void;
  /** dlogits[n, :] += dloss[n] * (softmax(logits[n]) - onehot(t_n)); nothing for ignored rows. */
  crossEntropyBackward(dlogits: Float32Array, dloss: Float32Array, logits: Float32Array, lse: Float32Array,
    targets: Int32Array, N: number, V: number, ignoreIndex: number): void;

  // ---------------------------------------------------------------- fused MLP activation
  /** out = silu(gate) * up, all (n). */
  swigluForward(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void;
  /** dgate += dout * up * silu'(gate); dup += dout * silu(gate). */
  swigluBackward(dgate: Float32Array, dup: Float32Array, dout: Float32Array, gate: Float32Array, up: Float32Array,
    n: number): void;

  // ---------------------------------------------------------------- optimizer
  /**
   * One AdamW step over n parameters (decoupled weight decay, bias-corrected moments):
   *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²;
   *   p -= lr * ( (m / bc1) / (sqrt(v / bc2) + eps) + wd * p ),  bc1 = 1 - b1^t, bc2 = 1 - b2^t.
   */
  adamwStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number): void;
  /** Returns sum(x[i]^2) for i < n, accumulated in float64. */
  sumSquares(x: Float32Array, n: number): number;
}
