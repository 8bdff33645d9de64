// Evaluation and ask on a tiny trained model: the results JSON schema, the blind baseline, answers
// by generation, and clear errors for a wrong image size.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createImage } from "../../src/data/image.js";
import { askImage } from "../../src/eval/ask.js";
import { runEvalReport } from "../../src/eval/report.js";
import { summarize } from "../../src/eval/vqa.js";
import { loadVlmDir, type LoadedVlm } from "../../src/train/model-dir.js";
import { runRecipe } from "../../src/train/run.js";

let tiny: LoadedVlm;
beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "vlmc-eval-"));
  await runRecipe({ recipe: "vlm", out, overrides: { preset: "tiny", steps: 3, batch_size: 2, eval_every: 0 }, quiet: true, log: () => {} });
  tiny = loadVlmDir(out);
});

describe("eval", () => {
  it("reports accuracy per type, the blind baseline, FLOPs, timing and KV bytes", () => {
    const r = runEvalReport(tiny.model, tiny.vocab, { split: "val", examples: 4, priorExamples: 200 });
    expect(r.n).toBeGreaterThan(4);
    for (const k of ["accuracy", "blind_accuracy", "flops_per_question", "prefill_ms", "decode_ms_per_token", "kv_cache_bytes"] as const) {
      expect(typeof r[k]).toBe("number");
      expect(r[k]).toBeGreaterThanOrEqual(0);
    }
    expect(Object.keys(r.per_type).length).toBeGreaterThan(1);
    expect(r.blind_accuracy).toBeGreaterThan(0); // the prior answers yes/no questions half right
    expect(r.kv_cache_bytes).toBeGreaterThan(0);
  });

  it("summarize counts per type by hand", () => {
    const s = summarize([{ type: "a", correct: true }, { type: "a", correct: false }, { type: "b", correct: true }]);
    expect(s).toEqual({ accuracy: 2 / 3, per_type: { a: 0.5, b: 1 }, n: 3 });
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
});
