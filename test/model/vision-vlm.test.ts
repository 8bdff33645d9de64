// The vision tower against a float64 CLIP; the VLM's splicing of image features, its targets and
// its reducer hooks; the whole VLM forward against the float64 decoder fed the same embeddings.
import { beforeAll, describe, expect, it } from "vitest";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import { LlavaForCausalLM, targetsFor, type VlmHooks } from "../../src/model/vlm.js";
import { vlmConfigFromDict, vlmConfigToDict, type VlmConfig } from "../../src/model/vlm-config.js";
import { DropAtLayer } from "../../src/compress/debug-reducers.js";
import { IGNORE_INDEX, mean, noGrad, reshape, Tensor } from "../../src/tensor/index.js";
import { expectAllclose } from "../helpers/allclose.js";
import { clip64 } from "../helpers/clip64.js";
import { llama64Embeds } from "../helpers/llama64.js";
import { randArray } from "../helpers/random.js";

const IMG = 30, VOCO = 29;
const cfgDict = {
  vocab_size: 31, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  initializer_range: 0.2, image_token_index: IMG, voco_token_index: VOCO,
  vision_config: { hidden_size: 12, intermediate_size: 20, num_hidden_layers: 3, num_attention_heads: 3, image_size: 8, patch_size: 4, initializer_range: 0.2 },
};
const cfg: VlmConfig = vlmConfigFromDict(cfgDict);
const TOL = { rtol: 1e-4, atol: 1e-5 };
const image = (seed: number) => Float32Array.from(randArray(3 * 8 * 8, seed));

