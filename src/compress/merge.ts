// Proportional attention for pruned vision tokens (a vlmc option, "merge"; after ToMe, Bolya et al.,
// ICLR 2023, which adds log(size) to the attention logits of merged tokens). ATP and FastV drop
// pruned tokens outright; with merging, each pruned vision token is counted into the kept vision
// token whose hidden state it most resembles, and later layers add log(size) to that key's logits,
// so a kept token draws the attention its whole group drew. What it preserves is attention *mass*
// (e.g. how much of the image is red), which a model trained on all tokens may read to count. ToMe
// also replaces a kept token's state by its group's size-weighted average: optional here (mix).
import { TokenKind, type TokenLayout } from "../model/layout.js";
import { matmul } from "../tensor/ops/matmul.js";
import { Tensor } from "../tensor/tensor.js";
import { visionSlots } from "./common.js";

export class MergedSizes {
  /** Per row: size of the token at each original position (1 until merged; 0 once merged away). */
  #size: Float32Array[] = [];
  #merged = false;
  /** The last absorb's moves (row, from slot, to slot, size moved), until mix consumes them. */
  #moves: { b: number; from: number; to: number; size: number }[] = [];

  /** Forget every merge (call per batch, before its first pruning layer). */
  reset(): void {
    this.#size = [];
    this.#merged = false;
    this.#moves = [];
  }

  #row(b: number, L: TokenLayout): Float32Array {
    let s = this.#size[b];
    if (s === undefined) {
      let n = 0;
      for (let t = 0; t < L.length[b]; t++) n = Math.max(n, L.orig[b * L.T + t] + 1);
      s = this.#size[b] = new Float32Array(n).fill(1);
    }
    return s;
  }

  /**
   * After a pruning layer with output h (B, T, C) laid out by L: each vision slot of row b not in
   * kept[b] joins the kept vision slot with the highest cosine similarity of hidden states (centred
   * on the row's vision mean: the states share a large common part), carrying its size along.
   * among[b]: the vision slots still in play (default: all of row b's; straight-through training
   * keeps pruned tokens in the layout, masked). near(b, from, to): which kept slots a token may join
   * (default any); a token with none near is dropped, its size with it.
   */
  absorb(h: Tensor, L: TokenLayout, kept: readonly (readonly number[])[], among?: readonly (readonly number[])[],
    near?: (b: number, from: number, to: number) => boolean): void {
    const C = h.shape[2], x = h.data;
    this.#moves = [];
    for (let b = 0; b < L.B; b++) {
      const size = this.#row(b, L);
      const vis = among?.[b] ?? visionSlots(L, b), keep = new Set(kept[b]);
      const targets = vis.filter((t) => keep.has(t));
      if (targets.length === 0 || targets.length === vis.length) continue;
      const mean = new Float64Array(C);
      for (const t of vis) for (let c = 0; c < C; c++) mean[c] += x[(b * L.T + t) * C + c] / vis.length;
      const unit = (t: number): Float64Array => {
        const v = new Float64Array(C);
        let n = 0;
        for (let c = 0; c < C; c++) { v[c] = x[(b * L.T + t) * C + c] - mean[c]; n += v[c] * v[c]; }
        const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
        for (let c = 0; c < C; c++) v[c] *= inv;
        return v;
      };
      const tv = targets.map(unit);
      for (const t of vis) {
        if (keep.has(t)) continue;
        const u = unit(t);
        let best = -1, bestSim = -Infinity;
        tv.forEach((v, j) => {
          if (near !== undefined && !near(b, t, targets[j])) return;
          let s = 0;
          for (let c = 0; c < C; c++) s += u[c] * v[c];
          if (s > bestSim) { bestSim = s; best = j; }
        });
        const from = L.orig[b * L.T + t];
        if (best < 0) { size[from] = 0; continue; } // nothing kept nearby: dropped
        const to = L.orig[b * L.T + targets[best]];
        this.#moves.push({ b, from: t, to: targets[best], size: size[from] });
        size[to] += size[from];
        size[from] = 0;
        this.#merged = true;
      }
    }
  }

  /**
   * ToMe's state merge for the last absorb (same layout L and states h): each kept token that absorbed
   * others becomes the size-weighted average of itself and them; every other state is unchanged.
   * Differentiable (a (B, T, T) mixing matrix); null if the last absorb moved nothing.
   */
  mix(h: Tensor, L: TokenLayout): Tensor | null {
    if (this.#moves.length === 0) return null;
    const T = L.T, A = new Float32Array(L.B * T * T);
    for (let i = 0; i < L.B * T; i++) A[i * T + (i % T)] = 1;
    for (const { b, from, to, size } of this.#moves) {
      const total = this.sizeAt(L, b, to), row = (b * T + to) * T;
      A[row + from] = size / total;
      A[row + to] -= size / total; // ends at the target's own size before the merge, over the total
    }
    this.#moves = [];
    return matmul(new Tensor(A, [L.B, T, T]), h);
  }

  /** Size of row b's token at slot t of layout L (1 for tokens never merged into or away). */
  sizeAt(L: TokenLayout, b: number, t: number): number {
    const s = this.#size[b], o = L.orig[b * L.T + t];
    return s === undefined || o < 0 || o >= s.length ? 1 : s[o];
  }

  /** (B, T) additive key bias over L's slots: log(size) for vision tokens that absorbed others, 0
   * elsewhere (tokens merged away, size 0, get 0 here: whoever drops them masks them); null before any merge. */
  bias(L: TokenLayout): Tensor | null {
    if (!this.#merged) return null;
    const out = new Float32Array(L.B * L.T);
    for (let b = 0; b < L.B; b++) for (let t = 0; t < L.length[b]; t++) {
      if (L.kind[b * L.T + t] !== TokenKind.vision) continue;
      const s = this.sizeAt(L, b, t);
      if (s > 0) out[b * L.T + t] = Math.log(s);
    }
    return new Tensor(out, [L.B, L.T]);
  }
}
