// VoCo's defining property: two-stage inference (compress [BOS, image, VoCo x N] into the VoCo K/V,
// then run the text against that cache) equals the single masked pass, for several N, after
// several decoded tokens and across turns; plus the mask itself, and cache files and their owner.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compressImage, modelFingerprint, VocoCache } from "../../src/compress/voco/cache.js";
import { applyVocoMask, vocoMaskHooks } from "../../src/compress/voco/mask.js";
import { feedText } from "../../src/compress/voco/two-stage.js";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import { causalLayout } from "../../src/model/layout.js";
import { LlavaForCausalLM } from "../../src/model/vlm.js";
import { vlmConfigFromDict, vlmConfigToDict } from "../../src/model/vlm-config.js";
import { slice } from "../../src/tensor/ops/shape.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { noGrad } from "../../src/tensor/index.js";
import { expectAllclose } from "../helpers/allclose.js";
import { randArray } from "../helpers/random.js";

const BOS = 1, IMG = 30, VOCO = 29;
const cfg = vlmConfigFromDict({
  vocab_size: 31, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2,
  initializer_range: 0.2, image_token_index: IMG, voco_token_index: VOCO,
  vision_config: { hidden_size: 12, intermediate_size: 20, num_hidden_layers: 2, num_attention_heads: 3, image_size: 8, patch_size: 4, initializer_range: 0.2 },
});
const image = Float32Array.from(randArray(3 * 64, 11));
const TOL = { rtol: 2e-4, atol: 2e-5 };

describe("VoCo mask", () => {
  it("blocks everything before the first VoCo token for queries after the last one, per row", () => {
    const L = causalLayout([
      [1, 2, 2, 3, 3, 1, 1], // BOS, vision x2, voco x2, text x2
      [1, 1, 1],              // text-only row: plain causal
    ].map((k) => Uint8Array.from(k)));
    applyVocoMask(L);
    expect(Array.from(L.keyLo.subarray(0, 7))).toEqual([0, 0, 0, 0, 0, 3, 3]);
    expect(Array.from(L.keyHi.subarray(0, 7))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(L.keyLo.subarray(7, 10))).toEqual([0, 0, 0]);
  });
});

describe.each(availableKernelSets())("VoCo two-stage inference (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });

  // stage 1 and the single pass both build their inputs through buildBatch, so a pooled start
  // (voco_pool_init, a vlmc option) must keep them equal too
  it.each([
    [1, false], [2, false], [5, false], [1, true], [2, true], [4, true],
  ] as const)("equals the single masked pass with N = %i (pooled start: %s), across decoded tokens and turns", (N, pooled) => {
    const m = new LlavaForCausalLM({ ...cfg, voco_pool_init: pooled }, 3);
    const prefix = [BOS, IMG, ...Array(N).fill(VOCO)];
    const turn1 = [5, 6, 7], answer1 = [8, 9, 2], turn2 = [10, 11], answer2 = [12, 2];
    const text = [...turn1, ...answer1, ...turn2, ...answer2];
    // single pass over the whole conversation with the VoCo mask
    const single = noGrad(() => {
      const batch = m.buildBatch([{ ids: [...prefix, ...text], images: [image] }], vocoMaskHooks());
      return m.forwardBatch(batch).logits;
    });
    const V = cfg.text.vocab_size, textStart = 1 + 4 + N; // BOS + 4 vision tokens + N VoCo
    const ref = (t: number) => single.data.subarray((textStart + t) * V, (textStart + t + 1) * V);
    // two stages: compress, then feed turn 1, decode answer 1 token by token, feed turn 2, decode answer 2
    const voco = compressImage(m, prefix, image);
    expect(voco.N).toBe(N);
    const kv = voco.toKVCache(cfg.text, text.length + 1);
    let t = 0;
    for (const chunk of [turn1, ...answer1.map((a) => [a]), turn2, ...answer2.map((a) => [a])]) {
      const logits = feedText(m, kv, chunk);
      chunk.forEach((_, j) => expectAllclose(logits.data.subarray(j * V, (j + 1) * V), ref(t + j), TOL, `N ${N} text token ${t + j}`));
      t += chunk.length;
    }
    expect(kv.layers.map((l) => l.len[0])).toEqual(Array(cfg.text.num_hidden_layers).fill(N + text.length));
  });

  it("the unmasked pass differs (the mask matters), and the cache holds only N tokens per layer", () => {
    const m = new LlavaForCausalLM(cfg, 4);
    const ids = [BOS, IMG, VOCO, 5, 6];
    const masked = noGrad(() => m.forwardBatch(m.buildBatch([{ ids, images: [image] }], vocoMaskHooks())).logits);
    const plain = noGrad(() => m.forwardBatch(m.buildBatch([{ ids, images: [image] }])).logits);
    const V = cfg.text.vocab_size, last = (ids.length - 1 + 3) * V;
    expect(Math.max(...Array.from(masked.data.subarray(last, last + V), (x, i) => Math.abs(x - plain.data[last + i])))).toBeGreaterThan(1e-4);
    const voco = compressImage(m, [BOS, IMG, VOCO], image);
    expect(voco.bytes()).toBe(2 * cfg.text.num_hidden_layers * 1 * cfg.text.num_key_value_heads * (16 / 4) * 4);
  });
});

