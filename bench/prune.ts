// `vlmc bench prune`: ATP-LLaVA against the full model, FastV and PyramidDrop at matched average
// kept fraction (so at matched FLOPs; FastV also with its dropped tokens merged, ToMe-style), and
// ATP's ablations, on one harness: accuracy per question type, vision tokens alive per layer, LLM
// FLOPs spent on vision tokens, measured prefill time, the spread of ATP's per-instance kept counts
// by question type, and an SVG plot of accuracy against FLOPs.
// Models folder: full/ (the full model, trained as long as the ATP models) and atp-*/ (ATP models).
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fastVHooks } from "../src/compress/baselines/fastv.js";
import { defaultPruneLayers } from "../src/compress/common.js";
import { pdropHooks } from "../src/compress/baselines/pdrop.js";
import { keptByType, keptFraction, keptPerLayer, type KeptSpread } from "../src/eval/kept.js";
import { hooksFor } from "../src/eval/method.js";
import { timePrefill } from "../src/eval/report.js";
import { pairedDifference } from "../src/eval/paired.js";
import { evaluateVqa, type EvalResult } from "../src/eval/vqa.js";
import { decoderFlops } from "../src/model/flops.js";
import type { Vocab } from "../src/data/vocab.js";
import type { LlavaForCausalLM, VlmHooks } from "../src/model/vlm.js";
import { Rng } from "../src/tensor/random.js";
import { Tensor } from "../src/tensor/tensor.js";
import { loadVlmDir, methodOf, type LoadedVlm } from "../src/train/model-dir.js";
import { scatterSvg } from "./svg-plot.js";
import { skipUnfinished } from "./model-folders.js";
import { median } from "./timing.js";

export interface PruneEntry {
  method: string;
  setting: string;
  kept_fraction: number;
  kept_per_layer: number[];
  accuracy: number;
  per_type: Record<string, number>;
  relative_accuracy_loss: number;
  /** Standard error of relative_accuracy_loss: the paired per-question difference against the full model
   * (same questions), divided by the full model's accuracy. */
  relative_accuracy_loss_se: number;
  /** LLM prefill FLOPs per question, and the reduction of the part spent on vision tokens. */
  llm_flops: number;
  flops_reduction: number;
  /** The same cut counted as if tokens were dropped between layers (the papers' accounting): the layer
   * that decides also runs its MLP on the tokens it drops. flops_reduction counts what runs (pruned
   * before that MLP, same output). */
  flops_reduction_between_layers: number;
  /** Median wall time of one question's prefill (ViT, projector and decoder) and of the decoder alone,
   * timed in interleaved rounds (interleavedPrefill); speed-ups against the full model. */
  prefill_ms: number;
  prefill_speedup: number;
  llm_prefill_ms: number;
  llm_prefill_speedup: number;
  /** ATP only: per-question kept fraction by question type (mean, std, min, max). */
  kept_by_type?: Record<string, KeptSpread>;
}

const BS = 16;
const TIMING_ROUNDS = 30;

interface Timed { model: LlavaForCausalLM; vocab: Vocab; hooks: VlmHooks | undefined }

/** Every method's prefill timed round by round (one question per round, every method on it in turn, after
 * a warm-up round), medians over the rounds: a slow minute on this shared machine slows them all alike,
 * where timing one method after another would hand it to whichever ran then. The order is shuffled
 * every round, so no method always follows the same one. */
function interleavedPrefill(subjects: readonly Timed[], seed: number, rounds: number): { prefill_ms: number; llm_prefill_ms: number }[] {
  const total = subjects.map((): number[] => []), llm = subjects.map((): number[] => []);
  const rng = new Rng(seed + 1);
  for (let i = 0; i <= rounds; i++) {
    // a fresh order each round (seeded): the run right after the full model's pays for its garbage, so
    // no method may always be the one that follows it (a rotation would keep every method's successor)
    shuffled(subjects.length, rng).forEach((j) => {
      const s = subjects[j];
      const t = timePrefill(s.model, s.vocab, "test", seed, i, 0, s.hooks);
      if (i === 0) return; // warm-up
      total[j].push(t.prefill_ms);
      llm[j].push(t.llm_prefill_ms);
    });
  }
  return subjects.map((_, j) => ({ prefill_ms: median(total[j]), llm_prefill_ms: median(llm[j]) }));
}

