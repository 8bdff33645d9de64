// `vlmc demo`'s rows and text on tiny models: the full model with its KV cache, a VoCo model answering
// from its cache (with the one-time compression shown apart), and a pruning reducer's kept counts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDemo, runDemo } from "../../src/eval/demo.js";
import { hooksFor } from "../../src/eval/method.js";
import { DropAtLayer } from "../../src/compress/debug-reducers.js";
import { loadVlmDir, methodOf } from "../../src/train/model-dir.js";
import { runRecipe } from "../../src/train/run.js";

const quiet = { quiet: true, log: () => {} };

describe("demo", () => {
  it("answers the same questions with every model and formats their costs", async () => {
    const base = mkdtempSync(join(tmpdir(), "vlmc-demo-")), vocoDir = mkdtempSync(join(tmpdir(), "vlmc-demo-voco-"));
    await runRecipe({ recipe: "vlm", out: base, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0 }, ...quiet });
    await runRecipe({ recipe: "voco", out: vocoDir, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init: base, voco_tokens: 1 }, ...quiet });
    const full = loadVlmDir(base), voco = loadVlmDir(vocoDir);
    const P = (full.config.vision.image_size / full.config.vision.patch_size) ** 2;
    const rows = runDemo([
      { name: "full", model: full.model, vocab: full.vocab },
      { name: "voco", model: voco.model, vocab: voco.vocab, hooks: hooksFor(methodOf(voco.info), voco.model, vocoDir), vocoTokens: 1 },
      // the vision tokens start at index 1 (after BOS): drop the first two after layer 0
      { name: "drop2", model: full.model, vocab: full.vocab, hooks: new DropAtLayer(0, [[1, 2]]) },
    ], 2);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.answers.map((a) => a.model)).toEqual(["full", "voco", "drop2"]);
      const [f, v, d] = r.answers.map((a) => a.result);
      expect(f.vision_per_layer).toEqual([P, P]);
      expect(d.vision_per_layer).toEqual([P, P - 2]);
      expect(v.compression?.voco_tokens).toBe(1);
      expect(v.kv_cache_bytes).toBeLessThan(f.kv_cache_bytes);
      for (const a of r.answers) expect(a.correct).toBe(a.answer === r.expected);
    }
    const text = formatDemo(rows);
    expect(text).toMatch(/voco .* 1 VoCo \+ \d+ text tokens, VoCo cache [\d.]+ KiB/);
    expect(text).toContain(`(kept per layer: ${P} ${P - 2})`);
    expect(text).toMatch(/full: \d\/2 correct, voco: \d\/2 correct, drop2: \d\/2 correct/);
  });
});