describe.each(availableKernelSets())("vision tower and VLM (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });

  it("the ViT matches a float64 CLIP (patches, CLS, positions, pre-LN, quick GELU, select layer -2, CLS dropped)", () => {
    const m = new LlavaForCausalLM(cfg, 3);
    const vt = m.model.vision_tower.vision_tower;
    const ims = [image(1), image(2)];
    const pixels = new Float32Array(2 * 192);
    pixels.set(ims[0], 0); pixels.set(ims[1], 192);
    const out = noGrad(() => vt.forward(pixels, 2, -2, true));
    expect(out.features.shape).toEqual([2, 4, 12]);
    expect(out.probs?.shape).toEqual([2, 3, 5, 5]);
    ims.forEach((im, b) => expectAllclose(out.features.data.subarray(b * 48, (b + 1) * 48), clip64(vt, im, -2), TOL, `image ${b}`));
    expectAllclose(noGrad(() => vt.forward(ims[0], 1, -1)).features.data, clip64(vt, ims[0], -1), TOL, "last layer");
    expect(() => vt.forward(ims[0], 1, -5)).toThrow(/select layer -5 is out of range for 3 layers/);
    const both = noGrad(() => vt.layerFeatures(ims[0], 1, [-2, -1, 1]));
    [-2, -1, 1].forEach((layer, i) => expectAllclose(both.features[i].data, clip64(vt, ims[0], layer), TOL, `layerFeatures ${layer}`));
  });

  it("mm_projector_norm (a vlmc option) RMS-normalises the projected features with a learned gain", () => {
    const normed: VlmConfig = { ...cfg, mm_projector_norm: true };
    expect(vlmConfigFromDict(vlmConfigToDict(normed)).mm_projector_norm).toBe(true);
    expect(vlmConfigToDict(cfg)).not.toHaveProperty("mm_projector_norm"); // the LLaVA layout stays as it was
    const plain = new LlavaForCausalLM(cfg, 5), m = new LlavaForCausalLM(normed, 5);
    expect(m.namedParameters().map(([n]) => n)).toContain("model.mm_projector_norm.weight");
    const gain = m.model.mm_projector_norm!.weight;
    gain.data.forEach((_, i) => { gain.data[i] = 1 + 0.1 * i; });
    const raw = noGrad(() => plain.encodeImages([image(6)]).feats), out = noGrad(() => m.encodeImages([image(6)]).feats);
    const C = 16, want = new Float64Array(raw.data.length);
    for (let r = 0; r < raw.data.length / C; r++) {
      let ss = 0;
      for (let c = 0; c < C; c++) ss += raw.data[r * C + c] ** 2;
      const inv = 1 / Math.sqrt(ss / C + cfg.text.rms_norm_eps);
      for (let c = 0; c < C; c++) want[r * C + c] = raw.data[r * C + c] * inv * (1 + 0.1 * c);
    }
    expectAllclose(out.data, want, TOL, "normalised rows");
    expect(() => vlmConfigFromDict({ ...cfgDict, mm_projector_norm: "yes" })).toThrow(/field "mm_projector_norm" must be true or false/);
  });

  it("splices projected features where image tokens stand, shifts targets, and runs like the float64 decoder", () => {
    const m = new LlavaForCausalLM(cfg, 4);
    const ex = [
      { ids: [1, IMG, 5, 6, 7], labels: [IGNORE_INDEX, IMG, IGNORE_INDEX, 6, 7], images: [image(3)] },
      { ids: [2, 3, IMG, 4, IMG, 8], labels: [IGNORE_INDEX, IGNORE_INDEX, IMG, IGNORE_INDEX, IMG, 8], images: [image(4), image(5)] },
    ];
    const batch = noGrad(() => m.buildBatch(ex));
    const L = batch.layout;
    expect(Array.from(L.length)).toEqual([4 + 4, 4 + 4 + 4]);
    expect(batch.visionTokens).toEqual([4, 4, 4]);
    const feats = noGrad(() => m.encodeImages([image(3)]).feats);
    // one image alone vs three in a batch: the native GEMM may block (and so sum) differently
    expectAllclose(batch.h.data.subarray(1 * 16, 5 * 16), feats.data, { rtol: 1e-5, atol: 1e-6 }, "vision rows");
    expectAllclose(batch.h.data.subarray(0, 16), m.model.embed_tokens.weight.data.subarray(16, 32), { rtol: 0, atol: 0 }, "text row");
    // row 0: [1, v0..v3, 5, 6, 7]; targets: 6 after 5, 7 after 6
    expect(Array.from(batch.targets.subarray(0, 8))).toEqual([-100, -100, -100, -100, -100, 6, 7, -100]);
    expect(Array.from(batch.patch.subarray(0, 8))).toEqual([-1, 0, 1, 2, 3, -1, -1, -1]);
    const logits = noGrad(() => m.forwardBatch(batch).logits);
    for (let b = 0; b < 2; b++) {
      const n = L.length[b];
      const x = Float64Array.from(batch.h.data.subarray(b * L.T * 16, (b * L.T + n) * 16));
      expectAllclose(logits.data.subarray(b * L.T * 31, (b * L.T + n) * 31), llama64Embeds(m, x, n), TOL, `row ${b}`);
    }
  });

  it("reduceVision, adjustLayout and between-layer hooks act, and targets follow pruning", () => {
    const m = new LlavaForCausalLM(cfg, 5);
    const pool: VlmHooks = {
      reduceVision: (f) => ({ feats: reshape(mean(reshape(f, [2, 2, 16]), 1), [2, 16]), patches: Int32Array.of(0, 2) }),
      adjustLayout: (L) => { L.keyLo[L.T - 1] = 1; },
    };
    const ex = [{ ids: [1, IMG, 5, VOCO, 6, 7], labels: [-100, IMG, -100, -100, 6, 7], images: [image(6)] }];
    const batch = noGrad(() => m.buildBatch(ex, pool));
    expect(batch.visionTokens).toEqual([2]);
    expect(Array.from(batch.layout.kind.subarray(0, 7))).toEqual([1, 2, 2, 1, 3, 1, 1]);
    expect(batch.layout.keyLo[6]).toBe(1);
    const out = noGrad(() => m.forwardBatch(batch, { hooks: new DropAtLayer(0, [[1, 2]]) }));
    expect(out.layout.length[0]).toBe(5);
    expect(Array.from(targetsFor(batch, out.layout).subarray(0, 5))).toEqual([-100, -100, 6, 7, -100]);
  });

  it("gradients reach the projector and the LLM but not a frozen vision tower", () => {
    const m = new LlavaForCausalLM(cfg, 6);
    m.model.vision_tower.setTrainable(false);
    const batch = m.buildBatch([{ ids: [1, IMG, 5, 6], labels: [-100, IMG, 5, 6], images: [image(7)] }]);
    const logits = m.forwardBatch(batch).logits;
    logits.backward(Tensor.full(logits.shape, 0.1));
    expect(m.model.mm_projector.fc1.weight.grad).not.toBeNull();
    expect(m.model.layers[0].self_attn.q_proj.weight.grad).not.toBeNull();
    expect(m.model.vision_tower.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it("config round-trips and errors name the field", () => {
    expect(vlmConfigFromDict(vlmConfigToDict(cfg))).toEqual(cfg);
    const m = new LlavaForCausalLM(cfg, 7);
    const names = m.namedParameters().map(([n]) => n);
    expect(names).toContain("model.mm_projector.0.weight");
    expect(names).toContain("model.mm_projector.2.bias");
    expect(names).toContain("model.vision_tower.vision_tower.vision_model.encoder.layers.2.self_attn.out_proj.bias");
    expect(names).toContain("model.vision_tower.vision_tower.vision_model.pre_layrnorm.weight");
    expect(names).toContain("model.layers.1.mlp.down_proj.weight");
    expect(() => vlmConfigFromDict({ ...cfgDict, vision_config: undefined })).toThrow(/no "vision_config"/);
    expect(() => m.buildBatch([{ ids: [IMG], images: [] }])).toThrow(/1 image tokens but 0 images/);
    expect(() => m.buildBatch([{ ids: [IMG], images: [new Float32Array(10)] }])).toThrow(/image 0 has 10 values, expected 3\*8\*8 = 192/);
  });
});
