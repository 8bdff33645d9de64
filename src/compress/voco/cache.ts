// The VoCo cache and two-stage inference (research/voco-llama.md sections 4 and 8.6).
// Stage 1 runs [BOS, vision, <voco> x N] and keeps only the K/V of the N VoCo tokens in every layer
// (post-RoPE, at their original positions); stage 2 runs the text against that cache with positions
// continuing after the last VoCo token. Because text after the VoCo span never sees anything
// before it, this equals the single masked pass. A cache can be saved, loaded and reused for any
// number of questions and turns; it records which model made it and is refused by any other.
// NOTE: the official code has no cached inference at all (one masked prefill, then decoding).
import { createHash } from "node:crypto";
import type { LlamaConfig } from "../../model/config.js";
import { prefill } from "../../model/generate.js";
import { KVCache } from "../../model/kv-cache.js";
import { TokenKind } from "../../model/layout.js";
import { loadSafetensorsFile, saveSafetensorsFile, type WriteDtype } from "../../model/safetensors.js";
import type { LlavaForCausalLM, VlmExample } from "../../model/vlm.js";
import { noGrad } from "../../tensor/autograd.js";
import { Tensor } from "../../tensor/tensor.js";
import { vocoSpan } from "./mask.js";

/** A short fingerprint of a model's config and weights: a cache is only valid for the model that made it. */
export function modelFingerprint(model: LlavaForCausalLM): string {
  const h = createHash("sha256");
  h.update(JSON.stringify(model.vcfg));
  for (const [name, t] of model.namedParameters()) {
    h.update(name);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest("hex").slice(0, 16);
}

export class VocoCache {
  /**
   * k[l], v[l]: (N, NKV, HS) post-RoPE keys and values of the N VoCo tokens at layer l;
   * positions: their RoPE position ids; nextPos: where the text continues.
   */
  constructor(
    readonly modelId: string,
    readonly N: number,
    readonly NKV: number,
    readonly HS: number,
    readonly k: Float32Array[],
    readonly v: Float32Array[],
    readonly positions: Int32Array,
    readonly nextPos: number,
  ) {}

  /** f32 bytes of the cached keys and values over all layers. */
  bytes(): number {
    return this.k.reduce((s, a) => s + a.byteLength, 0) + this.v.reduce((s, a) => s + a.byteLength, 0);
  }

  /** A KV cache for one row holding the VoCo entries, with room for `extra` more tokens. */
  toKVCache(cfg: LlamaConfig, extra: number): KVCache {
    const cache = new KVCache(1, this.N + extra, cfg.num_hidden_layers, this.NKV, this.HS);
    cache.layers.forEach((layer, l) => {
      layer.k.set(this.k[l]);
      layer.v.set(this.v[l]);
      layer.len[0] = this.N;
    });
    cache.nextPos[0] = this.nextPos;
    return cache;
  }

  save(path: string, dtype: WriteDtype = "F32"): void {
    const tensors: [string, Tensor][] = [];
    this.k.forEach((a, l) => tensors.push([`layers.${l}.k`, new Tensor(a, [this.N, this.NKV, this.HS])]));
    this.v.forEach((a, l) => tensors.push([`layers.${l}.v`, new Tensor(a, [this.N, this.NKV, this.HS])]));
    tensors.push(["positions", new Tensor(Float32Array.from(this.positions), [this.N])]);
    saveSafetensorsFile(path, tensors, {
      dtype,
      metadata: { format: "vlmc-voco-cache", model_id: this.modelId, voco_tokens: String(this.N), next_position: String(this.nextPos), dtype },
    });
  }

  /** Loads a cache file, refusing it unless it was made by `model`. */
  static load(path: string, model: LlavaForCausalLM): VocoCache {
    const { tensors, metadata } = loadSafetensorsFile(path);
    if (metadata.format !== "vlmc-voco-cache") throw new Error(`${path}: not a VoCo cache file (format ${JSON.stringify(metadata.format)})`);
    const id = modelFingerprint(model);
    if (metadata.model_id !== id) throw new Error(`${path}: this VoCo cache was made by model ${metadata.model_id}, not by the loaded model ${id}`);
    const L = model.cfg.num_hidden_layers;
    const get = (name: string) => {
      const t = tensors.get(name);
      if (t === undefined) throw new Error(`${path}: tensor "${name}" missing`);
      return t;
    };
    const k = Array.from({ length: L }, (_, l) => get(`layers.${l}.k`).data);
    const v = Array.from({ length: L }, (_, l) => get(`layers.${l}.v`).data);
    const k0 = get("layers.0.k");
    const [N, NKV, HS] = k0.shape;
    return new VocoCache(id, N, NKV, HS, k, v, Int32Array.from(get("positions").data), Number(metadata.next_position));
  }
}

/**
 * Stage 1: compresses one image into a VoCo cache. `prefixIds` is the stage-1 token sequence
 * [BOS, <image>, <voco> x N] (the image token expands to the vision tokens).
 */
export function compressImage(model: LlavaForCausalLM, prefixIds: readonly number[], image: Float32Array, modelId = modelFingerprint(model)): VocoCache {
  return noGrad(() => {
    const ex: VlmExample = { ids: prefixIds, images: [image] };
    const batch = model.buildBatch([ex]);
    const span = vocoSpan(batch.layout, 0);
    if (span === null) throw new Error("compressImage: the stage-1 sequence has no <voco> token");
    if (span[1] !== batch.layout.length[0] - 1) throw new Error("compressImage: the stage-1 sequence must end with the VoCo span");
    const c = model.cfg, HS = c.hidden_size / c.num_attention_heads, NKV = c.num_key_value_heads;
    const kv = new KVCache(1, batch.layout.T, c.num_hidden_layers, NKV, HS);
    prefill(model, batch.h, batch.layout, kv);
    const [first, last] = span, N = last - first + 1, row = NKV * HS;
    for (let t = first; t <= last; t++) if (batch.layout.kind[t] !== TokenKind.voco) throw new Error("compressImage: the VoCo span is not contiguous");
    const k = kv.layers.map((l) => l.k.slice(first * row, (last + 1) * row));
    const v = kv.layers.map((l) => l.v.slice(first * row, (last + 1) * row));
    const positions = batch.layout.pos.slice(first, last + 1);
    return new VocoCache(modelId, N, NKV, HS, k, v, positions, positions[N - 1] + 1);
  });
}
