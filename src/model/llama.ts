// LLaMA decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU MLP, untied LM head), with
// Hugging Face module names (model.layers.N.self_attn.q_proj ...) so checkpoints load by name.
// One forward serves training, prefill and decoding: tokens come with a TokenLayout (positions,
// visible key ranges), an optional KV cache, and optional reducer hooks between layers.
// References: HF transformers models/llama/modeling_llama.py; gpt-fast model.py.
// Legend: B batch, T tokens in this chunk, C hidden, NH heads, NKV kv heads, HS head size, V vocab.
import { Embedding, Linear, RMSNorm } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { isGradEnabled } from "../tensor/autograd.js";
import { add, swiglu } from "../tensor/ops/elementwise.js";
import { attention } from "../tensor/ops/attention.js";
import { gatherRows } from "../tensor/ops/gather.js";
import { rope } from "../tensor/ops/rope.js";
import { concat, reshape } from "../tensor/ops/shape.js";
import { Rng } from "../tensor/random.js";
import { OpError } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import type { LlamaConfig } from "./config.js";
import type { DecoderHooks } from "./hooks.js";
import type { KVCache, LayerKV } from "./kv-cache.js";
import { causalLayout, keepTokens, TokenKind, type TokenLayout } from "./layout.js";

/** What one layer saw, per row: real tokens, of which vision tokens, and (query, key) pairs attended. */
export interface LayerStats {
  /** Tokens per row in the layer's attention (queries, projections). */
  tokens: Int32Array;
  vision: Int32Array;
  attnPairs: Float64Array;
  /** Tokens per row through the layer's MLP, when fewer than `tokens` (pruned before the MLP). */
  mlpTokens?: Int32Array;
}

function visionCounts(L: TokenLayout): Int32Array {
  const v = new Int32Array(L.B);
  for (let b = 0; b < L.B; b++) for (let t = 0; t < L.length[b]; t++) if (L.kind[b * L.T + t] === TokenKind.vision) v[b]++;
  return v;
}

/**
 * Keys and values placed before the chunk in every layer, with gradients (training on compressed
 * context, e.g. VoCo video: the text attends to per-frame VoCo K/V computed with grad). Per layer
 * (B, Np, NKV, HS), left-padded: row b's entries are the last len[b]. Queries whose range starts at 0
 * see the row's prefix; others see only chunk keys.
 */
export interface PrefixKV {
  k: Tensor[];
  v: Tensor[];
  len: Int32Array;
}

export interface DecoderOptions {
  cache?: KVCache;
  hooks?: DecoderHooks;
  prefix?: PrefixKV;
  /** Receives every layer's post-RoPE keys and values (B, T, NKV, HS) of the chunk, with their graph. */
  captureKV?: (layer: number, k: Tensor, v: Tensor) => void;
}

/** What one layer's attention needs besides its input. */
interface LayerContext {
  layer: number;
  kv?: LayerKV;
  bias: Tensor | null;
  wantProbs: boolean;
  prefix?: { k: Tensor; v: Tensor; len: Int32Array };
  captureKV?: (layer: number, k: Tensor, v: Tensor) => void;
}

export interface DecoderOutput {
  /** Final-normed hidden states (B, T', C) in the final layout (after any pruning). */
  h: Tensor;
  layout: TokenLayout;
  stats: LayerStats[];
}

/**
 * Key ranges against a cache: a query whose in-chunk range starts at 0 also sees the cache from the
 * row's visibleFrom on (what its last cached token saw: all of it after a causal prompt); one whose
 * range starts later (a VoCo-style block inside the chunk) sees only chunk keys. Padding sees nothing.
 * Afterwards visibleFrom is what the chunk's last token saw, so a block holds for every later token.
 */
