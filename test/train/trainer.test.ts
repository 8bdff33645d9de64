// The training pipeline end to end on the tiny preset: loss falls, checkpoints are written, a
// resumed run takes exactly the step an uninterrupted run takes, and bad input is refused clearly.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadVlmDir, methodOf } from "../../src/train/model-dir.js";
import { PLURAL_SUFFIX } from "../../src/data/vocab.js";
import { resolveRecipeConfig, runRecipe } from "../../src/train/run.js";
import { parseOverrides } from "../../src/train/config.js";
import { newVlm, VLM_DEFAULTS } from "../../src/train/recipes/vlm.js";
import { buildVocab } from "../../src/train/format.js";
import { presetConfig } from "../../src/model/presets.js";
import { decoderLayerFlops } from "../../src/model/flops.js";
import { defaultPruneLayers } from "../../src/compress/common.js";

const tmp = () => mkdtempSync(join(tmpdir(), "vlmc-train-"));
/** The per-step rows of a run's metrics.jsonl (eval rows left out). */
const stepRows = <R,>(dir: string): R[] =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).filter((m) => "loss" in m) as R[];
const quiet = { quiet: true, log: () => {} };

describe("trainer", () => {
  it("the vision recipe lowers its loss and writes a vision folder", async () => {
    const out = tmp();
    const { result } = await runRecipe({ recipe: "vision", out, overrides: { preset: "tiny", steps: 40, batch_size: 8, eval_every: 0, lr: 3e-3, warmup: 5 }, ...quiet });
    const first = result.losses.slice(0, 5).reduce((a, b) => a + b) / 5, last = result.losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(0.8 * first);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).image_size).toBe(32);
  });

  it("the vision recipe resumes exactly with heads on two layers, and refuses unknown labels", async () => {
    const overrides = { preset: "tiny", steps: 4, batch_size: 2, eval_every: 0, save_every: 0, warmup: 1, labels: "colour,shape,size,col,row,centre", head_layers: "-2,-1" };
    const full = await runRecipe({ recipe: "vision", out: tmp(), overrides, ...quiet });
    const part = tmp();
    const first = await runRecipe({ recipe: "vision", out: part, overrides, stopAfter: 2, ...quiet });
    const rest = await runRecipe({ recipe: "vision", out: tmp(), resume: part, ...quiet });
    const resumed = [...first.result.losses, ...rest.result.losses];
    for (let i = 0; i < 4; i++) expect(resumed[i]).toBeCloseTo(full.result.losses[i], 5);
    await expect(runRecipe({ recipe: "vision", out: tmp(), overrides: { ...overrides, labels: "colour,texture" }, ...quiet })).rejects.toThrow(/"texture" is not one of/);
  });

  it("embed_init_std sets the text embeddings' initial spread; projector_norm reaches the model config", () => {
    const std = (w: Float32Array) => Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    const base = { ...VLM_DEFAULTS, preset: "tiny" };
    const plain = newVlm(base, buildVocab(), () => {});
    expect(std(plain.model.embed_tokens.weight.data)).toBeCloseTo(0.02, 2);
    const wide = newVlm({ ...base, embed_init_std: 1, projector_norm: true }, buildVocab(), () => {});
    expect(std(wide.model.embed_tokens.weight.data)).toBeGreaterThan(0.9);
    expect(std(wide.model.embed_tokens.weight.data)).toBeLessThan(1.1);
    expect(wide.vcfg.mm_projector_norm).toBe(true);
    expect(plain.vcfg.mm_projector_norm).toBe(false);
    // init_std: the LLM's and projector's weights start with that spread; the preset's otherwise
    const spread = newVlm({ ...base, init_std: 0.2 }, buildVocab(), () => {});
    expect(spread.cfg.initializer_range).toBe(0.2);
    expect(std(spread.model.layers[0].mlp.gate_proj.weight.data)).toBeCloseTo(0.2, 1);
    expect(std(spread.model.mm_projector.fc1.weight.data)).toBeCloseTo(0.2, 1);
    expect(plain.cfg.initializer_range).toBe(0.02); // tiny's
    expect(presetConfig("small", 100, 4).text.initializer_range).toBe(1 / 16); // 1/sqrt(256)
    expect(presetConfig("small", 100, 4).vision.initializer_range).toBe(0.02); // the ViT keeps its own
    // small-deep: small's ViT (so a small vision folder loads into it) under a 12 x 192 LLM of about small's cost
    const deep = presetConfig("small-deep", 100, 4), small = presetConfig("small", 100, 4);
    expect(deep.vision).toEqual(small.vision);
    expect([deep.text.num_hidden_layers, deep.text.hidden_size, deep.text.initializer_range]).toEqual([12, 192, 1 / Math.sqrt(192)]);
    const perToken = (c: typeof deep.text) => decoderLayerFlops(c, 300, 300 * 150) * c.num_hidden_layers;
    expect(perToken(deep.text) / perToken(small.text)).toBeGreaterThan(0.9);
    expect(perToken(deep.text) / perToken(small.text)).toBeLessThan(1.4);
    expect(() => newVlm({ ...base, init_std: -1 }, buildVocab(), () => {})).toThrow(/init_std must be >= 0/);
  });

  it("text scenes: a text-only stage trains and reports its accuracy; --vision with --init swaps in that vision tower", async () => {
    const visionDir = tmp();
    await runRecipe({ recipe: "vision", out: visionDir, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, seed: 5 }, ...quiet });
    const textDir = tmp();
    const r = await runRecipe({ recipe: "vlm", out: textDir, overrides: { preset: "tiny", steps: 8, batch_size: 4, eval_every: 8, eval_examples: 4, text_scene_fraction: 1, lr: 3e-3, warmup: 1 }, ...quiet });
    expect(r.result.losses[7]).toBeLessThan(r.result.losses[0]);
    const acc = r.result.lastEval?.val_text_scene_accuracy;
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(1);
    const swapped = newVlm({ ...VLM_DEFAULTS, preset: "tiny", init: textDir, vision: visionDir }, loadVlmDir(textDir).vocab, () => {});
    const want = loadVlmDir(textDir).model; // the text stage's own (random) tower differs from the trained one
    const name = "vision_model.encoder.layers.0.self_attn.q_proj.weight";
    const got = swapped.model.vision_tower.vision_tower.stateDict().get(name)!.data;
    expect(got).not.toEqual(want.model.vision_tower.vision_tower.stateDict().get(name)!.data);
    const { loadVisionDir } = await import("../../src/train/model-dir.js");
    expect(got).toEqual(loadVisionDir(visionDir).model.stateDict().get(name)!.data);
    expect(swapped.model.vision_tower.parameters().every((p) => !p.requiresGrad)).toBe(true);
  });

  it("resuming from a checkpoint takes exactly the steps of an uninterrupted run", async () => {
    const overrides = { preset: "tiny", steps: 6, batch_size: 2, eval_every: 0, save_every: 0, warmup: 2 };
    const full = await runRecipe({ recipe: "vlm", out: tmp(), overrides, ...quiet });
    const part = tmp();
    const first = await runRecipe({ recipe: "vlm", out: part, overrides, stopAfter: 3, ...quiet });
    expect(first.result.step).toBe(3);
    const rest = await runRecipe({ recipe: "vlm", out: tmp(), resume: part, ...quiet });
    expect(rest.result.step).toBe(6);
    const resumed = [...first.result.losses, ...rest.result.losses];
    expect(resumed.length).toBe(6);
    for (let i = 0; i < 6; i++) expect(resumed[i]).toBeCloseTo(full.result.losses[i], 5);
    const a = loadVlmDir(join(part)).model; // the checkpoint loads as a model folder
    expect(a.numParameters()).toBeGreaterThan(0);
  });

  it("the voco recipe trains with the mask, and --distill adds the KL term against a teacher", async () => {
    const teacherDir = tmp();
    await runRecipe({ recipe: "vlm", out: teacherDir, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0, voco_tokens: 2 }, ...quiet });
    const base = { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init: teacherDir, voco_tokens: 2, lr: 0, min_lr: 0 };
    const plainDir = tmp(), klDir = tmp();
    const plain = await runRecipe({ recipe: "voco", out: plainDir, overrides: base, ...quiet });
    const kl = await runRecipe({ recipe: "voco", out: klDir, overrides: { ...base, distill: 1, teacher: teacherDir }, ...quiet });
    // same weights, same batch: the only difference is the KL term, which is positive once the mask hides the image
    expect(kl.result.losses[0]).toBeGreaterThan(plain.result.losses[0]);
    // the KL run logs its answers' own loss beside the sum: the plain run's loss on the same weights and batch
    expect(stepRows<{ answer_loss: number }>(klDir)[0].answer_loss).toBeCloseTo(plain.result.losses[0], 5);
    expect(readFileSync(join(plainDir, "metrics.jsonl"), "utf8")).not.toContain("answer_loss");
    const unmasked = await runRecipe({ recipe: "vlm", out: tmp(), overrides: { ...base }, ...quiet });
    expect(unmasked.result.losses[0]).not.toBeCloseTo(plain.result.losses[0], 6); // the mask changes the loss
    await expect(runRecipe({ recipe: "voco", out: tmp(), overrides: { ...base, distill: 1 }, ...quiet })).rejects.toThrow(/needs a teacher/);
    // the pooled start (a vlmc option) changes the loss of the same weights and batch, and is saved with the model
    const pooledDir = tmp();
    const pooled = await runRecipe({ recipe: "voco", out: pooledDir, overrides: { ...base, voco_pool_init: true }, ...quiet });
    expect(pooled.result.losses[0]).not.toBeCloseTo(plain.result.losses[0], 6);
    expect(loadVlmDir(pooledDir).model.vcfg.voco_pool_init).toBe(true);
    await expect(runRecipe({ recipe: "vlm", out: tmp(), overrides: { ...base, voco_tokens: 0, voco_pool_init: true }, ...quiet })).rejects.toThrow(/voco_pool_init needs voco_tokens >= 1/);
  });

  it("plural_suffix gives a new model the singular + -s vocabulary; --init keeps the init model's vocabulary, or appends the suffix", async () => {
    const pluralDir = tmp(), plainDir = tmp();
    await runRecipe({ recipe: "vlm", out: pluralDir, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, plural_suffix: true }, ...quiet });
    await runRecipe({ recipe: "vlm", out: plainDir, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0 }, ...quiet });
    expect(loadVlmDir(pluralDir).vocab.pluralSuffix).toBe(true);
    expect(loadVlmDir(plainDir).vocab.pluralSuffix).toBe(false);
    const tuned = tmp();
    await runRecipe({ recipe: "voco", out: tuned, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init: pluralDir }, ...quiet });
    expect(loadVlmDir(tuned).vocab.tokens).toEqual(loadVlmDir(pluralDir).vocab.tokens);
    // a plain model fine-tuned with the suffix: one more token at the end, every old id kept
    const extDir = tmp();
    await runRecipe({ recipe: "vlm", out: extDir, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init: plainDir, plural_suffix: true }, ...quiet });
    const ext = loadVlmDir(extDir), plainVocab = loadVlmDir(plainDir).vocab;
    expect(ext.vocab.tokens).toEqual([...plainVocab.tokens, PLURAL_SUFFIX]);
    expect(ext.model.cfg.vocab_size).toBe(plainVocab.size + 1);
    expect(ext.vocab.encode("stars").map((i) => ext.vocab.tokens[i])).toEqual(["star", PLURAL_SUFFIX]);
  });

  it("the atp recipe trains ATP modules from an upper-bound model and saves them beside it", async () => {
    const init = tmp();
    await runRecipe({ recipe: "vlm", out: init, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0 }, ...quiet });
    const out = tmp();
    const { result } = await runRecipe({ recipe: "atp", out, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 2, eval_examples: 2, init, atp_layers: "0", atp_lambda_atp: 0.5, atp_sap_strides: "2,4,6" }, ...quiet });
    expect(result.lastEval?.val_kept_fraction).toBeGreaterThan(0);
    expect(result.lastEval?.val_kept_fraction).toBeLessThanOrEqual(1);
    // the soft kept fraction the budget term sees is logged per step: layer 0 runs full, so at least 1/layers
    const logged = (dir: string) => stepRows<Record<string, unknown>>(dir);
    const layers = presetConfig("tiny", 100, 4).text.num_hidden_layers;
    const kept = logged(out).map((m) => m.atp_kept as number);
    expect(kept.length).toBeGreaterThan(0);
    for (const k of kept) { expect(k).toBeGreaterThanOrEqual(1 / layers - 1e-6); expect(k).toBeLessThanOrEqual(1 + 1e-6); }
    expect(logged(init).every((m) => !("atp_kept" in m))).toBe(true);
    expect(readFileSync(join(out, "config.json"), "utf8")).toContain('"atp"');
    expect(loadVlmDir(out).info.atp).toMatchObject({ lambdaAtp: 0.5, lambdaTarget: 0.2, sapStrides: [2, 4, 6] });
    await expect(runRecipe({ recipe: "atp", out: tmp(), overrides: { preset: "tiny", steps: 1, init, atp_layers: "0", atp_sap_strides: "2,x" }, ...quiet })).rejects.toThrow(/atp_sap_strides "2,x" must be/);
    await expect(runRecipe({ recipe: "atp", out: tmp(), overrides: { preset: "tiny", steps: 1, init, atp_layers: "0", atp_lambda_target: -1 }, ...quiet })).rejects.toThrow(/atp_lambda_target must be >= 0/);
    await expect(runRecipe({ recipe: "atp", out: tmp(), overrides: { preset: "tiny", steps: 1, init, atp_layers: "1" }, ...quiet })).rejects.toThrow(/below the last decoder layer/);
    await expect(runRecipe({ recipe: "atp", out: tmp(), overrides: { preset: "tiny", steps: 1, init, atp_layers: "0", atp_target: 1.5 }, ...quiet })).rejects.toThrow(/atp_target 1.5: the target kept fraction must be in \(0, 1\]/);
    await expect(runRecipe({ recipe: "atp", out: tmp(), overrides: { preset: "tiny", steps: 1, init, atp_layers: "0", atp_target_tokens: 100_000 }, ...quiet })).rejects.toThrow(/--target-tokens 100000 \(of \d+ vision tokens\)/);
    // below the floor (tiny: 2 layers, layer 0 sees every token, so at least 1/2): trains, with a warning
    const said: string[] = [];
    await runRecipe({ recipe: "atp", out: tmp(), overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init, atp_layers: "0", atp_target: 0.3 }, quiet: true, log: (l) => said.push(l) });
    expect(said.filter((l) => l.startsWith("warning: atp_target 0.3 is below 0.500"))).toHaveLength(1);
    // no atp_layers: the depth-aware default, after layer 0 only on tiny's 2 layers
    const byDefault = tmp();
    await runRecipe({ recipe: "atp", out: byDefault, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init }, ...quiet });
    expect(methodOf(loadVlmDir(byDefault).info).atp?.layers).toEqual([0]);
    expect([defaultPruneLayers(6), defaultPruneLayers(12), defaultPruneLayers(32)]).toEqual([[0, 2, 4], [0, 4, 8], [0, 11, 21]]);
  });

  it("atp_target_loss dual: the multiplier follows dual ascent on kept = target, both ways, and resumes exactly", async () => {
    const init = tmp();
    await runRecipe({ recipe: "vlm", out: init, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0 }, ...quiet });
    // tiny has 2 layers and layer 0 runs full, so the kept fraction is >= 1/2 and a 5% target is always exceeded
    const overrides = { preset: "tiny", steps: 4, batch_size: 2, eval_every: 0, save_every: 0, log_every: 1, warmup: 1, init, atp_layers: "0",
      atp_target: 0.05, atp_target_loss: "dual", atp_dual_lr: 3 };
    const fullDir = tmp();
    const full = await runRecipe({ recipe: "atp", out: fullDir, overrides, ...quiet });
    const rows = stepRows<{ loss: number; answer_loss: number; atp_kept: number; atp_multiplier: number }>(fullDir);
    expect(rows.length).toBe(4);
    let m = 0; // by hand: m <- m + 3 (kept - 0.05), the loss of each step using the value before its update
    for (const r of rows) { expect(r.atp_multiplier).toBeCloseTo(m, 5); m += 3 * (r.atp_kept - 0.05); }
    // the loss by hand from the logged parts: answers + lambda_atp * depth(1/2) * f0 + multiplier * kept, where
    // kept = (1 + f0) / 2 on tiny's two layers (layer 0 full, layer 1 at the module's fraction f0)
    for (const r of rows) expect(r.loss).toBeCloseTo(r.answer_loss + 0.05 * 0.5 * (2 * r.atp_kept - 1) + r.atp_multiplier * r.atp_kept, 4);
    expect(m).toBeGreaterThan(4 * 3 * 0.45);
    // a target above what is kept drives the multiplier negative: tokens are paid for until the budget is spent
    const underDir = tmp();
    await runRecipe({ recipe: "atp", out: underDir, overrides: { ...overrides, steps: 2, atp_target: 1 }, ...quiet });
    const under = stepRows<{ atp_kept: number; atp_multiplier: number }>(underDir);
    expect(under[1].atp_multiplier).toBeCloseTo(3 * (under[0].atp_kept - 1), 5);
    expect(under[1].atp_multiplier).toBeLessThan(0);
    // anti-wind-up: clipped to [-0.5, 0.5], the multiplier stops at the clip
    const clipDir = tmp();
    await runRecipe({ recipe: "atp", out: clipDir, overrides: { ...overrides, atp_dual_clip: 0.5 }, ...quiet });
    const clipped = stepRows<{ atp_multiplier: number }>(clipDir);
    expect(clipped.map((r) => r.atp_multiplier)).toEqual([0, 0.5, 0.5, 0.5]);
    const part = tmp();
    await runRecipe({ recipe: "atp", out: part, overrides, stopAfter: 2, ...quiet });
    expect((JSON.parse(readFileSync(join(part, "trainer_state.json"), "utf8")) as { task: { atp_multiplier: number } }).task.atp_multiplier).toBeCloseTo(
      3 * (rows[0].atp_kept - 0.05) + 3 * (rows[1].atp_kept - 0.05), 5);
    const rest = await runRecipe({ recipe: "atp", out: tmp(), resume: part, ...quiet });
    // the multiplier weighs the budget term in the loss: a resume that lost it would differ from step 3 on
    for (let i = 0; i < 2; i++) expect(rest.result.losses[i]).toBeCloseTo(full.result.losses[2 + i], 5);
    // the faithful L1 term logs no multiplier; a bad mode is refused by name
    const l1Dir = tmp();
    await runRecipe({ recipe: "atp", out: l1Dir, overrides: { ...overrides, steps: 1, atp_target_loss: "l1" }, ...quiet });
    expect(readFileSync(join(l1Dir, "metrics.jsonl"), "utf8")).not.toContain("atp_multiplier");
    const l1 = stepRows<{ loss: number; answer_loss: number; atp_kept: number }>(l1Dir)[0];
    expect(l1.loss).toBeCloseTo(l1.answer_loss + 0.05 * 0.5 * (2 * l1.atp_kept - 1) + 0.2 * Math.abs(l1.atp_kept - 0.05), 4);
    await expect(runRecipe({ recipe: "atp", out: tmp(), overrides: { ...overrides, atp_target_loss: "l2" }, ...quiet })).rejects.toThrow(/atp_target_loss must be "l1" or "dual", got "l2"/);
  });

  it("video: the voco recipe trains on clips frame by frame, and a full-token video model trains too", async () => {
    const init = tmp();
    await runRecipe({ recipe: "vlm", out: init, overrides: { preset: "tiny", steps: 1, batch_size: 1, eval_every: 0 }, ...quiet });
    const v = await runRecipe({ recipe: "voco", out: tmp(), overrides: { preset: "tiny", steps: 2, batch_size: 1, eval_every: 2, eval_examples: 1, init, voco_tokens: 2, video: true }, ...quiet });
    expect(v.result.losses.every(Number.isFinite)).toBe(true);
    expect(Object.keys(v.result.lastEval ?? {}).some((k) => k.startsWith("val_video-"))).toBe(true);
    const full = await runRecipe({ recipe: "vlm", out: tmp(), overrides: { preset: "tiny", steps: 1, batch_size: 1, eval_every: 0, init, video: true }, ...quiet });
    expect(full.result.losses.every(Number.isFinite)).toBe(true);
  });

  it("refuses unknown config fields, wrong types and missing folders, naming them", async () => {
    const dir = tmp();
    const file = join(dir, "cfg.json");
    writeFileSync(file, JSON.stringify({ stepz: 3 }));
    expect(() => resolveRecipeConfig("vlm", file)).toThrow(new RegExp(`${file}: unknown field "stepz"`));
    writeFileSync(file, JSON.stringify({ steps: "many" }));
    expect(() => resolveRecipeConfig("vlm", file)).toThrow(/field "steps" must be a number, got "many"/);
    expect(() => resolveRecipeConfig("vlm", undefined, { preset: "huge" })).toThrow(/preset "huge" is not one of/);
    expect(() => parseOverrides(["lr=fast"], VLM_DEFAULTS)).toThrow(/"lr" must be a number/);
    expect(() => loadVlmDir(join(dir, "nope"))).toThrow(/model folder not found/);
    writeFileSync(join(dir, "config.json"), "{ not json");
    expect(() => loadVlmDir(dir)).toThrow(/config.json: cannot parse/);
    await expect(runRecipe({ recipe: "vlm", out: tmp(), resume: dir, ...quiet })).rejects.toThrow(/no trainer_state.json/);
  });
});
