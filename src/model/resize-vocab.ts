// Growing a trained model's vocabulary, as Hugging Face's `resize_token_embeddings`: the new tokens
// get rows at the end of the embedding table and of the LM head, so every old token keeps its id and
// its trained rows. Used when a fine-tune adds a token (the plural suffix) to a model trained without it.
import { Tensor } from "../tensor/tensor.js";
import { LlavaForCausalLM } from "./vlm.js";

const RESIZED = ["model.embed_tokens.weight", "lm_head.weight"] as const;

/**
 * A copy of `model` with `added` new token rows in the embedding and the LM head, each the mean of the
 * old rows (HF's `mean_resizing` samples around that mean with the rows' covariance; the mean alone
 * keeps this deterministic). The copy's config has the larger vocab_size; the ViT is not touched.
 */
export function withAddedTokens(model: LlavaForCausalLM, added: number): LlavaForCausalLM {
  if (!Number.isInteger(added) || added < 1) throw new Error(`withAddedTokens: added must be a positive integer, got ${added}`);
  const V = model.cfg.vocab_size;
  const grown = new LlavaForCausalLM({ ...model.vcfg, text: { ...model.vcfg.text, vocab_size: V + added } });
  const state = new Map(model.stateDict());
  for (const name of RESIZED) {
    const old = state.get(name)!, C = old.shape[1];
    const rows = new Float32Array((V + added) * C);
    rows.set(old.data);
    const mean = new Float64Array(C);
    for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) mean[c] += old.data[v * C + c] / V;
    for (let a = 0; a < added; a++) for (let c = 0; c < C; c++) rows[(V + a) * C + c] = mean[c];
    state.set(name, new Tensor(rows, [V + added, C]));
  }
  grown.loadStateDict(state);
  return grown;
}
