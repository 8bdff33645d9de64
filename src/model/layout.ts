// TokenLayout: the per-token bookkeeping of a padded batch that flows through the decoder with the
// hidden states: position ids (RoPE), visible key ranges (the attention mask), the token's kind and
// its index in the original sequence. Reducers that drop tokens between layers produce a new layout
// with `keepTokens`, which preserves positions and remaps the ranges, so no model code changes.
// Legend: B batch, T tokens per row (padded), C hidden.
import { OpError } from "../tensor/shape.js";

export const TokenKind = { pad: 0, text: 1, vision: 2, voco: 3 } as const;
export type TokenKindCode = (typeof TokenKind)[keyof typeof TokenKind];

export interface TokenLayout {
  B: number;
  T: number;
  /** (B*T) RoPE position ids. */
  pos: Int32Array;
  /** (B*T) visible key range [keyLo, keyHi) per query, in this layout's indexing. */
  keyLo: Int32Array;
  keyHi: Int32Array;
  /** (B*T) TokenKind of each slot (pad for padding). */
  kind: Uint8Array;
  /** (B*T) index of the token in the sample's original (unreduced) sequence; -1 for padding. */
  orig: Int32Array;
  /** (B) number of real tokens per row (they come first; padding follows). */
  length: Int32Array;
}

/**
 * A right-padded causal layout for rows of the given lengths and kinds. `kinds[b]` has one entry per
 * real token. Padding slots see no keys (their outputs are zero and never used).
 */
export function causalLayout(kinds: readonly (ArrayLike<number>)[], T?: number): TokenLayout {
  const B = kinds.length;
  const Tm = T ?? Math.max(1, ...kinds.map((k) => k.length));
  const L: TokenLayout = {
    B, T: Tm, pos: new Int32Array(B * Tm), keyLo: new Int32Array(B * Tm), keyHi: new Int32Array(B * Tm),
    kind: new Uint8Array(B * Tm), orig: new Int32Array(B * Tm).fill(-1), length: new Int32Array(B),
  };
  for (let b = 0; b < B; b++) {
    const n = kinds[b].length;
    if (n > Tm) throw new OpError("causalLayout", `row ${b} has ${n} tokens, more than T = ${Tm}`);
    L.length[b] = n;
    for (let t = 0; t < n; t++) {
      const i = b * Tm + t;
      L.pos[i] = t; L.keyHi[i] = t + 1; L.kind[i] = kinds[b][t]; L.orig[i] = t;
    }
  }
  return L;
}

/**
 * Keeps the tokens with keep[b*T+t] = 1 (padding is dropped whatever keep says) and packs each row
 * to the left. Returns the new layout and, for every new slot, the old flat row index to gather
 * hidden states from (padding slots point at their row's first slot and are masked out).
 * Ranges are remapped: a kept query sees exactly the kept keys it saw before.
 */
export function keepTokens(L: TokenLayout, keep: Uint8Array): { layout: TokenLayout; gather: Int32Array } {
  if (keep.length !== L.B * L.T) throw new OpError("keepTokens", `keep has ${keep.length} entries, layout has B*T = ${L.B * L.T}`);
  const kept: number[][] = [];
  for (let b = 0; b < L.B; b++) {
    const row: number[] = [];
    for (let t = 0; t < L.length[b]; t++) if (keep[b * L.T + t]) row.push(t);
    kept.push(row);
  }
  const T2 = Math.max(1, ...kept.map((r) => r.length));
  const N: TokenLayout = {
    B: L.B, T: T2, pos: new Int32Array(L.B * T2), keyLo: new Int32Array(L.B * T2), keyHi: new Int32Array(L.B * T2),
    kind: new Uint8Array(L.B * T2), orig: new Int32Array(L.B * T2).fill(-1), length: new Int32Array(L.B),
  };
  const gather = new Int32Array(L.B * T2);
  for (let b = 0; b < L.B; b++) {
    const row = kept[b];
    // newIndexAtOrAfter[t] = number of kept tokens before old index t: maps an old bound to a new one
    const before = new Int32Array(L.T + 1);
    for (let t = 0, c = 0; t <= L.T; t++) { before[t] = c; if (t < L.T && c < row.length && row[c] === t) c++; }
    N.length[b] = row.length;
    for (let j = 0; j < T2; j++) {
      const i = b * T2 + j;
      if (j >= row.length) { gather[i] = b * L.T; continue; }
      const o = b * L.T + row[j];
      gather[i] = o;
      N.pos[i] = L.pos[o]; N.kind[i] = L.kind[o]; N.orig[i] = L.orig[o];
      N.keyLo[i] = before[Math.max(0, Math.min(L.T, L.keyLo[o]))];
      N.keyHi[i] = before[Math.max(0, Math.min(L.T, L.keyHi[o]))];
    }
  }
  return { layout: N, gather };
}

/** Number of real tokens of each kind, summed over the batch. */
export function countKinds(L: TokenLayout): Record<keyof typeof TokenKind, number> {
  const c = { pad: 0, text: 0, vision: 0, voco: 0 };
  for (let b = 0; b < L.B; b++) for (let t = 0; t < L.length[b]; t++) {
    const k = L.kind[b * L.T + t];
    if (k === TokenKind.text) c.text++; else if (k === TokenKind.vision) c.vision++; else if (k === TokenKind.voco) c.voco++;
  }
  c.pad = L.B * L.T - c.text - c.vision - c.voco;
  return c;
}
