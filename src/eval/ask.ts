// `vlmc ask`: answers one question about one image by generation, with its cost: tokens (vision,
// prompt, generated), FLOPs and time.
import { resizeImage, toFloat, type RgbImage } from "../data/image.js";
import type { Vocab } from "../data/vocab.js";
import { decoderFlops, visionFlops } from "../model/flops.js";
import { decodeN, prefill, sample } from "../model/generate.js";
import { KVCache } from "../model/kv-cache.js";
import type { LlavaForCausalLM, VlmHooks } from "../model/vlm.js";
import { noGrad } from "../tensor/autograd.js";
import { encodeConversation } from "../train/format.js";
import { compressImage, modelFingerprint, type VocoCache } from "../compress/voco/cache.js";
import { feedTextWithStats } from "../compress/voco/two-stage.js";
import { Tensor } from "../tensor/tensor.js";

export interface AskResult {
  answer: string;
  tokens: { vision: number; prompt: number; generated: number };
  flops: number;
  ms: { total: number; prefill: number; decode: number };
  kv_cache_bytes: number;
  /** Vision tokens each decoder layer saw in the prefill (fewer than tokens.vision under pruning). */
  vision_per_layer: number[];
  /** Answers from a VoCo cache: the one-time cost of compressing the image (stage 1), not in flops/ms. */
  compression?: { flops: number; ms: number; voco_tokens: number };
}

export interface AskOptions {
  maxNewTokens?: number;
  resize?: boolean;
  hooks?: VlmHooks;
  vocoTokens?: number;
  /** The model's `modelFingerprint`, when the caller has it: saves hashing every weight per question. */
  modelId?: string;
}

export function askImage(model: LlavaForCausalLM, vocab: Vocab, img: RgbImage, question: string, o: AskOptions = {}): AskResult {
  const S = model.vcfg.vision.image_size;
  if (img.width !== S || img.height !== S) {
    if (!o.resize) throw new Error(`the image is ${img.width}x${img.height}, the model expects ${S}x${S} (pass --resize to resize it)`);
    img = resizeImage(img, S, S);
  }
  if ((o.vocoTokens ?? 0) > 0 && o.hooks?.adjustLayout !== undefined) {
    // A VoCo model with its mask: answer through the VoCo cache, as the method is used (a masked
    // prefill would answer the same but keep the whole vision K/V). The question's cost then
    // includes compressing the image once.
    const c = compressForQuestions(model, vocab, img, o.vocoTokens ?? 0, o.modelId);
    const r = askFromVocoCache(model, vocab, c.cache, question, o);
    return { ...r, flops: r.flops + c.flops, ms: { ...r.ms, total: r.ms.total + c.ms, prefill: r.ms.prefill + c.ms }, compression: { flops: c.flops, ms: c.ms, voco_tokens: c.cache.N } };
  }
  const t0 = performance.now();
  const { ids } = encodeConversation([{ from: "human", value: question }], vocab, 1, o.vocoTokens ?? 0);
  const unknown = question.split(/\s+/).filter((w) => w !== "" && !vocab.has(w.toLowerCase().replace(/[?,.]+$/, "")));
  if (unknown.length > 0) process.emitWarning(`words outside the vocabulary (read as <unk>): ${unknown.join(", ")}`);
  const image = toFloat(img, "chw", model.vcfg.image_mean, model.vcfg.image_std);
  const batch = noGrad(() => model.buildBatch([{ ids, images: [image] }], o.hooks));
  const c = model.cfg, maxNew = o.maxNewTokens ?? 8;
  const cache = new KVCache(1, batch.layout.T + maxNew + 1, c.num_hidden_layers, c.num_key_value_heads, c.hidden_size / c.num_attention_heads);
  const p = prefill(model, batch.h, batch.layout, cache, o.hooks);
  const t1 = performance.now();
  const d = decodeN(model, sample(p.logits), cache, { maxNewTokens: maxNew, eosId: vocab.special("</s>") });
  const t2 = performance.now();
  const generated = d.tokens[0];
  let flops = visionFlops(model.vcfg.vision, c.hidden_size, model.vcfg.mm_vision_select_layer) + decoderFlops(c, p.stats, 1);
  for (const s of d.stats) flops += decoderFlops(c, s, 1);
  return {
    answer: vocab.decode(generated, { skipSpecial: true }),
    tokens: { vision: batch.visionTokens[0], prompt: batch.layout.length[0], generated: generated.length },
    flops, ms: { total: t2 - t0, prefill: t1 - t0, decode: t2 - t1 }, kv_cache_bytes: cache.bytes(),
    vision_per_layer: p.stats.map((s) => s.vision[0]),
  };
}

/** Stage 1 of VoCo-LLaMA's cached inference: [BOS, image, <voco> x N] -> the N tokens' K/V, with its cost. */
export function compressForQuestions(model: LlavaForCausalLM, vocab: Vocab, img: RgbImage, vocoTokens: number,
  modelId = modelFingerprint(model)): { cache: VocoCache; flops: number; ms: number } {
  // the default hashes every weight (~14 ms on small), before t0: not part of stage 1's cost
  const t0 = performance.now();
  const prefix = [vocab.special("<s>"), vocab.special("<image>"), ...Array<number>(vocoTokens).fill(vocab.special("<voco>"))];
  const cache = compressImage(model, prefix, toFloat(img, "chw", model.vcfg.image_mean, model.vcfg.image_std), modelId);
  const c = model.cfg, P = (model.vcfg.vision.image_size / model.vcfg.vision.patch_size) ** 2, T = prefix.length - 1 + P;
  // stage 1 is a causal prefill of T tokens: every layer sees all of them
  const stats = Array.from({ length: c.num_hidden_layers }, () => ({ tokens: Int32Array.of(T), vision: Int32Array.of(P), attnPairs: Float64Array.of((T * (T + 1)) / 2) }));
  const flops = visionFlops(model.vcfg.vision, c.hidden_size, model.vcfg.mm_vision_select_layer) + decoderFlops(c, stats, 0);
  return { cache, flops, ms: performance.now() - t0 };
}

/** Stage 2: one question answered against a VoCo cache (reusable: the cache is not changed). */
export function askFromVocoCache(model: LlavaForCausalLM, vocab: Vocab, voco: VocoCache, question: string, o: { maxNewTokens?: number } = {}): AskResult {
  const t0 = performance.now();
  const { ids } = encodeConversation([{ from: "human", value: question }], vocab, 0);
  const text = ids.slice(1); // the cache already holds BOS, the image and the VoCo tokens' summary of it
  const maxNew = o.maxNewTokens ?? 8, c = model.cfg, V = c.vocab_size;
  const kv = voco.toKVCache(c, text.length + maxNew + 1);
  const fed = feedTextWithStats(model, kv, text);
  const t1 = performance.now();
  const last = new Tensor(fed.logits.data.slice((text.length - 1) * V, text.length * V), [1, V]);
  const d = decodeN(model, sample(last), kv, { maxNewTokens: maxNew, eosId: vocab.special("</s>") });
  const t2 = performance.now();
  let flops = decoderFlops(c, fed.stats, 1);
  for (const s of d.stats) flops += decoderFlops(c, s, 1);
  const generated = d.tokens[0];
  return {
    answer: vocab.decode(generated, { skipSpecial: true }),
    tokens: { vision: 0, prompt: voco.N + text.length, generated: generated.length },
    flops, ms: { total: t2 - t0, prefill: t1 - t0, decode: t2 - t1 }, kv_cache_bytes: voco.bytes(),
    vision_per_layer: fed.stats.map(() => 0),
  };
}
