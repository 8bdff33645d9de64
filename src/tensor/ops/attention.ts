// Fused scaled-dot-product attention with per-query visible key ranges, an optional additive bias,
// grouped-query heads and optionally returned probabilities.
//   q: (B, Tq, NH, HS); k, v: (B, Tk, NKV, HS) -> out (B, Tq, NH, HS)
// Masks are ranges, not (T, T) tensors: query t of sample b sees keys [keyLo[b*Tq+t], keyHi[b*Tq+t]).
// That expresses causal masks, padding, KV-cache decoding and VoCo's prefix-blocking mask.
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import { fmt, OpError } from "../shape.js";
import { Tensor } from "../tensor.js";

export interface AttentionOptions {
  /** Visible key ranges per query, (B*Tq) each. Default: causal, the last query aligned to the last key. */
  keyLo?: Int32Array;
  keyHi?: Int32Array;
  /** With no ranges given: causal (default) or full attention. */
  causal?: boolean;
  /** Additive bias (B, Tk) shared by all queries, or (B, Tq, Tk); shared across heads. Differentiable. */
  bias?: Tensor;
  /** Score scale; default 1/sqrt(HS). */
  scale?: number;
  /** Also return the probabilities (B, NH, Tq, Tk) (not differentiable; for token-ranking reducers). */
  returnProbs?: boolean;
}

export interface AttentionResult {
  out: Tensor;
  probs: Tensor | null;
}

/** Default ranges: causal with the queries at the end of the keys (decoding against a cache), or full. */
export function causalRanges(B: number, Tq: number, Tk: number, causal = true): { keyLo: Int32Array; keyHi: Int32Array } {
  const keyLo = new Int32Array(B * Tq), keyHi = new Int32Array(B * Tq);
  for (let b = 0; b < B; b++) for (let t = 0; t < Tq; t++) keyHi[b * Tq + t] = causal ? Tk - Tq + t + 1 : Tk;
  return { keyLo, keyHi };
}

export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): AttentionResult {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) {
    throw new OpError("attention", `q, k, v must be 4-d (B, T, heads, HS): q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`);
  }
  const [B, Tq, NH, HS] = q.shape, [Bk, Tk, NKV, HSk] = k.shape;
  if (Bk !== B || HSk !== HS || k.shape.join() !== v.shape.join() || NH % NKV !== 0) {
    throw new OpError("attention", `incompatible q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)} (need same B and HS, k = v, NH % NKV = 0)`);
  }
  const ranges = opts.keyLo && opts.keyHi ? { keyLo: opts.keyLo, keyHi: opts.keyHi } : causalRanges(B, Tq, Tk, opts.causal ?? true);
  if ((opts.keyLo === undefined) !== (opts.keyHi === undefined)) throw new OpError("attention", "give both keyLo and keyHi, or neither");
  if (ranges.keyLo.length !== B * Tq || ranges.keyHi.length !== B * Tq) {
    throw new OpError("attention", `keyLo/keyHi have ${ranges.keyLo.length}/${ranges.keyHi.length} entries, need B*Tq = ${B * Tq}`);
  }
  const bias = opts.bias ?? null;
  let perQuery = false;
  if (bias !== null) {
    if (bias.shape.join() === [B, Tq, Tk].join()) perQuery = true;
    else if (bias.shape.join() !== [B, Tk].join()) {
      throw new OpError("attention", `bias ${fmt(bias.shape)} must be (B, Tk) = (${B}, ${Tk}) or (B, Tq, Tk) = (${B}, ${Tq}, ${Tk})`);
    }
  }
  const scale = opts.scale ?? 1 / Math.sqrt(HS);
  const out = Tensor.zeros(q.shape);
  const lse = new Float32Array(B * NH * Tq); // saved for backward
  const probs = opts.returnProbs ? Tensor.zeros([B, NH, Tq, Tk]) : null;
  K().attentionForward(out.data, lse, probs?.data ?? null, q.data, k.data, v.data, bias?.data ?? null,
    ranges.keyLo, ranges.keyHi, B, Tq, Tk, NH, NKV, HS, scale, perQuery);
  const inputs = bias === null ? [q, k, v] : [q, k, v, bias];
  record(out, "attention", inputs, (g) => {
    const dq = Tensor.zeros(q.shape), dk = Tensor.zeros(k.shape), dv = Tensor.zeros(v.shape);
    const dbias = bias !== null && bias.requiresGrad ? Tensor.zeros(bias.shape) : null;
    K().attentionBackward(dq.data, dk.data, dv.data, dbias?.data ?? null, g.data, out.data, lse,
      q.data, k.data, v.data, bias?.data ?? null, ranges.keyLo, ranges.keyHi, B, Tq, Tk, NH, NKV, HS, scale, perQuery);
    return bias === null ? [dq, dk, dv] : [dq, dk, dv, dbias];
  });
  return { out, probs };
}