function cachedRanges(L: TokenLayout, before: Int32Array, kv: LayerKV): { keyLo: Int32Array; keyHi: Int32Array } {
  const keyLo = new Int32Array(L.B * L.T), keyHi = new Int32Array(L.B * L.T);
  for (let b = 0; b < L.B; b++) {
    for (let t = 0; t < L.length[b]; t++) {
      const i = b * L.T + t;
      keyLo[i] = L.keyLo[i] === 0 ? kv.visibleFrom[b] : before[b] + L.keyLo[i];
      keyHi[i] = before[b] + L.keyHi[i];
    }
    if (L.length[b] > 0) kv.visibleFrom[b] = keyLo[b * L.T + L.length[b] - 1];
  }
  return { keyLo, keyHi };
}

/** Ranges over [prefix (Np, left-padded) | chunk]: a query starting at 0 also sees its row's prefix. */
function prefixRanges(L: TokenLayout, len: Int32Array, Np: number): { keyLo: Int32Array; keyHi: Int32Array } {
  const keyLo = new Int32Array(L.B * L.T), keyHi = new Int32Array(L.B * L.T);
  for (let b = 0; b < L.B; b++) for (let t = 0; t < L.length[b]; t++) {
    const i = b * L.T + t;
    keyLo[i] = L.keyLo[i] === 0 ? Np - len[b] : Np + L.keyLo[i];
    keyHi[i] = Np + L.keyHi[i];
  }
  return { keyLo, keyHi };
}

function pairs(L: TokenLayout, keyLo: Int32Array, keyHi: Int32Array): Float64Array {
  const p = new Float64Array(L.B);
  for (let b = 0; b < L.B; b++) for (let t = 0; t < L.length[b]; t++) {
    const i = b * L.T + t;
    p[b] += Math.max(0, keyHi[i] - keyLo[i]);
  }
  return p;
}

export class LlamaAttention extends Module {
  q_proj: Linear; k_proj: Linear; v_proj: Linear; o_proj: Linear;
  readonly NH: number; readonly NKV: number; readonly HS: number;

  constructor(readonly cfg: LlamaConfig, rng: Rng) {
    super();
    const C = cfg.hidden_size;
    this.NH = cfg.num_attention_heads; this.NKV = cfg.num_key_value_heads; this.HS = C / this.NH;
    const init = { rng, std: cfg.initializer_range };
    this.q_proj = new Linear(C, this.NH * this.HS, false, init);
    this.k_proj = new Linear(C, this.NKV * this.HS, false, init);
    this.v_proj = new Linear(C, this.NKV * this.HS, false, init);
    this.o_proj = new Linear(this.NH * this.HS, C, false, init);
  }

  // x: (B, T, C) -> out (B, T, C), probs (B, NH, T, Tk) when asked
  forward(x: Tensor, L: TokenLayout, ctx: LayerContext): { out: Tensor; probs: Tensor | null; attnPairs: Float64Array } {
    const { kv, bias, wantProbs, prefix } = ctx;
    const { B, T } = L;
    const theta = this.cfg.rope_theta;
    const q = rope(reshape(this.q_proj.forward(x), [B, T, this.NH, this.HS]), L.pos, theta); // (B, T, NH, HS)
    const k = rope(reshape(this.k_proj.forward(x), [B, T, this.NKV, this.HS]), L.pos, theta); // (B, T, NKV, HS)
    const v = reshape(this.v_proj.forward(x), [B, T, this.NKV, this.HS]); // (B, T, NKV, HS)
    ctx.captureKV?.(ctx.layer, k, v);
    let res;
    let ranges = { keyLo: L.keyLo, keyHi: L.keyHi };
    if (prefix !== undefined) {
      if (kv !== undefined || bias !== null) throw new OpError("LlamaAttention", "a prefix cannot be combined with a KV cache or a key bias");
      ranges = prefixRanges(L, prefix.len, prefix.k.shape[1]);
      res = attention(q, concat([prefix.k, k], 1), concat([prefix.v, v], 1), { ...ranges, returnProbs: wantProbs }); // keys (B, Np+T, NKV, HS)
    } else if (kv === undefined) {
      res = attention(q, k, v, { keyLo: L.keyLo, keyHi: L.keyHi, bias: bias ?? undefined, returnProbs: wantProbs });
    } else {
      // a key bias (B, T) is cached with its keys, so later chunks see it too; a per-query bias cannot be
      if (bias !== null && bias.ndim !== 2) throw new OpError("LlamaAttention", `with a KV cache the key bias must be (B, T), got (${bias.shape.join(", ")})`);
      const before = kv.append(k, v, L.length, bias ?? undefined);
      ranges = cachedRanges(L, before, kv);
      const views = kv.views(); // (B, capacity, NKV, HS)
      res = attention(q, views.k, views.v, { ...ranges, bias: views.bias ?? undefined, returnProbs: wantProbs });
    }
    const out = this.o_proj.forward(reshape(res.out, [B, T, this.NH * this.HS])); // (B, T, C)
    return { out, probs: res.probs, attnPairs: pairs(L, ranges.keyLo, ranges.keyHi) };
  }
}

