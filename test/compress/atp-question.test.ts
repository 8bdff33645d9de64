// Question-aware ATP thresholds (atp_question_input, a vlmc option): the threshold MLP also reads the
// last prompt token's hidden state, RMS-normalised. Checked against states captured independently, the
// plain module (fc_q at zero), a save/load round trip and the recipe's config.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ATP_DEFAULTS, type AtpConfig } from "../../src/compress/atp/config.js";
import { AtpHooks } from "../../src/compress/atp/hooks.js";
import { AtpModules, AtpThresholds } from "../../src/compress/atp/module.js";
import type { TokenLayout } from "../../src/model/layout.js";
import { LlavaForCausalLM, type VlmExample } from "../../src/model/vlm.js";
import { vlmConfigFromDict } from "../../src/model/vlm-config.js";
import { crossEntropy, noGrad, Rng, Tensor, add } from "../../src/tensor/index.js";
import { IGNORE_INDEX } from "../../src/tensor/ops/loss.js";
import { loadAtpModules, saveAtpModules } from "../../src/train/atp-files.js";
import { atpConfigOf, VLM_DEFAULTS } from "../../src/train/recipes/vlm.js";
import { expectAllclose } from "../helpers/allclose.js";
import { randArray } from "../helpers/random.js";

const IMG = 30, C = 16, G = 4;
const cfg = vlmConfigFromDict({
  vocab_size: 31, hidden_size: C, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2,
  initializer_range: 0.3, image_token_index: IMG, voco_token_index: 29,
  vision_config: { hidden_size: 12, intermediate_size: 20, num_hidden_layers: 2, num_attention_heads: 3, image_size: 16, patch_size: 4, initializer_range: 0.2 },
});
const examples: VlmExample[] = [
  { ids: [1, IMG, 5, 6, 7, 8, 9], images: [Float32Array.from(randArray(3 * 256, 1))] },
  { ids: [1, IMG, 8, 9, 10], images: [Float32Array.from(randArray(3 * 256, 2))] },
];
const qCfg: AtpConfig = { ...ATP_DEFAULTS, layers: [0, 1], questionDim: C, straightThrough: true };

/** Modules with a random (non-zero) question weight, so the question moves the thresholds. */
function questionModules(seed: number): AtpModules {
  const mods = new AtpModules(qCfg, new Rng(seed));
  const rng = new Rng(seed + 100);
  for (const t of mods.layers) t.fc_q!.weight.data.set(Tensor.randn(t.fc_q!.weight.shape, rng, 0.5).data);
  return mods;
}

/** Records the question input each threshold module receives. */
function spy(mods: AtpModules): Float32Array[] {
  const seen: Float32Array[] = [];
  mods.layers.forEach((t) => {
    const f = t.forward.bind(t);
    t.forward = (x: Tensor, q?: Tensor) => { seen.push(Float32Array.from(q!.data)); return f(x, q); };
  });
  return seen;
}

/** Hidden state after `layer` at slot t of row b, from a plain forward (nothing pruned before the first ATP layer). */
function stateAt(m: LlavaForCausalLM, ex: VlmExample[], layer: number): (b: number, t: number) => number[] {
  let cap: { h: Tensor; L: TokenLayout } | null = null;
  noGrad(() => m.forwardBatch(m.buildBatch(ex), { hooks: { afterLayer: (l, h, L) => { if (l === layer) cap = { h, L }; return null; } } }));
  const { h, L } = cap!;
  return (b, t) => Array.from(h.data.subarray((b * L.T + t) * C, (b * L.T + t + 1) * C));
}

const rmsNormalised = (v: number[]): number[] => {
  const rms = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length + 1e-6);
  return v.map((x) => x / rms);
};

