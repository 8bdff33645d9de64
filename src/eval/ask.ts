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

export interface AskResult {
  answer: string;
  tokens: { vision: number; prompt: number; generated: number };
  flops: number;
  ms: { total: number; prefill: number; decode: number };
  kv_cache_bytes: number;
}

export interface AskOptions {
  maxNewTokens?: number;
  resize?: boolean;
  hooks?: VlmHooks;
  vocoTokens?: number;
}

export function askImage(model: LlavaForCausalLM, vocab: Vocab, img: RgbImage, question: string, o: AskOptions = {}): AskResult {
  const S = model.vcfg.vision.image_size;
  if (img.width !== S || img.height !== S) {
    if (!o.resize) throw new Error(`the image is ${img.width}x${img.height}, the model expects ${S}x${S} (pass --resize to resize it)`);
    img = resizeImage(img, S, S);
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
  };
}
