// Evaluation and ask on a tiny trained model: the results JSON schema, the blind baseline, answers
// by generation, and clear errors for a wrong image size.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createImage } from "../../src/data/image.js";
import { askFromVocoCache, askImage, compressForQuestions } from "../../src/eval/ask.js";
import { modelFingerprint } from "../../src/compress/voco/cache.js";
import { hooksFor } from "../../src/eval/method.js";
import { methodOf } from "../../src/train/model-dir.js";
import { makeExample } from "../../src/data/stream.js";
import { encodeConversation } from "../../src/train/format.js";
import { toFloat } from "../../src/data/image.js";
import { noGrad } from "../../src/tensor/autograd.js";
import { KVCache } from "../../src/model/kv-cache.js";
import { argmax, prefill } from "../../src/model/generate.js";
import { formatEvalReport, runEvalReport, templateStats, type EvalReport } from "../../src/eval/report.js";
import { evaluateVqa, summarize } from "../../src/eval/vqa.js";
import { fastVHooks } from "../../src/compress/baselines/fastv.js";
import { loadVlmDir, type LoadedVlm } from "../../src/train/model-dir.js";
import { runRecipe } from "../../src/train/run.js";
import { trainTinyVlm } from "../helpers/tiny-vlm.js";

let tiny: LoadedVlm;
beforeAll(async () => { tiny = await trainTinyVlm(); });