describe("question-aware ATP thresholds", () => {
  it("read the last prompt token's state at inference, RMS-normalised", () => {
    const m = new LlavaForCausalLM(cfg, 5);
    const mods = questionModules(3);
    const seen = spy(mods);
    const hooks = new AtpHooks(mods, qCfg, "hard", 3, G);
    noGrad(() => m.forwardBatch(m.buildBatch(examples, hooks), { hooks }));
    const h0 = stateAt(m, examples, 0);
    const L = m.buildBatch(examples).layout;
    const expected = [0, 1].flatMap((b) => rmsNormalised(h0(b, L.length[b] - 1)));
    expectAllclose(Array.from(seen[0]), expected, { rtol: 1e-4, atol: 1e-5 }, "question input after layer 0");
  });

  it("read the token the first answer is predicted from while training, not the row's last token", () => {
    const m = new LlavaForCausalLM(cfg, 6);
    const mods = questionModules(4);
    const seen = spy(mods);
    const ex = examples.map((e) => ({ ...e, labels: e.ids.map((t, i) => (i >= e.ids.length - 2 ? t : IGNORE_INDEX)) }));
    const hooks = new AtpHooks(mods, qCfg, "soft", 3, G);
    const batch = m.buildBatch(ex, hooks);
    const out = m.forwardBatch(batch, { hooks });
    const L = batch.layout;
    const firstTarget = [0, 1].map((b) => { let t = 0; while (batch.targets[b * L.T + t] === IGNORE_INDEX) t++; return t; });
    expect(firstTarget.every((t, b) => t < L.length[b] - 1)).toBe(true); // the answer tokens follow it
    const h0 = stateAt(m, ex, 0);
    expectAllclose(Array.from(seen[0]), [0, 1].flatMap((b) => rmsNormalised(h0(b, firstTarget[b]))), { rtol: 1e-4, atol: 1e-5 }, "training question input");
    // and the question weight learns
    add(crossEntropy(out.logits, batch.targets), hooks.budgetLoss()!.loss).backward();
    for (const t of mods.layers) expect(t.fc_q!.weight.grad!.data.some((g) => g !== 0)).toBe(true);
  });

  it("start as the plain module (fc_q at zero) and refuse a missing or unexpected question input", () => {
    const plain = new AtpThresholds({ ...qCfg, questionDim: 0 }, new Rng(7));
    const withQ = new AtpThresholds(qCfg, new Rng(8));
    expect(withQ.fc_q!.weight.data.every((w) => w === 0)).toBe(true);
    for (const k of ["fc", "head_r", "head_s"] as const) { withQ[k].weight.data.set(plain[k].weight.data); withQ[k].bias!.data.set(plain[k].bias!.data); }
    const x = new Tensor(Float32Array.from(randArray(2 * 2 * qCfg.pool, 9)), [2, 2 * qCfg.pool]);
    const q = new Tensor(Float32Array.from(randArray(2 * C, 10)), [2, C]);
    const a = noGrad(() => plain.forward(x)), b = noGrad(() => withQ.forward(x, q));
    expectAllclose(Array.from(b.thetaR.data), Array.from(a.thetaR.data), { rtol: 0, atol: 0 }, "theta_r");
    expectAllclose(Array.from(b.thetaS.data), Array.from(a.thetaS.data), { rtol: 0, atol: 0 }, "theta_s");
    withQ.fc_q!.weight.data.fill(0.3);
    expect(noGrad(() => withQ.forward(x, q)).thetaR.data[0]).not.toBe(a.thetaR.data[0]);
    expect(() => withQ.forward(x)).toThrow(/questionDim is set but no question input/);
    expect(() => plain.forward(x, q)).toThrow(/no question input configured/);
  });

  it("come from the recipe's option with the model's width and survive a save/load round trip", () => {
    const c = atpConfigOf({ ...VLM_DEFAULTS, atp: true, atp_question_input: true }, 6, 256);
    expect(c.questionDim).toBe(256);
    expect(atpConfigOf({ ...VLM_DEFAULTS, atp: true }, 6, 256).questionDim).toBe(0);
    expect(() => atpConfigOf({ ...VLM_DEFAULTS, atp: true, atp_question_input: true }, 6)).toThrow(/atp_question_input=true needs the model's hidden size/);
    const dir = mkdtempSync(join(tmpdir(), "vlmc-atpq-"));
    try {
      const mods = questionModules(11);
      saveAtpModules(dir, mods);
      const back = loadAtpModules(dir, qCfg, 99);
      expect(Array.from(back.layers[1].fc_q!.weight.data)).toEqual(Array.from(mods.layers[1].fc_q!.weight.data));
      expect(() => loadAtpModules(dir, { ...qCfg, questionDim: 0 }, 0)).toThrow(/atp\.safetensors/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
