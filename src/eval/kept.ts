// Kept-token accounting for pruning reducers: the fraction of vision tokens alive, averaged over
// decoder layers and samples (the figure ATP's "25% of the tokens" refers to).
import type { LayerStats } from "../model/llama.js";

/** Mean over forwards, rows and layers of (vision tokens alive at the layer / vision tokens at layer 0). */
export function keptFraction(forwards: readonly (readonly LayerStats[])[]): number {
  let sum = 0, n = 0;
  for (const stats of forwards) {
    if (stats.length === 0) continue;
    const first = stats[0].vision;
    for (let b = 0; b < first.length; b++) {
      if (first[b] === 0) continue;
      for (const s of stats) { sum += s.vision[b] / first[b]; n++; }
    }
  }
  return n === 0 ? 1 : sum / n;
}

/** Per layer: mean vision tokens alive over forwards and rows. */
export function keptPerLayer(forwards: readonly (readonly LayerStats[])[]): number[] {
  if (forwards.length === 0) return [];
  const nL = forwards[0].length, sums = new Array<number>(nL).fill(0);
  let rows = 0;
  for (const stats of forwards) {
    stats.forEach((s, l) => { for (const v of s.vision) sums[l] += v; });
    rows += stats[0]?.vision.length ?? 0;
  }
  return sums.map((s) => s / Math.max(1, rows));
}

export interface KeptSpread { mean: number; std: number; min: number; max: number }

/**
 * Each question's kept fraction (vision tokens alive averaged over layers, over its layer-0 count), in
 * the order the forwards scored them, one row each (as evaluateVqa batches them); NaN for a row that
 * had no vision tokens.
 */
export function keptPerQuestion(forwards: readonly (readonly LayerStats[])[]): number[] {
  const out: number[] = [];
  for (const stats of forwards) {
    const first = stats[0]?.vision;
    if (first === undefined) continue;
    for (let b = 0; b < first.length; b++) out.push(first[b] === 0 ? NaN : stats.reduce((s, l) => s + l.vision[b], 0) / (stats.length * first[b]));
  }
  return out;
}

/** Per question type: each question's kept fraction (keptPerQuestion), summarised; types[q] is question q's type. */
export function keptByType(forwards: readonly (readonly LayerStats[])[], types: readonly string[]): Record<string, KeptSpread> {
  const per: Record<string, number[]> = {};
  keptPerQuestion(forwards).forEach((f, q) => {
    if (types[q] === undefined || Number.isNaN(f)) return;
    (per[types[q]] ??= []).push(f);
  });
  return Object.fromEntries(Object.entries(per).sort().map(([t, xs]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    return [t, { mean, std, min: Math.min(...xs), max: Math.max(...xs) }];
  }));
}