export class LlamaMLP extends Module {
  gate_proj: Linear; up_proj: Linear; down_proj: Linear;

  constructor(cfg: LlamaConfig, rng: Rng) {
    super();
    const init = { rng, std: cfg.initializer_range };
    this.gate_proj = new Linear(cfg.hidden_size, cfg.intermediate_size, false, init);
    this.up_proj = new Linear(cfg.hidden_size, cfg.intermediate_size, false, init);
    this.down_proj = new Linear(cfg.intermediate_size, cfg.hidden_size, false, init);
  }

  forward(x: Tensor): Tensor {
    return this.down_proj.forward(swiglu(this.gate_proj.forward(x), this.up_proj.forward(x)));
  }
}

export class LlamaDecoderLayer extends Module {
  self_attn: LlamaAttention; mlp: LlamaMLP; input_layernorm: RMSNorm; post_attention_layernorm: RMSNorm;

  constructor(cfg: LlamaConfig, rng: Rng) {
    super();
    this.self_attn = new LlamaAttention(cfg, rng);
    this.mlp = new LlamaMLP(cfg, rng);
    this.input_layernorm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
    this.post_attention_layernorm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
  }

  forward(x: Tensor, L: TokenLayout, ctx: LayerContext): { h: Tensor; probs: Tensor | null; attnPairs: Float64Array } {
    const a = this.attend(x, L, ctx);
    return { ...a, h: this.feedForward(a.h) };
  }

  /** The attention half: x plus attention (the residual stream before the MLP). */
  attend(x: Tensor, L: TokenLayout, ctx: LayerContext): { h: Tensor; probs: Tensor | null; attnPairs: Float64Array } {
    const a = this.self_attn.forward(this.input_layernorm.forward(x), L, ctx);
    return { h: add(x, a.out), probs: a.probs, attnPairs: a.attnPairs };
  }

