// `vlmc bench voco`: VoCo-LLaMA against its bounds and the average-pooling baseline (accuracy and
// retention per number of VoCo tokens, from a folder of trained models), and the cost of cached
// inference per question (no cache / full vision K/V cache / VoCo cache) per model size.
// Models folder layout (written by the suite in the README): upper/ (VoCo tokens inserted, no mask),
// voco-N/ (trained with the mask), pool-N/ (average pooling to N tokens), voco-pool-N/ (VoCo whose
// <voco> tokens start from the pooled tokens: a vlmc option).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { methodOf, loadVlmDir } from "../src/train/model-dir.js";
import { hooksFor } from "../src/eval/method.js";
import { pairedDifference, type PairedDifference } from "../src/eval/paired.js";
import { evaluateVqa, type QuestionResult } from "../src/eval/vqa.js";
import { presetConfig, type PresetName } from "../src/model/presets.js";
import { LlavaForCausalLM } from "../src/model/vlm.js";
import { Rng } from "../src/tensor/random.js";
import { buildVocab } from "../src/train/format.js";
import { skipUnfinished } from "./model-folders.js";
import { cachedInference, type CachedInferenceResult } from "./voco-cache.js";

export interface VocoAccuracy {
  upper: number | null;
  lower: number | null;
  voco: Record<string, number>;
  avgpool: Record<string, number>;
  /** VoCo with the pooled start (voco_pool_init, a vlmc option). */
  voco_pool: Record<string, number>;
}

export interface VideoPart {
  /** Video accuracy: full tokens (every frame's vision tokens in context) and N VoCo tokens per frame. */
  accuracy: Record<string, number>;
  /** Frames that fit in a context of `context` tokens beside a 32-token question, per preset. */
  frames_in_context: Record<string, { context: number; full_tokens: number; voco: Record<string, number> }>;
}

export interface VocoBenchResult {
  video: VideoPart;
  accuracy: VocoAccuracy & Record<string, unknown>;
  retention: Record<string, number>;
  avgpool_retention: Record<string, number>;
  voco_pool_retention: Record<string, number>;
  cached_inference: Record<string, CachedInferenceResult[]>;
  n_questions: number;
  /** Per N: VoCo's accuracy minus average pooling's on the same questions, with its paired standard
   * error (is "VoCo beats pooling at equal N" more than noise?); the same for the pooled-start VoCo. */
  voco_minus_avgpool: Record<string, PairedDifference>;
  voco_pool_minus_avgpool: Record<string, PairedDifference>;
}

function evalDir(dir: string, n: number, seed: number, maskOverride?: boolean): { accuracy: number; n: number; results: QuestionResult[] } {
  const { model, vocab, info } = loadVlmDir(dir);
  const m = methodOf(info);
  if (maskOverride !== undefined) m.vocoMask = maskOverride;
  const r = evaluateVqa(model, vocab, { split: "test", n, seed, hooks: hooksFor(m, model, dir), vocoTokens: m.vocoTokens });
  return { accuracy: r.accuracy, n: r.n, results: r.results };
}

export interface VocoAccuracyRun {
  acc: VocoAccuracy;
  questions: number;
  /** Per-question results of each voco-N / pool-N / voco-pool-N folder, by folder name. */
  results: Record<string, QuestionResult[]>;
}

export function vocoAccuracy(modelsDir: string, n: number, log: (l: string) => void, seed = 0): VocoAccuracyRun {
  const acc: VocoAccuracy = { upper: null, lower: null, voco: {}, avgpool: {}, voco_pool: {} };
  const results: Record<string, QuestionResult[]> = {};
  let questions = 0;
  const upper = join(modelsDir, "upper");
  if (existsSync(upper) && !skipUnfinished(upper, "upper", log)) {
    log("upper bound (no mask) and lower bound (the same model with the mask)");
    const u = evalDir(upper, n, seed, false), l = evalDir(upper, n, seed, true);
    acc.upper = u.accuracy; acc.lower = l.accuracy; questions = u.n;
  }
  for (const name of existsSync(modelsDir) ? readdirSync(modelsDir).sort() : []) {
    const m = /^(voco|pool|voco-pool)-(\d+)$/.exec(name);
    if (!m || skipUnfinished(join(modelsDir, name), name, log)) continue;
    log(`${name}`);
    const r = evalDir(join(modelsDir, name), n, seed);
    (m[1] === "voco" ? acc.voco : m[1] === "pool" ? acc.avgpool : acc.voco_pool)[m[2]] = r.accuracy;
    results[name] = r.results;
    questions = r.n;
  }
  return { acc, questions, results };
}

