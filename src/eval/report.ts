// `vlmc eval`: accuracy overall and per question type with the blind baseline beside it, plus the
// cost of answering: FLOPs per question, prefill and decode time, KV-cache bytes. Writes the
// results JSON later benchmarks aggregate.
import type { ExampleKind, Split } from "../data/splits.js";
import type { Vocab } from "../data/vocab.js";
import { makeExample } from "../data/stream.js";
import { decoderFlops, visionFlops } from "../model/flops.js";
import { decodeN, prefill, sample } from "../model/generate.js";
import { KVCache } from "../model/kv-cache.js";
import type { LlavaForCausalLM, VlmHooks } from "../model/vlm.js";
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import { toVlmExample } from "../train/format.js";
import { pairedDifference } from "./paired.js";
import { blindBaseline, evaluateVqa } from "./vqa.js";
import { keptByType, keptFraction, keptPerLayer, type KeptSpread } from "./kept.js";

export interface EvalReport {
  split: string;
  kind: string;
  seed: number;
  n: number;
  examples: number;
  accuracy: number;
  per_type: Record<string, number>;
  blind_accuracy: number;
  blind_per_type: Record<string, number>;
  flops_per_question: number;
  vision_tokens_per_question: number;
  prefill_ms: number;
  decode_ms_per_token: number;
  kv_cache_bytes: number;
  /** Vision tokens alive, averaged over layers and questions, as a fraction; and per layer (tokens). */
  kept_fraction: number;
  kept_per_layer: number[];
  /** When tokens are pruned: each question's kept fraction, by question type (mean, std, min, max). */
  kept_by_type?: Record<string, KeptSpread>;
  /** Per question template: accuracy, count, and the model's most frequent answer with its share
   * (a model that always says "yes" shows here, not in the per-type figures). */
  per_template: Record<string, TemplateStats>;
  /** With a baseline (`vlmc eval --against DIR`): the baseline's accuracy on the same questions, and this
   * model's accuracy minus it, paired per question, with its standard error. */
  against?: AgainstReport;
}

export interface AgainstReport {
  model: string;
  accuracy: number;
  per_type: Record<string, number>;
  difference: number;
  se: number;
  /** (baseline - this) / baseline, as the benchmarks' relative_accuracy_loss, and its standard error. */
  relative_accuracy_loss: number;
  relative_accuracy_loss_se: number;
  /** Questions one of the two answers right and the other wrong. */
  disagreements: number;
}

/** A second model evaluated on the same questions, with its own method. */
export interface Baseline {
  label: string;
  model: LlavaForCausalLM;
  vocab: Vocab;
  hooks?: VlmHooks;
  vocoTokens?: number;
  videoVocoTokens?: number;
  /** Progress of the baseline's evaluation (default: the report's own). */
  onProgress?: (done: number, total: number) => void;
}

export interface TemplateStats {
  accuracy: number;
  n: number;
  top_prediction: string;
  top_share: number;
}

