// LLaMA decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU MLP, untied LM head), with
// Hugging Face module names (model.layers.N.self_attn.q_proj ...) so checkpoints load by name.
// References: HF transformers models/llama/modeling_llama.py; gpt-fast model.py.
// Legend: B batch, T tokens, C hidden, NH heads, NKV kv heads, HS head size, V vocab.
// Not here yet: KV cache, generation, reducer hooks (issue 3).
import { Embedding, Linear, RMSNorm } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { add, swiglu } from "../tensor/ops/elementwise.js";
import { attention } from "../tensor/ops/attention.js";
import { rope } from "../tensor/ops/rope.js";
import { reshape } from "../tensor/ops/shape.js";
import { Rng } from "../tensor/random.js";
import { OpError } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import type { LlamaConfig } from "./config.js";

/** Per-forward inputs every layer needs: positions and the attention visibility ranges. */
export interface SequenceContext {
  B: number;
  T: number;
  /** (B*T) position ids. */
  pos: Int32Array;
  /** (B*T) visible key ranges per query; undefined = causal. */
  keyLo?: Int32Array;
  keyHi?: Int32Array;
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

  // x: (B, T, C) -> (B, T, C)
  forward(x: Tensor, ctx: SequenceContext): Tensor {
    const { B, T } = ctx;
    const q = rope(reshape(this.q_proj.forward(x), [B, T, this.NH, this.HS]), ctx.pos, this.cfg.rope_theta); // (B, T, NH, HS)
    const k = rope(reshape(this.k_proj.forward(x), [B, T, this.NKV, this.HS]), ctx.pos, this.cfg.rope_theta); // (B, T, NKV, HS)
    const v = reshape(this.v_proj.forward(x), [B, T, this.NKV, this.HS]); // (B, T, NKV, HS)
    const { out } = attention(q, k, v, { keyLo: ctx.keyLo, keyHi: ctx.keyHi });
    return this.o_proj.forward(reshape(out, [B, T, this.NH * this.HS])); // (B, T, C)
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

  forward(x: Tensor, ctx: SequenceContext): Tensor {
    const h = add(x, this.self_attn.forward(this.input_layernorm.forward(x), ctx));
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

  /** Runs the decoder stack on embeddings (B, T, C); returns the final-normed hidden states. */
  forwardEmbeds(h: Tensor, ctx: SequenceContext): Tensor {
    for (const layer of this.layers) h = layer.forward(h, ctx);
    return this.norm.forward(h);
  }
}

export class LlamaForCausalLM extends Module {
  model: LlamaModel; lm_head: Linear;

  constructor(readonly cfg: LlamaConfig, seed = 0) {
    super();
    const rng = new Rng(seed);
    this.model = new LlamaModel(cfg, rng);
    this.lm_head = new Linear(cfg.hidden_size, cfg.vocab_size, false, { rng, std: cfg.initializer_range });
  }

  /** ids (B*T) -> logits (B, T, V). Positions default to 0..T-1 per sample, attention to causal. */
  forward(ids: Int32Array, B: number, T: number, ctx?: Partial<SequenceContext>): Tensor {
    if (ids.length !== B * T) throw new OpError("LlamaForCausalLM", `${ids.length} ids for B*T = ${B}*${T}`);
    const pos = ctx?.pos ?? defaultPositions(B, T);
    const h = reshape(this.model.embed_tokens.forward(ids), [B, T, this.cfg.hidden_size]);
    const full: SequenceContext = { B, T, pos, keyLo: ctx?.keyLo, keyHi: ctx?.keyHi };
    return this.lm_head.forward(this.model.forwardEmbeds(h, full));
  }
}

export function defaultPositions(B: number, T: number): Int32Array {
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t;
  return pos;
}
