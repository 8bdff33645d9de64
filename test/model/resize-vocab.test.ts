// Growing a trained model's vocabulary: every old token's logits are unchanged, the new rows are the
// mean of the old ones (so the new column is the mean of the old logit columns), and images still work.
import { describe, expect, it } from "vitest";
import { withAddedTokens } from "../../src/model/resize-vocab.js";
import { LlavaForCausalLM } from "../../src/model/vlm.js";
import { vlmConfigFromDict } from "../../src/model/vlm-config.js";
import { IGNORE_INDEX, noGrad } from "../../src/tensor/index.js";
import { randArray } from "../helpers/random.js";

const cfg = vlmConfigFromDict({
  vocab_size: 20, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  initializer_range: 0.2, image_token_index: 19, voco_token_index: 18,
  vision_config: { hidden_size: 12, intermediate_size: 20, num_hidden_layers: 2, num_attention_heads: 3, image_size: 8, patch_size: 4, initializer_range: 0.2 },
});

describe("withAddedTokens (HF resize_token_embeddings, mean rows)", () => {
  it("keeps every old token's logits, adds mean rows, and leaves the old model alone", () => {
    const old = new LlavaForCausalLM(cfg, 5);
    const grown = withAddedTokens(old, 2);
    expect(grown.cfg.vocab_size).toBe(22);
    expect(old.cfg.vocab_size).toBe(20);
    const ids = [1, 7, 19, 3, 12, 0, 5], labels = ids.map(() => IGNORE_INDEX);
    const ex = { ids, labels, images: [Float32Array.from(randArray(3 * 8 * 8, 9))] };
    const [a, b] = noGrad(() => [old, grown].map((m) => m.forwardBatch(m.buildBatch([ex])).logits));
    const T = a.shape[1];
    for (let t = 0; t < T; t++) {
      let mean = 0;
      for (let v = 0; v < 20; v++) {
        expect(b.data[t * 22 + v]).toBeCloseTo(a.data[t * 20 + v], 5);
        mean += a.data[t * 20 + v] / 20;
      }
      expect(b.data[t * 22 + 20]).toBeCloseTo(mean, 5);
      expect(b.data[t * 22 + 21]).toBeCloseTo(mean, 5);
    }
    // the new embedding row is the mean of the old ones
    const E = old.model.embed_tokens.weight.data, G = grown.model.embed_tokens.weight.data;
    for (let c = 0; c < 16; c++) {
      let mean = 0;
      for (let v = 0; v < 20; v++) mean += E[v * 16 + c] / 20;
      expect(G[20 * 16 + c]).toBeCloseTo(mean, 6);
    }
    // a text using the new id runs
    const withNew = noGrad(() => grown.forwardBatch(grown.buildBatch([{ ids: [1, 21, 20], labels: [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX], images: [] }])).logits);
    expect(withNew.shape).toEqual([1, 3, 22]);
    expect(() => withAddedTokens(old, 0)).toThrow(/positive integer/);
  });
});
