// Analytic FLOPs against a hand computation, fed by the stats a real forward reports.
import { describe, expect, it } from "vitest";
import { llamaConfigFromDict } from "../../src/model/config.js";
import { decoderFlops, kvBytes, visionFlops } from "../../src/model/flops.js";
import { decodeOne, prefill } from "../../src/model/generate.js";
import { KVCache } from "../../src/model/kv-cache.js";
import { causalLayout } from "../../src/model/layout.js";
import { LlamaForCausalLM } from "../../src/model/llama.js";
import { visionConfigFromDict } from "../../src/model/vision.js";
import { noGrad, reshape } from "../../src/tensor/index.js";

const cfg = llamaConfigFromDict({ vocab_size: 10, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 });

describe("FLOPs", () => {
  it("a 3-token causal prefill and one cached decode step, by hand", () => {
    const m = new LlamaForCausalLM(cfg, 1);
    const cache = new KVCache(1, 8, 1, 1, 4);
    const h = noGrad(() => reshape(m.model.embed_tokens.forward(Int32Array.of(1, 2, 3)), [1, 3, 8]));
    const p = prefill(m, h, causalLayout([Uint8Array.of(1, 1, 1)]), cache);
    expect(Array.from(p.stats[0].attnPairs)).toEqual([6]); // 1 + 2 + 3 visible keys
    // q 2*3*8*8 = 384; k,v 2*2*3*8*4 = 384; o 384; QKᵀ+PV 2*2*6*4*2 = 192; MLP 3*2*3*8*12 = 1728; head (last token) 2*1*8*10 = 160
    expect(decoderFlops(cfg, p.stats, 1)).toBe(384 + 384 + 384 + 192 + 1728 + 160);
    const d = decodeOne(m, Int32Array.of(4), cache);
    expect(Array.from(d.stats[0].attnPairs)).toEqual([4]); // 3 cached + itself
    // q 128; k,v 128; o 128; attention 2*2*4*4*2 = 128; MLP 576; head 160
    expect(decoderFlops(cfg, d.stats, 1)).toBe(128 + 128 + 128 + 128 + 576 + 160);
    expect(kvBytes(cfg, 4)).toBe(2 * 4 * 1 * 4 * 4);
    expect(cache.bytes()).toBe(kvBytes(cfg, 4));
  });

  it("vision tower and projector, by hand", () => {
    const v = visionConfigFromDict({ hidden_size: 4, intermediate_size: 6, num_hidden_layers: 3, num_attention_heads: 2, image_size: 4, patch_size: 2 });
    // P = 4, T = 5, D = 4: patch 2*4*12*4 = 384; per layer 4*2*5*16 + 2*2*25*4 + 2*2*5*4*6 = 640 + 400 + 480 = 1520
    // select -2 -> 2 layers; projector to C = 8: 2*4*4*8 + 2*4*8*8 = 256 + 512
    expect(visionFlops(v, 8, -2)).toBe(384 + 2 * 1520 + 256 + 512);
  });
});
