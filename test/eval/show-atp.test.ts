// `show atp`: one panel per ATP layer, and the kept counts it reports are the hooks' own.
import { describe, expect, it } from "vitest";
import { ATP_DEFAULTS } from "../../src/compress/atp/config.js";
import { AtpHooks } from "../../src/compress/atp/hooks.js";
import { AtpModules } from "../../src/compress/atp/module.js";
import { createImage } from "../../src/data/image.js";
import { showAtp } from "../../src/eval/show-atp.js";
import { presetConfig } from "../../src/model/presets.js";
import { LlavaForCausalLM } from "../../src/model/vlm.js";
import { Rng } from "../../src/tensor/index.js";
import { buildVocab } from "../../src/train/format.js";

describe("show atp", () => {
  it("draws the input and one panel per ATP layer, reporting the kept counts", () => {
    const vocab = buildVocab();
    const cfg = presetConfig("tiny", vocab.size, vocab.special("<image>"), vocab.special("<voco>"));
    const m = new LlavaForCausalLM(cfg, 1);
    const atpCfg = { ...ATP_DEFAULTS, layers: [0] };
    const hooks = new AtpHooks(new AtpModules(atpCfg, new Rng(2)), atpCfg, "hard", cfg.text.num_hidden_layers, 4);
    const v = showAtp(m, vocab, hooks, createImage(32, 32, [120, 30, 30]), "what colour is the object in the top left?");
    expect(v.keptPerLayer).toEqual([hooks.kept[0][0]]);
    expect(v.image.height).toBe(192 + 40 + 16);
    expect(v.image.width).toBeGreaterThanOrEqual(2 * (192 + 8) + 8);
    expect(vocab.tokens).toContain(v.answer);
  });
});

describe("diagnose", () => {
  it("reports per-layer attention preference for the asked colour", async () => {
    const { colourAttention } = await import("../../src/eval/diagnose.js");
    const vocab = buildVocab();
    const cfg = presetConfig("tiny", vocab.size, vocab.special("<image>"), vocab.special("<voco>"));
    const r = colourAttention(new LlavaForCausalLM(cfg, 1), vocab, 2);
    expect(r.images).toBe(2);
    expect(r.colourWord.length).toBe(cfg.text.num_hidden_layers);
    expect([...r.colourWord, ...r.lastToken].every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
  });
});