describe("VoCo cache files", () => {
  it("round-trip bit-exactly, answer the same, and are refused by another model", () => {
    const m = new LlavaForCausalLM(cfg, 5), other = new LlavaForCausalLM(cfg, 6);
    const voco = compressImage(m, [BOS, IMG, VOCO, VOCO], image);
    const path = join(mkdtempSync(join(tmpdir(), "vlmc-voco-")), "img.voco.safetensors");
    voco.save(path);
    const back = VocoCache.load(path, m);
    expect(back.N).toBe(2);
    back.k.forEach((k, l) => expect(k).toEqual(voco.k[l]));
    expect(Array.from(back.positions)).toEqual(Array.from(voco.positions));
    expect(back.nextPos).toBe(voco.nextPos);
    const a = feedText(m, voco.toKVCache(cfg.text, 4), [5, 6]), b = feedText(m, back.toKVCache(cfg.text, 4), [5, 6]);
    expect(a.data).toEqual(b.data);
    expect(() => VocoCache.load(path, other)).toThrow(new RegExp(`made by model ${modelFingerprint(m)}, not by the loaded model ${modelFingerprint(other)}`));
  });
});

describe("VoCo pooled start (voco_pool_init, a vlmc option)", () => {
  const pooledCfg = { ...cfg, voco_pool_init: true };

  it("adds to each <voco> slot the mean of its region of the image's projected tokens, and nothing elsewhere", () => {
    const m = new LlavaForCausalLM(pooledCfg, 6), plain = new LlavaForCausalLM(cfg, 6);
    const N = 2, C = cfg.text.hidden_size;
    const other = Float32Array.from(randArray(3 * 64, 12));
    const rows = [
      { ids: [BOS, IMG, VOCO, VOCO, 5, 6], images: [image] },
      { ids: [BOS, 7, 8, VOCO], images: [] },                   // no image before it: no pooled start
      { ids: [BOS, IMG, 5, IMG, VOCO, VOCO], images: [image, other] }, // the image just before the span
    ];
    const got = noGrad(() => m.buildBatch(rows).h), base = noGrad(() => plain.buildBatch(rows).h);
    const feats = noGrad(() => m.encodeImages([image, other]).feats).data; // (2, 4, C)
    const T = got.shape[1];
    // 2x2 grid, N = 2 = 1 x 2 regions: the left column (patches 0, 2) and the right one (1, 3), in float64
    const region = (img: number, r: number, c: number) => (feats[(img * 4 + r) * C + c] + feats[(img * 4 + r + 2) * C + c]) / 2;
    const expected = new Float64Array(got.data.length);
    base.data.forEach((x, i) => { expected[i] = x; });
    for (let c = 0; c < C; c++) {
      for (let r = 0; r < N; r++) {
        expected[(0 * T + 1 + 4 + r) * C + c] += region(0, r, c);         // row 0: BOS, 4 vision, voco x 2
        expected[(2 * T + 1 + 4 + 1 + 4 + r) * C + c] += region(1, r, c); // row 2: BOS, 4, text, 4, voco x 2
      }
    }
    expectAllclose(got.data, expected, { rtol: 1e-5, atol: 1e-6 }, "pooled start");
  });

  it("is saved in config.json and read back; off by default and absent from the LLaVA layout", () => {
    expect(vlmConfigFromDict(vlmConfigToDict(pooledCfg)).voco_pool_init).toBe(true);
    expect(vlmConfigToDict(cfg)).not.toHaveProperty("voco_pool_init");
    expect(vlmConfigFromDict(vlmConfigToDict(cfg)).voco_pool_init).toBeUndefined();
  });

  it("refuses an image whose tokens a reducer changed, by name", () => {
    const m = new LlavaForCausalLM(pooledCfg, 6);
    const halve = { reduceVision: (f: Tensor) => ({ feats: slice(f, 0, 0, 2), patches: Int32Array.from([0, 1]) }) };
    expect(() => m.buildBatch([{ ids: [BOS, IMG, VOCO], images: [image] }], halve)).toThrow(/voco_pool_init needs the image's 4 vision tokens, got 2/);
  });
});
