// VoCo for video: a frame's cache computed alone and placed in time order equals that frame's part of
// one whole-video pass in which every frame segment sees only itself and sits at the same positions.
import { beforeAll, describe, expect, it } from "vitest";
import { compressImage } from "../../src/compress/voco/cache.js";
import { compressVideo, placeCache } from "../../src/compress/voco/video.js";
import { videoForward } from "../../src/compress/voco/video-train.js";
import { feedText } from "../../src/compress/voco/two-stage.js";
import { crossEntropy } from "../../src/tensor/index.js";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import { prefill } from "../../src/model/generate.js";
import { KVCache } from "../../src/model/kv-cache.js";
import { LlavaForCausalLM } from "../../src/model/vlm.js";
import { vlmConfigFromDict } from "../../src/model/vlm-config.js";
import { noGrad } from "../../src/tensor/index.js";
import { expectAllclose } from "../helpers/allclose.js";
import { randArray } from "../helpers/random.js";

const BOS = 1, IMG = 30, VOCO = 29, P = 4;
const cfg = vlmConfigFromDict({
  vocab_size: 31, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2,
  initializer_range: 0.2, image_token_index: IMG, voco_token_index: VOCO, rope_theta: 100,
  vision_config: { hidden_size: 12, intermediate_size: 20, num_hidden_layers: 2, num_attention_heads: 3, image_size: 8, patch_size: 4, initializer_range: 0.2 },
});
const frames = [1, 2, 3].map((s) => Float32Array.from(randArray(3 * 64, s)));
const TOL = { rtol: 1e-4, atol: 2e-5 };

describe.each(availableKernelSets())("VoCo video (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });

  it.each([1, 2])("frame caches placed in time order equal one whole-video pass (N = %i)", (N) => {
    const m = new LlavaForCausalLM(cfg, 2);
    const video = compressVideo(m, frames, N, { bos: BOS, image: IMG, voco: VOCO });
    expect(video.N).toBe(3 * N);
    const seg = 1 + P + N, start = 1 + P;
    expect(Array.from(video.positions)).toEqual(Array.from({ length: 3 * N }, (_, i) => start + i));
    // whole video in one row: [BOS, frame t, VoCo x N] per segment, each seeing only itself,
    // positioned so that segment t's VoCo tokens sit at start + t N + i
    const ids = frames.flatMap(() => [BOS, IMG, ...Array(N).fill(VOCO)]);
    const whole = noGrad(() => {
      const batch = m.buildBatch([{ ids, images: frames }], {
        adjustLayout: (L) => {
          for (let t = 0; t < 3; t++) for (let j = 0; j < seg; j++) {
            const i = t * seg + j;
            L.keyLo[i] = t * seg;
            L.pos[i] = start + t * N - (1 + P) + j;
          }
        },
      });
      const c = m.cfg, kv = new KVCache(1, batch.layout.T, c.num_hidden_layers, c.num_key_value_heads, c.hidden_size / c.num_attention_heads);
      prefill(m, batch.h, batch.layout, kv);
      return kv;
    });
    const row = cfg.text.num_key_value_heads * (cfg.text.hidden_size / cfg.text.num_attention_heads);
    for (let l = 0; l < cfg.text.num_hidden_layers; l++) {
      for (let t = 0; t < 3; t++) {
        const from = (t * seg + 1 + P) * row, to = from + N * row;
        expectAllclose(video.k[l].subarray(t * N * row, (t + 1) * N * row), whole.layers[l].k.subarray(from, to), TOL, `layer ${l} frame ${t} K`);
        expectAllclose(video.v[l].subarray(t * N * row, (t + 1) * N * row), whole.layers[l].v.subarray(from, to), TOL, `layer ${l} frame ${t} V`);
      }
    }
  });

  it("placing a cache where it already is changes nothing; moving it and back restores it", () => {
    const m = new LlavaForCausalLM(cfg, 3);
    const c = compressImage(m, [BOS, IMG, VOCO, VOCO], frames[0]);
    const same = placeCache(c, c.positions[0], cfg.text.rope_theta);
    same.k.forEach((k, l) => expectAllclose(k, c.k[l], { rtol: 1e-6, atol: 1e-7 }, "identity"));
    const back = placeCache(placeCache(c, 40, cfg.text.rope_theta), c.positions[0], cfg.text.rope_theta);
    back.k.forEach((k, l) => expectAllclose(k, c.k[l], { rtol: 1e-5, atol: 1e-6 }, "round trip"));
    expect(back.nextPos).toBe(c.nextPos);
  });

  it("the differentiable video forward equals two-stage inference, with gradients into both stages", () => {
    const m = new LlavaForCausalLM(cfg, 4);
    const ids = { bos: BOS, image: IMG, voco: VOCO };
    const clips = [
      { frames, text: [5, 6, 7, 8], labels: [-100, -100, 7, 8] },
      { frames: frames.slice(0, 2), text: [9, 10, 11], labels: [-100, 10, 11] },
    ];
    const out = videoForward(m, clips, 2, ids);
    const V = cfg.text.vocab_size, T = out.logits.shape[1];
    clips.forEach((clip, b) => {
      const cache = compressVideo(m, clip.frames, 2, ids);
      const ref = feedText(m, cache.toKVCache(cfg.text, clip.text.length), clip.text);
      expectAllclose(out.logits.data.subarray(b * T * V, (b * T + clip.text.length) * V), ref.data, TOL, `clip ${b}`);
    });
    expect(Array.from(out.targets.subarray(0, 4))).toEqual([-100, 7, 8, -100]);
    crossEntropy(out.logits, out.targets).backward();
    const voco = m.model.embed_tokens.weight.grad!.data.subarray(VOCO * 16, VOCO * 16 + 16);
    expect(voco.some((g) => g !== 0)).toBe(true); // stage 1 receives gradient through the VoCo K/V
    expect(m.model.mm_projector.fc1.weight.grad).not.toBeNull();
  });
});
