// Stage 2 of VoCo inference: text against a KV cache that starts with the VoCo entries. Text chunks
// (a question, a later turn) are prefilled with positions continuing from the cache; answers are
// decoded token by token. The cache grows with the conversation, so several turns work, and the
// VocoCache itself stays untouched for the next question.
import { decodeN, sample, type GenerateOptions } from "../../model/generate.js";
import type { KVCache } from "../../model/kv-cache.js";
import type { LayerStats } from "../../model/llama.js";
import { causalLayout, TokenKind } from "../../model/layout.js";
import type { LlavaForCausalLM } from "../../model/vlm.js";
import { noGrad } from "../../tensor/autograd.js";
import { reshape } from "../../tensor/ops/shape.js";
import { Tensor } from "../../tensor/tensor.js";
import type { VocoCache } from "./cache.js";

/** Prefills text ids against the cache (one row); returns logits (T, V) for every fed token. */
export function feedText(model: LlavaForCausalLM, kv: KVCache, ids: readonly number[]): Tensor {
  return feedTextWithStats(model, kv, ids).logits;
}

/** feedText, also returning what each decoder layer saw (for FLOPs). */
export function feedTextWithStats(model: LlavaForCausalLM, kv: KVCache, ids: readonly number[]): { logits: Tensor; stats: LayerStats[] } {
  return noGrad(() => {
    const L = causalLayout([new Uint8Array(ids.length).fill(TokenKind.text)]);
    for (let t = 0; t < ids.length; t++) L.pos[t] = kv.nextPos[0] + t;
    const h = reshape(model.model.embed_tokens.forward(Int32Array.from(ids)), [1, ids.length, model.cfg.hidden_size]);
    const out = model.model.forwardEmbeds(h, L, { cache: kv });
    return { logits: reshape(model.lm_head.forward(out.h), [ids.length, model.cfg.vocab_size]), stats: out.stats };
  });
}

/** Answers a question (ids ending where the answer starts) from a VoCo cache; the cache is not modified. */
export function answerFromCache(model: LlavaForCausalLM, voco: VocoCache, questionIds: readonly number[], opts: GenerateOptions):
  { tokens: number[]; kv: KVCache } {
  const kv = voco.toKVCache(model.cfg, questionIds.length + opts.maxNewTokens + 1);
  const logits = feedText(model, kv, questionIds);
  const V = model.cfg.vocab_size;
  const last = new Tensor(logits.data.slice((questionIds.length - 1) * V, questionIds.length * V), [1, V]);
  const first = sample(last, opts);
  return { tokens: decodeN(model, first, kv, opts).tokens[0], kv };
}