describe("eval", () => {
  it("the text report of clips says costs are not measured and prints no NaN figures", () => {
    const base: EvalReport = {
      split: "test", kind: "video", seed: 0, n: 4, examples: 1, accuracy: 0.5, per_type: { "video-count": 0.5 }, blind_accuracy: 0.25,
      blind_per_type: { "video-count": 0.25 }, flops_per_question: NaN, vision_tokens_per_question: 144, prefill_ms: NaN, decode_ms_per_token: NaN,
      kv_cache_bytes: NaN, kept_fraction: 1, kept_per_layer: [144], per_template: {},
    };
    const video = formatEvalReport(base);
    expect(video).toMatch(/cost figures are not measured for clips/);
    expect(video).not.toMatch(/NaN/);
    const image = formatEvalReport({ ...base, kind: "image", flops_per_question: 2e9, prefill_ms: 30, decode_ms_per_token: 3, kv_cache_bytes: 2048 });
    expect(image).toMatch(/per question: 2\.000 GFLOPs, prefill 30\.0 ms, decode 3\.00 ms\/token, KV cache 2 KiB/);
  });

  it("reports accuracy per type, the blind baseline, FLOPs, timing and KV bytes", () => {
    const r = runEvalReport(tiny.model, tiny.vocab, { split: "val", examples: 4, priorExamples: 200 });
    expect(r.n).toBeGreaterThan(4);
    for (const k of ["accuracy", "blind_accuracy", "flops_per_question", "prefill_ms", "decode_ms_per_token", "kv_cache_bytes"] as const) {
      expect(typeof r[k]).toBe("number");
      expect(r[k]).toBeGreaterThanOrEqual(0);
    }
    expect(Object.keys(r.per_type).length).toBeGreaterThan(1);
    expect(Object.values(r.per_template).reduce((n, t) => n + t.n, 0)).toBe(r.n);
    expect(r.blind_accuracy).toBeGreaterThan(0); // the prior answers yes/no questions half right
    expect(r.kv_cache_bytes).toBeGreaterThan(0);
  });

  it("--against: the baseline on the same questions, the paired difference and its SE by hand", async () => {
    const o = { split: "val" as const, examples: 6, priorExamples: 200 };
    const same = runEvalReport(tiny.model, tiny.vocab, { ...o, against: { label: "itself", model: tiny.model, vocab: tiny.vocab } });
    expect(same.against).toMatchObject({ model: "itself", accuracy: same.accuracy, difference: 0, se: 0, disagreements: 0 });
    // another model (another seed) against this one: d_i = this_i - other_i over the same questions,
    // mean and sample sd / sqrt(n); this one runs FastV, so a method's hooks come along too
    const other = await trainTinyVlm({ seed: 7 });
    const fastv = fastVHooks({ afterLayer: 0, ratio: 0.5 });
    const r = runEvalReport(tiny.model, tiny.vocab, { ...o, hooks: fastv, against: { label: "full", model: other.model, vocab: other.vocab } });
    const a = evaluateVqa(tiny.model, tiny.vocab, { split: "val", n: 6, hooks: fastv }).results, b = evaluateVqa(other.model, other.vocab, { split: "val", n: 6 }).results;
    const d = a.map((q, i) => (q.correct ? 1 : 0) - (b[i].correct ? 1 : 0));
    const mean = d.reduce((x, y) => x + y, 0) / d.length, sd = Math.sqrt(d.reduce((x, y) => x + (y - mean) ** 2, 0) / (d.length - 1));
    expect(d.some((x) => x !== 0)).toBe(true); // the two answer some questions differently, so the figures are not trivially 0
    expect(r.against!.difference).toBeCloseTo(mean, 12);
    expect(r.against!.se).toBeCloseTo(sd / Math.sqrt(d.length), 12);
    expect(r.against!.disagreements).toBe(d.filter((x) => x !== 0).length);
    expect(r.against!.accuracy).toBeCloseTo(b.filter((q) => q.correct).length / b.length, 12);
    expect(formatEvalReport(r)).toMatch(/against full on the same questions: .* points \(relative loss/);
  });

  it("summarize counts per type by hand", () => {
    const s = summarize([{ type: "a", correct: true }, { type: "a", correct: false }, { type: "b", correct: true }]);
    expect(s).toEqual({ accuracy: 2 / 3, per_type: { a: 0.5, b: 1 }, n: 3 });
  });

  it("per-template stats name the most frequent answer, by hand", () => {
    const q = (template: string, predicted: string, correct: boolean) => ({ template, predicted, correct });
    const t = templateStats([q("e/x", "yes", true), q("e/x", "yes", false), q("e/x", "no", true), q("c/y", "4", false)]);
    expect(t).toEqual({
      "c/y": { accuracy: 0, n: 1, top_prediction: "4", top_share: 1 },
      "e/x": { accuracy: 2 / 3, n: 3, top_prediction: "yes", top_share: 2 / 3 },
    });
  });

  it("ask generates an answer with its cost, and refuses an image of the wrong size unless resized", () => {
    const S = tiny.config.vision.image_size;
    const r = askImage(tiny.model, tiny.vocab, createImage(S, S, [200, 30, 30]), "how many objects are there?", { maxNewTokens: 3 });
    expect(r.tokens.vision).toBe((S / tiny.config.vision.patch_size) ** 2);
    expect(r.tokens.generated).toBeGreaterThan(0);
    expect(r.flops).toBeGreaterThan(0);
    expect(() => askImage(tiny.model, tiny.vocab, createImage(S + 3, S, [0, 0, 0]), "how many objects are there?"))
      .toThrow(new RegExp(`the image is ${S + 3}x${S}, the model expects ${S}x${S}`));
    expect(askImage(tiny.model, tiny.vocab, createImage(S + 3, S, [0, 0, 0]), "how many objects are there?", { resize: true, maxNewTokens: 2 }).tokens.generated).toBeGreaterThan(0);
  });

  it("a VoCo model answers from its cache (stage 2) as the single masked pass does, reusing one cache", async () => {
    const out = mkdtempSync(join(tmpdir(), "vlmc-eval-voco-"));
    await runRecipe({ recipe: "voco", out, overrides: { preset: "tiny", steps: 3, batch_size: 2, eval_every: 0, voco_tokens: 2 }, quiet: true, log: () => {} });
    const v = loadVlmDir(out), m = methodOf(v.info), S = v.config.vision.image_size;
    const ex = makeExample("image", 1, { split: "test", size: S, questions: 4 });
    const img = { width: S, height: S, data: ex.frames[0] };
    const { cache, flops } = compressForQuestions(v.model, v.vocab, img, 2);
    expect(cache.modelId).toBe(modelFingerprint(v.model)); // computed when not given; a given one is used as is
    expect(compressForQuestions(v.model, v.vocab, img, 2, "given-id").cache.modelId).toBe("given-id");
    const c = v.config.text;
    expect(cache.bytes()).toBe(2 * c.num_hidden_layers * 2 * c.num_key_value_heads * (c.hidden_size / c.num_attention_heads) * 4);
    expect(flops).toBeGreaterThan(0);
    const hooks = hooksFor(m, v.model, out);
    for (const qa of ex.qa) {
      // the single masked pass over [BOS, image, VoCo x 2, question] predicts the first answer token
      const { ids } = encodeConversation([{ from: "human", value: qa.question }], v.vocab, 1, 2);
      const image = toFloat(img, "chw", v.config.image_mean, v.config.image_std);
      const batch = noGrad(() => v.model.buildBatch([{ ids, images: [image] }], hooks));
      const kv = new KVCache(1, batch.layout.T, c.num_hidden_layers, c.num_key_value_heads, c.hidden_size / c.num_attention_heads);
      const first = argmax(prefill(v.model, batch.h, batch.layout, kv, hooks).logits.data);
      const cached = askFromVocoCache(v.model, v.vocab, cache, qa.question, { maxNewTokens: 3 });
      expect(v.vocab.decode([first], { skipSpecial: true })).toBe(cached.answer.split(" ")[0]);
      expect(cached.tokens.vision).toBe(0);
      expect(cached.kv_cache_bytes).toBe(cache.bytes());
      // ask on a VoCo model goes through the cache and counts the compression once
      const asked = askImage(v.model, v.vocab, img, qa.question, { hooks, vocoTokens: 2, maxNewTokens: 3 });
      expect(asked.answer).toBe(cached.answer);
      expect(asked.flops).toBeCloseTo(cached.flops + flops, -3);
    }
  });
});