/** For every N with both a `${kind}-N` and a `pool-N` folder: kind's accuracy minus pooling's, paired. */
export function minusAvgPool(results: Record<string, QuestionResult[]>, kind: "voco" | "voco-pool"): Record<string, PairedDifference> {
  const out: Record<string, PairedDifference> = {};
  for (const [name, r] of Object.entries(results)) {
    const m = new RegExp(`^${kind}-(\\d+)$`).exec(name);
    const pool = m === null ? undefined : results[`pool-${m[1]}`];
    if (m !== null && pool !== undefined) out[m[1]] = pairedDifference(r, pool);
  }
  return out;
}

export function retention(score: number, upper: number | null, lower: number | null): number {
  if (upper === null || lower === null || upper === lower) return NaN;
  return (score - lower) / (upper - lower);
}

/** Cached-inference costs on a preset (random weights: cost does not depend on them). */
export function vocoCosts(preset: PresetName, tokens: readonly number[], log: (l: string) => void): CachedInferenceResult[] {
  const vocab = buildVocab();
  const model = new LlavaForCausalLM(presetConfig(preset, vocab.size, vocab.special("<image>"), vocab.special("<voco>")), 0);
  const S = model.vcfg.vision.image_size, rng = new Rng(5);
  const pixels = Float32Array.from({ length: 3 * S * S }, () => rng.normal());
  const question = [vocab.id("user"), ...vocab.encode("what colour is the object in the top left ?"), vocab.id("assistant")];
  return tokens.map((N) => {
    log(`[${preset}] cached inference with ${N} VoCo token(s)`);
    return cachedInference(model, N, { bos: vocab.special("<s>"), image: vocab.special("<image>"), voco: vocab.special("<voco>"), question, pixels });
  });
}

/** Video accuracy from models/video-full and models/video-voco-N (clips, test split). */
export function videoAccuracy(modelsDir: string, n: number, log: (l: string) => void, seed = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of existsSync(modelsDir) ? readdirSync(modelsDir).sort() : []) {
    const m = /^video-(full|voco-(\d+))$/.exec(name);
    const dir = join(modelsDir, name);
    if (!m || skipUnfinished(dir, name, log)) continue;
    log(name);
    const { model, vocab, info } = loadVlmDir(dir);
    const method = methodOf(info);
    const r = evaluateVqa(model, vocab, { split: "test", n, seed, kind: "video", videoVocoTokens: method.vocoMask ? method.vocoTokens : 0 });
    out[m[2] === undefined ? "full" : m[2]] = r.accuracy;
  }
  return out;
}

export function framesInContext(preset: PresetName, tokens: readonly number[], context = 2048, question = 32): { context: number; full_tokens: number; voco: Record<string, number> } {
  const v = presetConfig(preset, 8, 4).vision, P = (v.image_size / v.patch_size) ** 2;
  const room = context - question - 1; // BOS
  return { context, full_tokens: Math.floor(room / P), voco: Object.fromEntries(tokens.map((N) => [String(N), Math.floor(room / N)])) };
}

export function runVocoBench(o: { models?: string; n: number; presets: PresetName[]; tokens: number[]; log: (l: string) => void }): VocoBenchResult {
  const { acc, questions, results } = o.models !== undefined ? vocoAccuracy(o.models, o.n, o.log)
    : { acc: { upper: null, lower: null, voco: {}, avgpool: {}, voco_pool: {} }, questions: 0, results: {} };
  const retentions = (byN: Record<string, number>) => Object.fromEntries(Object.entries(byN).map(([k, v]) => [k, retention(v, acc.upper, acc.lower)]));
  const ret = retentions(acc.voco), poolRet = retentions(acc.avgpool), vocoPoolRet = retentions(acc.voco_pool);
  const costs = Object.fromEntries(o.presets.map((p) => [p, vocoCosts(p, o.tokens, o.log)]));
  const video: VideoPart = {
    accuracy: o.models !== undefined ? videoAccuracy(o.models, Math.max(1, Math.round(o.n / 4)), o.log) : {},
    frames_in_context: Object.fromEntries(o.presets.map((p) => [p, framesInContext(p, [2, 8])])),
  };
  return { accuracy: { ...acc, ...acc.voco }, retention: ret, avgpool_retention: poolRet, voco_pool_retention: vocoPoolRet, cached_inference: costs, n_questions: questions, video,
    voco_minus_avgpool: minusAvgPool(results, "voco"), voco_pool_minus_avgpool: minusAvgPool(results, "voco-pool") };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? "-" : `${(100 * x).toFixed(1)}%`);