/** 0..n-1 in a uniformly random order (Fisher-Yates). */
export function shuffled(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function llmFlops(model: LlavaForCausalLM, r: EvalResult, betweenLayers = false): number {
  let f = 0;
  for (const s of r.stats) f += decoderFlops(model.cfg, betweenLayers ? s.map(({ mlpTokens: _, ...rest }) => rest) : s, 0);
  return f / Math.max(1, r.n);
}

/** FastV after layer 0 keeping fraction q: (1 + (nL-1) q) / nL; solve for q at the target. */
export function fastVRatioFor(target: number, nL: number, afterLayer = 0): number {
  const full = afterLayer + 1, rest = nL - full;
  const q = (target * nL - full) / rest;
  return Math.min(0.99, Math.max(0, 1 - q));
}

/** PyramidDrop keeping lambda at each stage end: the lambda whose mean kept fraction is the target (bisection). */
export function pdropLambdaFor(target: number, nL: number, stageEnds: readonly number[]): number {
  const mean = (lam: number) => {
    let s = 0;
    for (let l = 0; l < nL; l++) s += lam ** stageEnds.filter((e) => e < l).length;
    return s / nL;
  };
  let lo = 0.001, hi = 1;
  for (let i = 0; i < 50; i++) { const mid = (lo + hi) / 2; if (mean(mid) > target) hi = mid; else lo = mid; }
  return (lo + hi) / 2;
}

export interface PruneBenchOptions {
  models: string;
  n: number;
  seed?: number;
  /** Extra kept fractions at which FastV and PyramidDrop are also run (besides each ATP model's). */
  targets: number[];
  plot?: string;
  log: (l: string) => void;
}

export function runPruneBench(o: PruneBenchOptions): { entries: PruneEntry[]; n_questions: number } {
  const upperDir = join(o.models, "full");
  if (!existsSync(upperDir)) throw new Error(`${o.models}: no full/ model folder (the full model every method is compared with)`);
  const upper: LoadedVlm = loadVlmDir(upperDir);
  const { model, vocab } = upper, nL = model.cfg.num_hidden_layers, seed = o.seed ?? 0;
  const evalWith = (hooks: VlmHooks | undefined, m = model, v = vocab) => evaluateVqa(m, v, { split: "test", n: o.n, seed, hooks, batchSize: BS });
  o.log("full model");
  const full = evalWith(undefined);
  const timed: Timed[] = [];
  o.log("text only (every vision token dropped before the LLM), for the vision share of the FLOPs");
  const dropAll: VlmHooks = { reduceVision: (f) => ({ feats: new Tensor(new Float32Array(0), [0, f.shape[1]]), patches: new Int32Array(0) }) };
  const textOnly = llmFlops(model, evalWith(dropAll));
  const fFull = llmFlops(model, full);
  const entry = (method: string, setting: string, r: EvalResult, m: LlavaForCausalLM, hooks: VlmHooks | undefined, withSpread = false, v = vocab): PruneEntry => {
    const f = llmFlops(m, r), fBetween = llmFlops(m, r, true);
    timed.push({ model: m, vocab: v, hooks });
    return {
      method, setting, kept_fraction: keptFraction(r.stats), kept_per_layer: keptPerLayer(r.stats), accuracy: r.accuracy, per_type: r.per_type,
      relative_accuracy_loss: (full.accuracy - r.accuracy) / full.accuracy,
      relative_accuracy_loss_se: pairedDifference(full.results, r.results).se / full.accuracy, llm_flops: f,
      flops_reduction: 1 - (f - textOnly) / (fFull - textOnly),
      flops_reduction_between_layers: 1 - (fBetween - textOnly) / (fFull - textOnly),
      prefill_ms: NaN, prefill_speedup: NaN, llm_prefill_ms: NaN, llm_prefill_speedup: NaN, // set by the timing rounds below
      ...(withSpread ? { kept_by_type: keptByType(r.stats, r.results.map((q) => q.type)) } : {}),
    };
  };
  const entries: PruneEntry[] = [entry("full", "all tokens", full, model, undefined)];
  const targets = new Set(o.targets);
  for (const name of readdirSync(o.models).sort()) {
    const dir = join(o.models, name);
    if (!name.startsWith("atp") || skipUnfinished(dir, name, o.log)) continue;
    o.log(name);
    const atp = loadVlmDir(dir);
    const hooks = hooksFor(methodOf(atp.info), atp.model, dir);
    const r = evalWith(hooks, atp.model, atp.vocab);
    const e = entry("ATP", name, r, atp.model, hooks, true, atp.vocab);
    entries.push(e);
    // the baselines at each budgeted model's own kept fraction (atp-25, atp-15, atp-22 ...), not the ablations'
    if (/^atp-\d+$/.test(name)) targets.add(Math.round(e.kept_fraction * 1000) / 1000);
  }
  for (const target of [...targets].sort()) {
    const ratio = fastVRatioFor(target, nL);
    o.log(`FastV after layer 0 dropping ${(100 * ratio).toFixed(1)}% (mean kept ${(100 * target).toFixed(1)}%)`);
    const fv = fastVHooks({ afterLayer: 0, ratio });
    entries.push(entry("FastV", `K=1 R=${(100 * ratio).toFixed(1)}%`, evalWith(fv), model, fv));
    // the same tokens kept, the dropped ones merged into them as ToMe does (log-size bias + averaged states; a vlmc option)
    const fvm = fastVHooks({ afterLayer: 0, ratio, merge: true, mergeStates: true });
    entries.push(entry("FastV+merge", `K=1 R=${(100 * ratio).toFixed(1)}% merged`, evalWith(fvm), model, fvm));
    const ends = defaultPruneLayers(nL), lam = pdropLambdaFor(target, nL, ends);
    o.log(`PyramidDrop stage ends ${ends.join("/")} lambda ${lam.toFixed(3)}`);
    const pd = pdropHooks({ stageEnds: ends, lambda: lam });
    entries.push(entry("PyramidDrop", `ends ${ends.join("/")} λ=${lam.toFixed(3)}`, evalWith(pd), model, pd));
  }
  o.log(`prefill timing: ${TIMING_ROUNDS} rounds over ${entries.length} methods`);
  const times = interleavedPrefill(timed, seed, TIMING_ROUNDS);
  entries.forEach((e, j) => {
    Object.assign(e, times[j], { prefill_speedup: times[0].prefill_ms / times[j].prefill_ms, llm_prefill_speedup: times[0].llm_prefill_ms / times[j].llm_prefill_ms });
  });
  if (o.plot !== undefined) {
    writeFileSync(o.plot, scatterSvg(entries.map((e) => ({ x: e.llm_flops / 1e6, y: e.accuracy, label: e.setting, group: e.method })),
      { title: "Accuracy against LLM prefill FLOPs per question", xLabel: "LLM prefill MFLOPs per question", yLabel: "accuracy" }));
  }
  return { entries, n_questions: full.n };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatPruneTable(r: { entries: PruneEntry[]; n_questions: number }): string {
  const head = ["method", "setting", "kept", "accuracy", "rel. loss ± SE", "vision FLOPs cut", "(between layers)", "prefill ms", "speed-up", "LLM ms", "LLM speed-up"];
  const rows = r.entries.map((e) => [e.method, e.setting, pct(e.kept_fraction), pct(e.accuracy),
    `${pct(e.relative_accuracy_loss)} ± ${(100 * e.relative_accuracy_loss_se).toFixed(1)}`, pct(e.flops_reduction),
    pct(e.flops_reduction_between_layers), e.prefill_ms.toFixed(1), `${e.prefill_speedup.toFixed(2)}x`, e.llm_prefill_ms.toFixed(1), `${e.llm_prefill_speedup.toFixed(2)}x`]);
  const all = [head, ...rows];
  const w = head.map((_, j) => Math.max(...all.map((x) => x[j].length)));
  const lines = [`${r.n_questions} test questions`, ...all.map((x) => x.map((c, j) => (j < 2 ? c.padEnd(w[j]) : c.padStart(w[j]))).join("  "))];
  for (const e of r.entries) {
    if (!e.kept_by_type) continue;
    lines.push("", `${e.setting}: kept fraction per question type (mean ± std [min, max]); per layer ${e.kept_per_layer.map((x) => x.toFixed(1)).join(", ")}`);
    for (const [t, s] of Object.entries(e.kept_by_type)) lines.push(`  ${t.padEnd(12)} ${pct(s.mean)} ± ${pct(s.std)} [${pct(s.min)}, ${pct(s.max)}]`);
  }
  return lines.join("\n");
}
