// Reference fused masked attention, forward and backward (see Kernels.attentionForward).
// q, out: (B, Tq, NH, HS); k, v: (B, Tk, NKV, HS); lse: (B, NH, Tq); probs: (B, NH, Tq, Tk).
// Masking is by per-query visible key ranges [keyLo, keyHi), so no (Tq, Tk) mask tensor exists;
// an optional additive bias is per key (B, Tk) or per query and key (B, Tq, Tk).
// Backward recomputes the probabilities from lse (flash-attention style) instead of storing them.

interface Dims {
  B: number; Tq: number; Tk: number; NH: number; NKV: number; HS: number; scale: number; biasPerQuery: boolean;
}

/** Scaled, biased scores of query (b, t, h) over keys lo..hi-1, written to s[0..hi-lo). */
function scores(s: Float64Array, q: Float32Array, k: Float32Array, bias: Float32Array | null, d: Dims,
  b: number, t: number, h: number, lo: number, hi: number): void {
  const { Tq, Tk, NH, NKV, HS, scale } = d;
  const kvh = Math.floor(h / (NH / NKV));
  const qOff = ((b * Tq + t) * NH + h) * HS;
  const biasOff = bias === null ? 0 : d.biasPerQuery ? (b * Tq + t) * Tk : b * Tk;
  for (let j = lo; j < hi; j++) {
    const kOff = ((b * Tk + j) * NKV + kvh) * HS;
    let dot = 0;
    for (let e = 0; e < HS; e++) dot += q[qOff + e] * k[kOff + e];
    s[j - lo] = dot * scale + (bias === null ? 0 : bias[biasOff + j]);
  }
}

export function attentionForward(
  out: Float32Array, lse: Float32Array, probs: Float32Array | null,
  q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null,
  keyLo: Int32Array, keyHi: Int32Array,
  B: number, Tq: number, Tk: number, NH: number, NKV: number, HS: number,
  scale: number, biasPerQuery: boolean,
): void {
  const d: Dims = { B, Tq, Tk, NH, NKV, HS, scale, biasPerQuery };
  const s = new Float64Array(Tk), acc = new Float64Array(HS);
  if (probs !== null) probs.fill(0, 0, B * NH * Tq * Tk);
  for (let b = 0; b < B; b++) for (let h = 0; h < NH; h++) {
    const kvh = Math.floor(h / (NH / NKV));
    for (let t = 0; t < Tq; t++) {
      const lo = Math.max(0, keyLo[b * Tq + t]), hi = Math.min(Tk, keyHi[b * Tq + t]);
      const oOff = ((b * Tq + t) * NH + h) * HS;
      const lseIdx = (b * NH + h) * Tq + t;
      acc.fill(0);
      let mx = -Infinity;
      if (hi > lo) {
        scores(s, q, k, bias, d, b, t, h, lo, hi);
        for (let j = 0; j < hi - lo; j++) if (s[j] > mx) mx = s[j];
      }
      if (mx === -Infinity) { // nothing visible (or every visible key biased to -inf)
        for (let e = 0; e < HS; e++) out[oOff + e] = 0;
        lse[lseIdx] = -Infinity;
        continue;
      }
      let sum = 0;
      for (let j = 0; j < hi - lo; j++) { s[j] = Math.exp(s[j] - mx); sum += s[j]; }
      for (let j = lo; j < hi; j++) {
        const p = s[j - lo] / sum;
        if (probs !== null) probs[lseIdx * Tk + j] = p;
        const vOff = ((b * Tk + j) * NKV + kvh) * HS;
        for (let e = 0; e < HS; e++) acc[e] += p * v[vOff + e];
      }
      for (let e = 0; e < HS; e++) out[oOff + e] = acc[e];
      lse[lseIdx] = mx + Math.log(sum);
    }
  }
}

// P = exp(S - lse);  dP = dO·vᵀ;  dS = P (dP - <dO, O>);  dq = dS·k s;  dk = dSᵀ·q s;  dv = Pᵀ·dO
export function attentionBackward(
  dq: Float32Array, dk: Float32Array, dv: Float32Array, dbias: Float32Array | null,
  dout: Float32Array, out: Float32Array, lse: Float32Array,
  q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null,
  keyLo: Int32Array, keyHi: Int32Array,
  B: number, Tq: number, Tk: number, NH: number, NKV: number, HS: number,
  scale: number, biasPerQuery: boolean,
): void {
  const d: Dims = { B, Tq, Tk, NH, NKV, HS, scale, biasPerQuery };
  const s = new Float64Array(Tk);
  for (let b = 0; b < B; b++) for (let h = 0; h < NH; h++) {
    const kvh = Math.floor(h / (NH / NKV));
    for (let t = 0; t < Tq; t++) {
      const lo = Math.max(0, keyLo[b * Tq + t]), hi = Math.min(Tk, keyHi[b * Tq + t]);
      const l = lse[(b * NH + h) * Tq + t];
      if (hi <= lo || l === -Infinity) continue;
      const qOff = ((b * Tq + t) * NH + h) * HS;
      scores(s, q, k, bias, d, b, t, h, lo, hi);
      let D = 0; // rowsum(dO * O)
      for (let e = 0; e < HS; e++) D += dout[qOff + e] * out[qOff + e];
      for (let j = lo; j < hi; j++) {
        const p = Math.exp(s[j - lo] - l);
        if (p === 0) continue;
        const kOff = ((b * Tk + j) * NKV + kvh) * HS;
        let dp = 0;
        for (let e = 0; e < HS; e++) dp += dout[qOff + e] * v[kOff + e];
        const ds = p * (dp - D);
        for (let e = 0; e < HS; e++) {
          dv[kOff + e] += p * dout[qOff + e];
          dq[qOff + e] += ds * k[kOff + e] * scale;
          dk[kOff + e] += ds * q[qOff + e] * scale;
        }
        if (dbias !== null) dbias[(biasPerQuery ? (b * Tq + t) * Tk : b * Tk) + j] += ds;
      }
    }
  }
}