  /** The MLP half, on any subset of the tokens (it is per token). */
  feedForward(h: Tensor): Tensor {
    return add(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}

export class LlamaModel extends Module {
  embed_tokens: Embedding; layers: LlamaDecoderLayer[]; norm: RMSNorm;

  constructor(readonly cfg: LlamaConfig, rng: Rng) {
    super();
    this.embed_tokens = new Embedding(cfg.vocab_size, cfg.hidden_size, { rng, std: cfg.initializer_range });
    this.layers = Array.from({ length: cfg.num_hidden_layers }, () => new LlamaDecoderLayer(cfg, rng));
    this.norm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
  }

  /** Runs the decoder stack on embeddings h (B, T, C) laid out by L. */
  forwardEmbeds(h: Tensor, L: TokenLayout, opts: DecoderOptions = {}): DecoderOutput {
    const { cache, hooks, prefix, captureKV } = opts;
    if (cache !== undefined && isGradEnabled() && h.requiresGrad) {
      throw new OpError("LlamaModel", "the KV cache is for inference: run under noGrad()");
    }
    if (h.shape[0] !== L.B || h.shape[1] !== L.T) throw new OpError("LlamaModel", `embeds (${h.shape.join(", ")}) do not match layout B ${L.B}, T ${L.T}`);
    const stats: LayerStats[] = [];
    const C = this.cfg.hidden_size;
    this.layers.forEach((layer, l) => {
      const wantProbs = hooks?.wantsProbs?.(l) ?? false;
      const bias = hooks?.keyBias?.(l, L) ?? null;
      const pre = prefix === undefined ? undefined : { k: prefix.k[l], v: prefix.v[l], len: prefix.len };
      const ctx = { layer: l, kv: cache?.layers[l], bias, wantProbs, prefix: pre, captureKV };
      const last = l + 1 === this.layers.length;
      const early = !last && (hooks?.pruneBeforeMlp?.(l) ?? false);
      const r = early ? layer.attend(h, L, ctx) : layer.forward(h, L, ctx);
      const stat: LayerStats = { tokens: L.length.slice(), vision: visionCounts(L), attnPairs: r.attnPairs };
      stats.push(stat);
      h = r.h;
      const keep = hooks?.afterLayer?.(l, h, L, r.probs) ?? null;
      const mixed = hooks?.mixStates?.(l, h, L) ?? null;
      if (mixed !== null && early) throw new OpError("LlamaModel", `layer ${l}: a hook that mixes states cannot prune before the MLP`);
      h = mixed ?? h;
      if (keep !== null && !last) {
        const { layout, gather } = keepTokens(L, keep);
        h = reshape(gatherRows(reshape(h, [L.B * L.T, C]), gather), [layout.B, layout.T, C]); // (B, T', C)
        L = layout;
        if (early) stat.mlpTokens = L.length.slice();
      }
      if (early) h = layer.feedForward(h);
    });
    if (cache !== undefined) advancePositions(cache, L);
    return { h: this.norm.forward(h), layout: L, stats };
  }
}

function advancePositions(cache: KVCache, L: TokenLayout): void {
  for (let b = 0; b < L.B; b++) {
    for (let t = 0; t < L.length[b]; t++) cache.nextPos[b] = Math.max(cache.nextPos[b], L.pos[b * L.T + t] + 1);
  }
}

/** What generation needs of a causal LM: a decoder stack, its config and an LM head. */
export interface CausalLM {
  readonly cfg: LlamaConfig;
  model: LlamaModel;
  lm_head: Linear;
}

export class LlamaForCausalLM extends Module implements CausalLM {
  model: LlamaModel; lm_head: Linear;

  constructor(readonly cfg: LlamaConfig, seed = 0) {
    super();
    const rng = new Rng(seed);
    this.model = new LlamaModel(cfg, rng);
    this.lm_head = new Linear(cfg.hidden_size, cfg.vocab_size, false, { rng, std: cfg.initializer_range });
  }

  /** Token ids (B*T, right-padded rows) -> logits (B, T, V), causal, positions 0..T-1. */
  forward(ids: Int32Array, B: number, T: number): Tensor {
    if (ids.length !== B * T) throw new OpError("LlamaForCausalLM", `${ids.length} ids for B*T = ${B}*${T}`);
    const kinds = Array.from({ length: B }, () => new Uint8Array(T).fill(TokenKind.text));
    return this.forwardLayout(ids, causalLayout(kinds, T)).logits;
  }

  /** Token ids laid out by L (B*T ids) -> logits (B, T', V) and the decoder's output. */
  forwardLayout(ids: Int32Array, L: TokenLayout, opts: DecoderOptions = {}): DecoderOutput & { logits: Tensor } {
    const h = reshape(this.model.embed_tokens.forward(ids), [L.B, L.T, this.cfg.hidden_size]);
    const out = this.model.forwardEmbeds(h, L, opts);
    return { ...out, logits: this.lm_head.forward(out.h) };
  }
}
