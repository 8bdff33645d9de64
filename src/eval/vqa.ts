// Question-answering accuracy of a VLM on generated examples, per question type. Every question is
// asked on its own (a single-turn prompt: image + question + assistant marker), and the answer is the
// model's greedy next token: answers are single words, so this equals generating and reading the
// first word, while one batched forward scores many questions. Also the blind baseline: the most frequent
// training answer for each question wording (the answer prior a model could learn without looking).
import { makeExample, type Example } from "../data/stream.js";
import type { ExampleKind, Split } from "../data/splits.js";
import type { Vocab } from "../data/vocab.js";
import type { QA } from "../data/shapes/templates.js";
import type { LlavaForCausalLM, VlmHooks } from "../model/vlm.js";
import { noGrad } from "../tensor/autograd.js";
import { encodeConversation, toVlmExample } from "../train/format.js";
import { compressVideo } from "../compress/voco/video.js";
import { feedText } from "../compress/voco/two-stage.js";
import type { LayerStats } from "../model/llama.js";
import { argmax } from "../model/generate.js";

export interface EvalOptions {
  split: Split;
  kind?: ExampleKind;
  /** Number of examples (each with several questions). */
  n: number;
  /** Dataset seed (default 0); --seed S evaluates fresh examples. */
  seed?: number;
  /** First example index (default 0). */
  start?: number;
  batchSize?: number;
  hooks?: VlmHooks;
  /** <voco> tokens after the image (VoCo models). */
  vocoTokens?: number;
  /** Video with VoCo: compress every frame into this many VoCo tokens, once per clip, and answer each
   * question against the concatenated frame caches (two-stage inference). */
  videoVocoTokens?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface QuestionResult {
  type: string;
  template: string;
  question: string;
  answer: string;
  predicted: string;
  correct: boolean;
}

export interface EvalResult {
  accuracy: number;
  per_type: Record<string, number>;
  n: number;
  results: QuestionResult[];
  /** Per forward: the decoder's stats (tokens alive per layer), for FLOPs. */
  stats: LayerStats[][];
}

/** One single-turn question per entry: [example, qa]. */
function questionsOf(examples: readonly Example[]): [Example, QA][] {
  return examples.flatMap((ex) => ex.qa.map((qa) => [ex, qa] as [Example, QA]));
}

export function evaluateVqa(model: LlavaForCausalLM, vocab: Vocab, opts: EvalOptions): EvalResult {
  const kind = opts.kind ?? "image", bs = opts.batchSize ?? (kind === "video" ? 4 : 16); // a clip is up to 16 images
  const size = model.vcfg.vision.image_size;
  const examples = Array.from({ length: opts.n }, (_, i) => makeExample(kind, (opts.start ?? 0) + i, { split: opts.split, seed: opts.seed ?? 0, size }));
  if (kind === "video" && (opts.videoVocoTokens ?? 0) > 0) return evaluateVideoVoco(model, vocab, examples, opts.videoVocoTokens!, opts);
  const qs = questionsOf(examples);
  const results: QuestionResult[] = [];
  const stats: LayerStats[][] = [];
  for (let i = 0; i < qs.length; i += bs) {
    const chunk = qs.slice(i, i + bs);
    // the prompt only (image + question, ending with the assistant marker): the answer is the model's
    // next token there, and no answer token is ever in the sequence a text-guided reducer reads
    const inputs = chunk.map(([ex, qa]) => toVlmExample({ ...ex, conversations: [{ from: "human", value: `<image>\n${qa.question}` }] },
      vocab, { mean: model.vcfg.image_mean, std: model.vcfg.image_std, vocoTokens: opts.vocoTokens ?? 0 }));
    noGrad(() => {
      const batch = model.buildBatch(inputs, opts.hooks);
      const out = model.forwardBatch(batch, { hooks: opts.hooks });
      stats.push(out.stats);
      const V = model.cfg.vocab_size, L = out.layout;
      chunk.forEach(([, qa], b) => {
        const slot = b * L.T + L.length[b] - 1; // the last prompt token (pruning keeps text tokens)
        results.push(scored(qa, vocab, argmax(out.logits.data.subarray(slot * V, (slot + 1) * V))));
      });
    });
    opts.onProgress?.(Math.min(i + bs, qs.length), qs.length);
  }
  return { ...summarize(results), results, stats };
}

/** A question's result from the model's predicted token id. */
function scored(qa: QA, vocab: Vocab, predictedId: number): QuestionResult {
  const predicted = vocab.tokens[predictedId];
  return { type: qa.type, template: qa.template, question: qa.question, answer: qa.answer, predicted, correct: predicted === vocab.tokens[vocab.id(qa.answer)] };
}

/** VoCo video: each clip compressed once (frame by frame), every question answered from that cache. */
function evaluateVideoVoco(model: LlavaForCausalLM, vocab: Vocab, examples: readonly Example[], N: number, opts: EvalOptions): EvalResult {
  const results: QuestionResult[] = [];
  const ids = { bos: vocab.special("<s>"), image: vocab.special("<image>"), voco: vocab.special("<voco>") };
  const V = model.cfg.vocab_size;
  let done = 0;
  const total = examples.reduce((s, e) => s + e.qa.length, 0);
  noGrad(() => {
    for (const ex of examples) {
      const frames = toVlmExample({ ...ex, conversations: [] }, vocab, { mean: model.vcfg.image_mean, std: model.vcfg.image_std }).images;
      const cache = compressVideo(model, frames, N, ids);
      for (const qa of ex.qa) {
        const { ids: prompt } = encodeConversation([{ from: "human", value: qa.question }], vocab, 0);
        const text = prompt.slice(1); // no BOS: the text follows the frames' VoCo tokens
        const logits = feedText(model, cache.toKVCache(model.cfg, text.length), text);
        results.push(scored(qa, vocab, argmax(logits.data.subarray((text.length - 1) * V, text.length * V))));
        opts.onProgress?.(++done, total);
      }
    }
  });
  return { ...summarize(results), results, stats: [] };
}

export function summarize(results: readonly { type: string; correct: boolean }[]): { accuracy: number; per_type: Record<string, number>; n: number } {
  const per: Record<string, [number, number]> = {};
  for (const r of results) {
    const p = (per[r.type] ??= [0, 0]);
    p[0] += r.correct ? 1 : 0; p[1]++;
  }
  const ok = results.filter((r) => r.correct).length;
  return {
    accuracy: results.length === 0 ? 0 : ok / results.length,
    per_type: Object.fromEntries(Object.entries(per).sort().map(([t, [a, n]]) => [t, a / n])),
    n: results.length,
  };
}

/**
 * The answer prior: for each question wording (exact text), the most frequent answer over `nTrain`
 * training examples (falling back to the template's, then the type's most frequent answer), scored
 * on the evaluation questions. A model that ignores the image can reach about this.
 */
export function blindBaseline(results: readonly QuestionResult[], kind: ExampleKind, nTrain: number, seed = 0): { accuracy: number; per_type: Record<string, number> } {
  const byText = new Map<string, Map<string, number>>(), byTemplate = new Map<string, Map<string, number>>();
  const bump = (m: Map<string, Map<string, number>>, k: string, a: string) => {
    const c = m.get(k) ?? new Map<string, number>();
    c.set(a, (c.get(a) ?? 0) + 1);
    m.set(k, c);
  };
  for (let i = 0; i < nTrain; i++) {
    for (const qa of makeExample(kind, i, { split: "train", seed, render: false }).qa) {
      bump(byText, qa.question, qa.answer);
      bump(byTemplate, qa.template, qa.answer);
    }
  }
  const top = (c: Map<string, number> | undefined) => (c ? [...c].sort((a, b) => b[1] - a[1])[0]?.[0] : undefined);
  const scored = results.map((r) => ({ type: r.type, correct: (top(byText.get(r.question)) ?? top(byTemplate.get(r.template))) === r.answer }));
  const s = summarize(scored);
  return { accuracy: s.accuracy, per_type: s.per_type };
}
