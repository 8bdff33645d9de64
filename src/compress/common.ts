// Pieces shared by the token-ranking reducers (ATP, FastV, PyramidDrop): which slots of a row are
// vision tokens or prompt text, how much attention each vision token receives, and top-k keep masks.
// Attention probabilities come as (B, NH, Tq, Tk) from a layer that was asked for them; keys index
// the same slots as queries (a prefill from an empty cache).
import { TokenKind, type TokenLayout } from "../model/layout.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * Default pruning layers of an nL-layer LLM: after layers 0, nL/3 and 2nL/3 (0/2/4 of 6, 0/4/8 of 12;
 * duplicates and the last layer dropped). ATP's modules and PyramidDrop's stage ends both use it, so
 * the two prune at the same depths. The paper-scale 4/14/24 of 32 would leave more than a 25% budget
 * full at these depths; starting after layer 0 is what lets a 25% average spread over later layers.
 */
export function defaultPruneLayers(nL: number): number[] {
  return [...new Set([0, Math.round(nL / 3), Math.round((2 * nL) / 3)])].filter((e) => e < nL - 1);
}

/** Slots of row b holding vision tokens, in order. */
export function visionSlots(L: TokenLayout, b: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < L.length[b]; t++) if (L.kind[b * L.T + t] === TokenKind.vision) out.push(t);
  return out;
}

/** Text slots of row b after its last vision token, up to and including slot `end` (default: the row's last). */
export function textAfterVision(L: TokenLayout, b: number, end = L.length[b] - 1): number[] {
  const vis = visionSlots(L, b);
  const start = vis.length > 0 ? vis[vis.length - 1] + 1 : 0;
  const out: number[] = [];
  for (let t = start; t <= Math.min(end, L.length[b] - 1); t++) if (L.kind[b * L.T + t] === TokenKind.text) out.push(t);
  return out;
}

/**
 * Attention each key slot receives from the query slots, averaged over heads and over the queries
 * that can see it (a causal query i sees key j only when j is in its visible range). Row b; key slots
 * ascending, as visionSlots gives them.
 */
export function receivedAttention(probs: Tensor, L: TokenLayout, b: number, queries: readonly number[], keys: readonly number[]): Float64Array {
  const [, NH, Tq, Tk] = probs.shape;
  for (let k = 1; k < keys.length; k++) {
    if (keys[k - 1] >= keys[k]) throw new Error(`receivedAttention: key slots must be ascending (slot ${keys[k]} after ${keys[k - 1]})`);
  }
  const sum = new Float64Array(keys.length), n = new Float64Array(keys.length);
  const p = probs.data;
  // query-major, keys innermost: reads each probability row contiguously (a key-major loop strides by
  // Tk and was most of ATP's overhead at 576 tokens); per key the additions run in the same order.
  for (const i of queries) {
    const qi = b * L.T + i;
    // the keys this query sees are one run [k0, k1) of the ascending slots
    const k0 = lowerBound(keys, L.keyLo[qi]), k1 = lowerBound(keys, L.keyHi[qi]);
    for (let h = 0; h < NH; h++) {
      const row = ((b * NH + h) * Tq + i) * Tk;
      for (let k = k0; k < k1; k++) sum[k] += p[row + keys[k]];
    }
    for (let k = k0; k < k1; k++) n[k] += NH;
  }
  for (let k = 0; k < keys.length; k++) sum[k] = n[k] > 0 ? sum[k] / n[k] : 0;
  return sum;
}

/** First index whose value is >= x in an ascending array. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Keep mask (B*T) that keeps every non-vision slot and, per row, the given vision slots. */
export function keepMask(L: TokenLayout, keptVision: readonly (readonly number[])[]): Uint8Array {
  const keep = new Uint8Array(L.B * L.T).fill(1);
  for (let b = 0; b < L.B; b++) {
    for (const t of visionSlots(L, b)) keep[b * L.T + t] = 0;
    for (const t of keptVision[b]) keep[b * L.T + t] = 1;
  }
  return keep;
}

/** The `k` slots with the highest scores (ties: earlier slot first), returned in slot order. */
export function topK(slots: readonly number[], scores: ArrayLike<number>, k: number): number[] {
  const idx = slots.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, Math.max(0, k));
  return idx.map((i) => slots[i]).sort((a, b) => a - b);
}
