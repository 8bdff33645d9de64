// Naive float64 references, written from the formulas and sharing no code with src/kernels.
// Shapes follow the engine's conventions (row-major); see each function.

export function matmul64(a: Float64Array, b: Float64Array, M: number, K: number, N: number,
  transA = false, transB = false): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let p = 0; p < K; p++) s += (transA ? a[p * M + i] : a[i * K + p]) * (transB ? b[j * K + p] : b[p * N + j]);
    c[i * N + j] = s;
  }
  return c;
}

export function softmaxRows64(x: Float64Array, N: number, C: number, log = false): Float64Array {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[n * C + c]);
    if (m === -Infinity) { for (let c = 0; c < C; c++) y[n * C + c] = log ? -Infinity : 0; continue; }
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[n * C + c] - m);
    for (let c = 0; c < C; c++) y[n * C + c] = log ? x[n * C + c] - m - Math.log(s) : Math.exp(x[n * C + c] - m) / s;
  }
  return y;
}

export function rmsNorm64(x: Float64Array, w: Float64Array, N: number, C: number, eps: number): Float64Array {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[n * C + c] ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) y[n * C + c] = x[n * C + c] * r * w[c];
  }
  return y;
}

export function layerNorm64(x: Float64Array, w: Float64Array, b: Float64Array, N: number, C: number, eps: number): Float64Array {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let mu = 0;
    for (let c = 0; c < C; c++) mu += x[n * C + c] / C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[n * C + c] - mu) ** 2 / C;
    for (let c = 0; c < C; c++) y[n * C + c] = ((x[n * C + c] - mu) / Math.sqrt(v + eps)) * w[c] + b[c];
  }
  return y;
}

/** erf by numerical integration (Simpson), independent of the kernels' series. */
export function erf64(x: number): number {
  const n = 2000, h = x / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const t = i * h, f = Math.exp(-t * t);
    s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * f;
  }
  return (2 / Math.sqrt(Math.PI)) * (h / 3) * s;
}

export function gelu64(x: number, approx: "tanh" | "erf"): number {
  if (approx === "erf") return 0.5 * x * (1 + erf64(x / Math.SQRT2));
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** RoPE on (BT, NH, HS), HF rotate_half: out = x cos + rotate_half(x) sin, rotate_half(x) = [-x2, x1]. */
export function rope64(x: Float64Array, pos: Int32Array, BT: number, NH: number, HS: number, theta: number): Float64Array {
  const out = new Float64Array(x.length), half = HS / 2;
  for (let t = 0; t < BT; t++) for (let h = 0; h < NH; h++) {
    const o = (t * NH + h) * HS;
    for (let i = 0; i < HS; i++) {
      const f = 1 / theta ** ((2 * (i % half)) / HS);
      const ang = pos[t] * f;
      const rot = i < half ? -x[o + i + half] : x[o + i - half];
      out[o + i] = x[o + i] * Math.cos(ang) + rot * Math.sin(ang);
    }
  }
  return out;
}

export interface Attn64Args {
  q: Float64Array; k: Float64Array; v: Float64Array; bias?: Float64Array; biasPerQuery?: boolean;
  B: number; Tq: number; Tk: number; NH: number; NKV: number; HS: number;
  /** Visible iff lo <= j < hi; built here as a dense boolean mask for plainness. */
  keyLo: Int32Array; keyHi: Int32Array; scale?: number;
}

/** Attention via an explicit dense (Tq, Tk) mask per sample, -inf scores and a plain softmax. */
export function attention64(a: Attn64Args): { out: Float64Array; probs: Float64Array } {
  const { B, Tq, Tk, NH, NKV, HS } = a;
  const scale = a.scale ?? 1 / Math.sqrt(HS);
  const out = new Float64Array(B * Tq * NH * HS), probs = new Float64Array(B * NH * Tq * Tk);
  for (let b = 0; b < B; b++) for (let h = 0; h < NH; h++) {
    const g = Math.floor(h / (NH / NKV));
    for (let t = 0; t < Tq; t++) {
      const s = new Float64Array(Tk);
      for (let j = 0; j < Tk; j++) {
        const visible = j >= a.keyLo[b * Tq + t] && j < a.keyHi[b * Tq + t];
        if (!visible) { s[j] = -Infinity; continue; }
        let dot = 0;
        for (let e = 0; e < HS; e++) dot += a.q[((b * Tq + t) * NH + h) * HS + e] * a.k[((b * Tk + j) * NKV + g) * HS + e];
        const bias = a.bias === undefined ? 0 : a.biasPerQuery ? a.bias[(b * Tq + t) * Tk + j] : a.bias[b * Tk + j];
        s[j] = dot * scale + bias;
      }
      const p = softmaxRows64(s, 1, Tk);
      for (let j = 0; j < Tk; j++) {
        probs[((b * NH + h) * Tq + t) * Tk + j] = p[j];
        for (let e = 0; e < HS; e++) out[((b * Tq + t) * NH + h) * HS + e] += p[j] * a.v[((b * Tk + j) * NKV + g) * HS + e];
      }
    }
  }
  return { out, probs };
}

export function crossEntropy64(logits: Float64Array, targets: Int32Array, N: number, V: number, ignore = -100): number {
  let total = 0, count = 0;
  for (let n = 0; n < N; n++) {
    if (targets[n] === ignore) continue;
    const ls = softmaxRows64(logits.subarray(n * V, (n + 1) * V), 1, V, true);
    total -= ls[targets[n]];
    count++;
  }
  return count ? total / count : 0;
}