export function formatVocoTable(r: VocoBenchResult): string {
  const lines: string[] = [];
  if (r.n_questions > 0) {
    lines.push(`accuracy on ${r.n_questions} test questions (retention = (acc - lower) / (upper - lower))`);
    lines.push(`upper bound ${pct(r.accuracy.upper)}, lower bound ${pct(r.accuracy.lower)}`);
    lines.push("tokens  VoCo acc  retention  avg-pool acc  retention  VoCo pooled-start acc  retention");
    const Ns = [...new Set([...Object.keys(r.accuracy.voco), ...Object.keys(r.accuracy.avgpool), ...Object.keys(r.accuracy.voco_pool)])].sort((a, b) => Number(a) - Number(b));
    for (const N of Ns) {
      lines.push(`${N.padStart(6)}  ${pct(r.accuracy.voco[N]).padStart(8)}  ${pct(r.retention[N]).padStart(9)}  ${pct(r.accuracy.avgpool[N]).padStart(12)}  ${pct(r.avgpool_retention[N]).padStart(9)}` +
        `  ${pct(r.accuracy.voco_pool[N]).padStart(21)}  ${pct(r.voco_pool_retention[N]).padStart(9)}`);
    }
    const diff = (d: PairedDifference | undefined) => (d === undefined ? "-" : `${(100 * d.difference).toFixed(1)} ± ${(100 * d.se).toFixed(1)} points`);
    for (const N of Ns) {
      if (r.voco_minus_avgpool[N] === undefined && r.voco_pool_minus_avgpool[N] === undefined) continue;
      lines.push(`N = ${N}: VoCo minus average pooling ${diff(r.voco_minus_avgpool[N])}; pooled-start VoCo minus average pooling ${diff(r.voco_pool_minus_avgpool[N])} (paired SE)`);
    }
    lines.push("");
  }
  if (Object.keys(r.video.accuracy).length > 0) {
    lines.push(`video accuracy: ${Object.entries(r.video.accuracy).map(([k, v]) => `${k === "full" ? "full tokens" : `${k} VoCo/frame`} ${pct(v)}`).join(", ")}`, "");
  }
  for (const [preset, f] of Object.entries(r.video.frames_in_context)) {
    lines.push(`${preset}: frames in a ${f.context}-token context: ${f.full_tokens} with full tokens, ${Object.entries(f.voco).map(([N, x]) => `${x} with ${N} VoCo/frame`).join(", ")}`);
  }
  lines.push("");
  for (const [preset, rows] of Object.entries(r.cached_inference)) {
    lines.push(`per question, ${preset} (${rows[0]?.vision_tokens} vision tokens, ${rows[0]?.question_tokens} question tokens): FLOPs / prefill ms / cache bytes`);
    lines.push("VoCo N  no cache                 full vision K/V cache       VoCo cache                fewer FLOPs  less time  smaller cache");
    for (const x of rows) {
      const f = (c: { flops: number; prefill_ms: number; cache_bytes: number }) => `${(c.flops / 1e6).toFixed(1)}M ${c.prefill_ms.toFixed(2)}ms ${(c.cache_bytes / 1024).toFixed(0)}KiB`.padEnd(26);
      lines.push(`${String(x.voco_tokens).padStart(6)}  ${f(x.no_cache)} ${f(x.full_vision_cache)} ${f(x.voco_cache)} ${pct(x.flops_reduction).padStart(11)}  ${pct(x.time_reduction).padStart(9)}  ${pct(x.cache_bytes_reduction).padStart(13)}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
