// The cost of answering one question about an image three ways (the paper's Table 7):
//   (a) no cache: ViT + the whole prompt (BOS, vision tokens, VoCo tokens, question) every time;
//   (b) full vision K/V cached: the K/V of [BOS, vision] computed once; each question is prefilled
//       against those 1 + P cached entries;
//   (c) VoCo cache: each question is prefilled against the N cached VoCo entries only.
// Per question we count FLOPs (analytic), time the prefill up to the first answer token (median
// after warm-up), and the bytes of the cache the question reads (f32).
import { compressImage } from "../src/compress/voco/cache.js";
import { feedTextWithStats } from "../src/compress/voco/two-stage.js";
import { decoderFlops, visionFlops } from "../src/model/flops.js";
import { prefill } from "../src/model/generate.js";
import { KVCache } from "../src/model/kv-cache.js";
import type { LayerStats } from "../src/model/llama.js";
import type { LlavaForCausalLM } from "../src/model/vlm.js";
import { noGrad } from "../src/tensor/autograd.js";
import { median } from "./timing.js";

export interface CacheModeCost {
  flops: number;
  prefill_ms: number;
  cache_bytes: number;
}

export interface CachedInferenceResult {
  voco_tokens: number;
  vision_tokens: number;
  question_tokens: number;
  no_cache: CacheModeCost;
  full_vision_cache: CacheModeCost;
  voco_cache: CacheModeCost;
  /** VoCo against no cache (FLOPs, time) and against the full vision K/V cache (bytes). */
  flops_reduction: number;
  time_reduction: number;
  cache_bytes_reduction: number;
}

export interface CachedInferenceOptions {
  /** Token ids: BOS, image, VoCo and the question (the question ends where the answer starts). */
  bos: number;
  image: number;
  voco: number;
  question: readonly number[];
  pixels: Float32Array;
  runs?: number;
}

function statsFlops(model: LlavaForCausalLM, stats: LayerStats[]): number {
  return decoderFlops(model.cfg, stats, 1); // the LM head on the last token: the first answer token
}

export function cachedInference(model: LlavaForCausalLM, N: number, o: CachedInferenceOptions): CachedInferenceResult {
  const runs = o.runs ?? 7, c = model.cfg;
  const HS = c.hidden_size / c.num_attention_heads;
  const prefix = [o.bos, o.image, ...Array<number>(N).fill(o.voco)];
  const full = [...prefix, ...o.question];
  const newKV = (n: number) => new KVCache(1, n, c.num_hidden_layers, c.num_key_value_heads, HS);
  const P = (model.vcfg.vision.image_size / model.vcfg.vision.patch_size) ** 2;

  // (a) no cache: everything, every time (masked or not does not change the cost)
  let statsA: LayerStats[] = [];
  const timeA: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    noGrad(() => {
      const batch = model.buildBatch([{ ids: full, images: [o.pixels] }]);
      statsA = prefill(model, batch.h, batch.layout, newKV(batch.layout.T)).stats;
    });
    if (r > 0) timeA.push(performance.now() - t0);
  }
  const flopsA = visionFlops(model.vcfg.vision, c.hidden_size, model.vcfg.mm_vision_select_layer) + statsFlops(model, statsA);

  // (b) full vision cache: [BOS, vision] once, then each question against it
  const visionKV = newKV(1 + P + N + o.question.length + 1);
  noGrad(() => {
    const batch = model.buildBatch([{ ids: [o.bos, o.image], images: [o.pixels] }]);
    prefill(model, batch.h, batch.layout, visionKV);
  });
  const bytesB = visionKV.bytes();
  const question = [...Array<number>(N).fill(o.voco), ...o.question]; // the VoCo tokens follow the image here too
  const timeB: number[] = [];
  let statsB: LayerStats[] = [];
  for (let r = 0; r <= runs; r++) {
    const kv = cloneKV(visionKV, newKV(visionKV.capacity));
    const t0 = performance.now();
    statsB = feedTextWithStats(model, kv, question).stats;
    if (r > 0) timeB.push(performance.now() - t0);
  }

  // (c) VoCo cache: stage 1 once, then each question against the N entries
  const voco = compressImage(model, prefix, o.pixels);
  const timeC: number[] = [];
  let statsC: LayerStats[] = [];
  for (let r = 0; r <= runs; r++) {
    const kv = voco.toKVCache(c, o.question.length + 1);
    const t0 = performance.now();
    statsC = feedTextWithStats(model, kv, o.question).stats;
    if (r > 0) timeC.push(performance.now() - t0);
  }
  const a = { flops: flopsA, prefill_ms: median(timeA), cache_bytes: 0 };
  const b = { flops: statsFlops(model, statsB), prefill_ms: median(timeB), cache_bytes: bytesB };
  const cc = { flops: statsFlops(model, statsC), prefill_ms: median(timeC), cache_bytes: voco.bytes() };
  return {
    voco_tokens: N, vision_tokens: P, question_tokens: o.question.length,
    no_cache: a, full_vision_cache: b, voco_cache: cc,
    flops_reduction: 1 - cc.flops / a.flops, time_reduction: 1 - cc.prefill_ms / a.prefill_ms,
    cache_bytes_reduction: 1 - cc.cache_bytes / b.cache_bytes,
  };
}

function cloneKV(src: KVCache, dst: KVCache): KVCache {
  src.layers.forEach((l, i) => { dst.layers[i].k.set(l.k); dst.layers[i].v.set(l.v); dst.layers[i].len.set(l.len); });
  dst.nextPos.set(src.nextPos);
  return dst;
}
