// Generation with a KV cache: prefill a prompt (token ids or ready embeddings, e.g. with image
// features spliced in), then decode one token at a time; greedy or temperature / top-k sampling;
// stop at EOS or a length limit. Split as gpt-fast: sample, prefill, decodeOne, decodeN.
// Legend: B rows, T prompt tokens (padded), C hidden, V vocab.
import { gatherRows } from "../tensor/ops/gather.js";
import { reshape } from "../tensor/ops/shape.js";
import { noGrad } from "../tensor/autograd.js";
import { Rng } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import type { DecoderHooks } from "./hooks.js";
import { KVCache } from "./kv-cache.js";
import { TokenKind, type TokenLayout } from "./layout.js";
import type { CausalLM, LayerStats } from "./llama.js";

export interface SampleOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens before sampling; 0 = all. */
  topK?: number;
  rng?: Rng;
}

/** One token per row from logits (B, V). */
export function sample(logits: Tensor, opts: SampleOptions = {}): Int32Array {
  const [B, V] = logits.shape;
  const out = new Int32Array(B);
  const temp = opts.temperature ?? 0;
  for (let b = 0; b < B; b++) {
    const row = logits.data.subarray(b * V, (b + 1) * V);
    if (temp <= 0) { out[b] = argmax(row); continue; }
    const rng = opts.rng ?? new Rng(0);
    const k = opts.topK && opts.topK > 0 ? Math.min(opts.topK, V) : V;
    const idx = Array.from({ length: V }, (_, i) => i).sort((x, y) => row[y] - row[x]).slice(0, k);
    const mx = row[idx[0]];
    const w = idx.map((i) => Math.exp((row[i] - mx) / temp));
    let u = rng.uniform() * w.reduce((a, c) => a + c, 0);
    out[b] = idx[idx.length - 1];
    for (let j = 0; j < idx.length; j++) { u -= w[j]; if (u <= 0) { out[b] = idx[j]; break; } }
  }
  return out;
}

/** Index of the largest value (the first one on ties). */
export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Logits (B, V) of each row's last real token, computing the LM head only for those rows. */
function lastLogits(lm: CausalLM, h: Tensor, L: TokenLayout): Tensor {
  const C = lm.cfg.hidden_size;
  const last = Int32Array.from({ length: L.B }, (_, b) => b * L.T + Math.max(0, L.length[b] - 1));
  return lm.lm_head.forward(gatherRows(reshape(h, [L.B * L.T, C]), last)); // (B, V)
}

export interface PrefillResult {
  logits: Tensor;
  stats: LayerStats[];
  layout: TokenLayout;
}

/** Runs the prompt embeddings h (B, T, C) through the decoder, filling the cache. Returns last-token logits. */
export function prefill(lm: CausalLM, h: Tensor, L: TokenLayout, cache: KVCache, hooks?: DecoderHooks): PrefillResult {
  return noGrad(() => {
    const out = lm.model.forwardEmbeds(h, L, { cache, hooks });
    return { logits: lastLogits(lm, out.h, out.layout), stats: out.stats, layout: out.layout };
  });
}

/** Feeds one token per row at the next position of each row; returns logits (B, V). */
export function decodeOne(lm: CausalLM, tokens: Int32Array, cache: KVCache): { logits: Tensor; stats: LayerStats[] } {
  const B = tokens.length;
  const L: TokenLayout = {
    B, T: 1, pos: cache.nextPos.slice(), keyLo: new Int32Array(B), keyHi: new Int32Array(B).fill(1),
    kind: new Uint8Array(B).fill(TokenKind.text), orig: new Int32Array(B), length: new Int32Array(B).fill(1),
  };
  return noGrad(() => {
    const h = reshape(lm.model.embed_tokens.forward(tokens), [B, 1, lm.cfg.hidden_size]);
    const out = lm.model.forwardEmbeds(h, L, { cache });
    return { logits: lm.lm_head.forward(reshape(out.h, [B, lm.cfg.hidden_size])), stats: out.stats };
  });
}

export interface GenerateOptions extends SampleOptions {
  maxNewTokens: number;
  eosId?: number;
}

/**
 * Decodes up to maxNewTokens per row, starting with `first` (sampled from the prefill); a row stops
 * after emitting eosId. Every emitted token, the last one too, is fed through the model, so the
 * cache holds the whole conversation and a next turn can be prefilled against it.
 */
export function decodeN(lm: CausalLM, first: Int32Array, cache: KVCache, opts: GenerateOptions): { tokens: number[][]; stats: LayerStats[][] } {
  const B = first.length;
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const done = new Uint8Array(B);
  const stats: LayerStats[][] = [];
  let cur = first;
  for (let step = 0; step < opts.maxNewTokens; step++) {
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      tokens[b].push(cur[b]);
      if (cur[b] === opts.eosId || tokens[b].length >= opts.maxNewTokens) done[b] = 1;
    }
    const r = decodeOne(lm, cur, cache);
    stats.push(r.stats);
    if (done.every((d) => d === 1)) break;
    cur = sample(r.logits, opts);
  }
  return { tokens, stats };
}

/** Prefill + decode. The cache is created with room for the prompt and the new tokens. */
export function generate(lm: CausalLM, h: Tensor, L: TokenLayout, opts: GenerateOptions & { hooks?: DecoderHooks; cache?: KVCache }):
  { tokens: number[][]; cache: KVCache; prefillStats: LayerStats[]; decodeStats: LayerStats[][] } {
  const cfg = lm.cfg;
  const cache = opts.cache ?? new KVCache(L.B, L.T + opts.maxNewTokens + 1, cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.hidden_size / cfg.num_attention_heads);
  const p = prefill(lm, h, L, cache, opts.hooks);
  const d = decodeN(lm, sample(p.logits, opts), cache, opts);
  return { tokens: d.tokens, cache, prefillStats: p.stats, decodeStats: d.stats };
}