/** Per-template accuracy and the most frequent predicted answer. */
export function templateStats(results: readonly { template: string; predicted: string; correct: boolean }[]): Record<string, TemplateStats> {
  const groups = new Map<string, { ok: number; n: number; preds: Map<string, number> }>();
  for (const q of results) {
    const g = groups.get(q.template) ?? { ok: 0, n: 0, preds: new Map<string, number>() };
    g.n++; g.ok += q.correct ? 1 : 0;
    g.preds.set(q.predicted, (g.preds.get(q.predicted) ?? 0) + 1);
    groups.set(q.template, g);
  }
  const out: Record<string, TemplateStats> = {};
  for (const [t, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const [top, count] = [...g.preds].reduce((best, e) => (e[1] > best[1] ? e : best));
    out[t] = { accuracy: g.ok / g.n, n: g.n, top_prediction: top, top_share: count / g.n };
  }
  return out;
}

export interface ReportOptions {
  split: Split;
  kind?: ExampleKind;
  /** Video with VoCo: tokens per frame (each clip compressed once, questions answered from the cache). */
  videoVocoTokens?: number;
  examples: number;
  seed?: number;
  hooks?: VlmHooks;
  vocoTokens?: number;
  /** Training examples used to estimate the answer prior (default 2000). */
  priorExamples?: number;
  onProgress?: (done: number, total: number) => void;
  against?: Baseline;
}

/** One prefill of timing question `index` (one image and its question, from seed 10,000 on): wall time
 * of the whole prefill (ViT, projector, decoder) and of the decoder alone, and the filled cache. */
export function timePrefill(model: LlavaForCausalLM, vocab: Vocab, split: Split, seed: number, index: number, vocoTokens = 0, hooks?: VlmHooks):
  { prefill_ms: number; llm_prefill_ms: number; cache: KVCache; logits: Tensor } {
  const c = model.cfg;
  const ex = makeExample("image", 10_000 + index, { split, seed, size: model.vcfg.vision.image_size, questions: 1 });
  const input = toVlmExample({ ...ex, conversations: ex.conversations.slice(0, 1) }, vocab, { mean: model.vcfg.image_mean, std: model.vcfg.image_std, vocoTokens });
  const t0 = performance.now();
  const batch = noGrad(() => model.buildBatch([input], hooks));
  const cache = new KVCache(1, batch.layout.T + 8, c.num_hidden_layers, c.num_key_value_heads, c.hidden_size / c.num_attention_heads);
  const t1 = performance.now();
  const p = prefill(model, batch.h, batch.layout, cache, hooks);
  const t2 = performance.now();
  return { prefill_ms: t2 - t0, llm_prefill_ms: t2 - t1, cache, logits: p.logits };
}

/** Median prefill and per-token decode time of single questions with a KV cache, and its bytes. */
export function timeAnswering(model: LlavaForCausalLM, vocab: Vocab, split: Split, seed: number, vocoTokens = 0, hooks?: VlmHooks, runs = 5):
  { prefill_ms: number; decode_ms_per_token: number; kv_cache_bytes: number } {
  const pre: number[] = [], dec: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs + 1; i++) {
    const p = timePrefill(model, vocab, split, seed, i, vocoTokens, hooks);
    const t1 = performance.now();
    const d = decodeN(model, sample(p.logits), p.cache, { maxNewTokens: 4 });
    const t2 = performance.now();
    if (i === 0) continue; // warm-up
    pre.push(p.prefill_ms);
    dec.push((t2 - t1) / Math.max(1, d.stats.length));
    bytes = p.cache.bytes();
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { prefill_ms: med(pre), decode_ms_per_token: med(dec), kv_cache_bytes: bytes };
}

export function runEvalReport(model: LlavaForCausalLM, vocab: Vocab, o: ReportOptions): EvalReport {
  const seed = o.seed ?? 0;
  const kind = o.kind ?? "image";
  const r = evaluateVqa(model, vocab, { split: o.split, n: o.examples, seed, hooks: o.hooks, vocoTokens: o.vocoTokens, onProgress: o.onProgress, kind, videoVocoTokens: o.videoVocoTokens });
  const blind = blindBaseline(r.results, kind, o.priorExamples ?? (kind === "video" ? 500 : 2000), seed);
  // decoder FLOPs over all evaluated questions (each forward scored a batch), plus one ViT pass per question
  let decoder = 0;
  for (const s of r.stats) decoder += decoderFlops(model.cfg, s, 0);
  const perQ = kind === "video" ? NaN : decoder / Math.max(1, r.n) + 2 * model.cfg.hidden_size * model.cfg.vocab_size
    + visionFlops(model.vcfg.vision, model.cfg.hidden_size, model.vcfg.mm_vision_select_layer);
  // cost is measured on single-image prompts; for clips it is not measured here (bench voco covers video)
  const kept = keptFraction(r.stats);
  const timing = kind === "video" ? { prefill_ms: NaN, decode_ms_per_token: NaN, kv_cache_bytes: NaN } : timeAnswering(model, vocab, o.split, seed, o.vocoTokens, o.hooks);
  return {
    split: o.split, kind, seed, n: r.n, examples: o.examples, accuracy: r.accuracy, per_type: r.per_type,
    blind_accuracy: blind.accuracy, blind_per_type: blind.per_type, flops_per_question: perQ,
    vision_tokens_per_question: (model.vcfg.vision.image_size / model.vcfg.vision.patch_size) ** 2,
    ...timing, kept_fraction: kept, kept_per_layer: keptPerLayer(r.stats),
    ...(kept < 1 ? { kept_by_type: keptByType(r.stats, r.results.map((q) => q.type)) } : {}),
    per_template: templateStats(r.results),
    ...(o.against === undefined ? {} : { against: againstReport(r.results, o.against, o, seed, kind) }),
  };
}

function againstReport(results: Parameters<typeof pairedDifference>[0], b: Baseline, o: ReportOptions, seed: number, kind: ExampleKind): AgainstReport {
  const base = evaluateVqa(b.model, b.vocab, { split: o.split, n: o.examples, seed, hooks: b.hooks, vocoTokens: b.vocoTokens, kind, videoVocoTokens: b.videoVocoTokens, onProgress: b.onProgress ?? o.onProgress });
  const d = pairedDifference(results, base.results);
  return {
    model: b.label, accuracy: base.accuracy, per_type: base.per_type, difference: d.difference, se: d.se,
    relative_accuracy_loss: -d.difference / base.accuracy, relative_accuracy_loss_se: d.se / base.accuracy, disagreements: d.disagreements,
  };
}

export function formatTemplates(r: EvalReport): string {
  const names = Object.keys(r.per_template);
  const w = Math.max(8, ...names.map((t) => t.length));
  return [`${"template".padEnd(w)}  accuracy     n  most frequent answer`,
    ...names.map((t) => {
      const s = r.per_template[t];
      return `${t.padEnd(w)}  ${(100 * s.accuracy).toFixed(1).padStart(7)}%  ${String(s.n).padStart(4)}  ${s.top_prediction} (${(100 * s.top_share).toFixed(0)}%)`;
    })].join("\n");
}

export function formatEvalReport(r: EvalReport): string {
  const types = Object.keys(r.per_type);
  const w = Math.max(8, ...types.map((t) => t.length));
  const lines = [
    `split ${r.split} (seed ${r.seed}): ${r.n} questions on ${r.examples} ${r.kind === "video" ? "clips" : "images"}`,
    `${"type".padEnd(w)}  accuracy  blind`,
    ...types.map((t) => `${t.padEnd(w)}  ${(100 * r.per_type[t]).toFixed(1).padStart(7)}%  ${(100 * (r.blind_per_type[t] ?? 0)).toFixed(1).padStart(5)}%`),
    `${"overall".padEnd(w)}  ${(100 * r.accuracy).toFixed(1).padStart(7)}%  ${(100 * r.blind_accuracy).toFixed(1).padStart(5)}%`,
    "",
    ...(r.kind === "video"
      ? ["(cost figures are not measured for clips here: see vlmc bench voco)"]
      : [
        `vision tokens alive per layer: ${r.kept_per_layer.map((x) => x.toFixed(1)).join(", ")} (${(100 * r.kept_fraction).toFixed(1)}% on average)`,
        ...(r.kept_by_type === undefined ? [] : [`kept by question type (mean ± std): ${Object.entries(r.kept_by_type)
          .map(([t, k]) => `${t} ${(100 * k.mean).toFixed(1)} ± ${(100 * k.std).toFixed(1)}%`).join(", ")}`]),
        `per question: ${(r.flops_per_question / 1e9).toFixed(3)} GFLOPs, prefill ${r.prefill_ms.toFixed(1)} ms, decode ${r.decode_ms_per_token.toFixed(2)} ms/token, KV cache ${(r.kv_cache_bytes / 1024).toFixed(0)} KiB`,
      ]),
    ...(r.against === undefined ? [] : ["", formatAgainst(r.against)]),
  ];
  return lines.join("\n");
}

function formatAgainst(a: AgainstReport): string {
  const pts = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
  return `against ${a.model} on the same questions: ${(100 * a.accuracy).toFixed(1)}%; this model ${pts(a.difference)} ± ${(100 * a.se).toFixed(1)} points ` +
    `(relative loss ${(100 * a.relative_accuracy_loss).toFixed(1)} ± ${(100 * a.relative_accuracy_loss_se).toFixed(1)}%; paired standard error, ${a.disagreements} questions answered differently)`;
}
