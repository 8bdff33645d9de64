// A plain float64 LLaMA decoder written from the formulas with loops, sharing no code with
// src/model or src/kernels: the reference for the model tests. Supports grouped-query heads,
// HF rotate-half RoPE, and per-layer removal of tokens (a token removed at layer l is neither
// computed nor visible as a key from layer l on), the semantics token-pruning reducers must have.
import type { CausalLM } from "../../src/model/llama.js";
import type { Module } from "../../src/nn/module.js";
import { rope64, rmsNorm64, softmaxRows64 } from "./ref64.js";

type W = Map<string, Float64Array>;

function weights(m: Module): W {
  return new Map(m.namedParameters().map(([n, t]) => [n, Float64Array.from(t.data)]));
}

// y (T, out) = x (T, in) · Wᵀ, W (out, in)
function linear(x: Float64Array, w: Float64Array, T: number, inF: number, outF: number): Float64Array {
  const y = new Float64Array(T * outF);
  for (let t = 0; t < T; t++) for (let o = 0; o < outF; o++) {
    let s = 0;
    for (let i = 0; i < inF; i++) s += x[t * inF + i] * w[o * inF + i];
    y[t * outF + o] = s;
  }
  return y;
}

/**
 * Logits (T, V) for one sequence of token ids. removedFrom[t] = the first layer at which token t no
 * longer exists (Infinity = never removed). Positions are 0..T-1 (kept tokens keep theirs).
 */
export function llama64(m: CausalLM & Module, ids: number[], removedFrom: number[] = []): Float64Array {
  const C = m.cfg.hidden_size;
  const emb = Float64Array.from(m.model.embed_tokens.weight.data);
  const x = new Float64Array(ids.length * C);
  ids.forEach((id, t) => x.set(emb.subarray(id * C, (id + 1) * C), t * C));
  return llama64Embeds(m, x, ids.length, removedFrom);
}

/** The same from input embeddings x (T, C), e.g. with image features spliced in. */
export function llama64Embeds(m: CausalLM & Module, x: Float64Array, T: number, removedFrom: number[] = []): Float64Array {
  const cfg = m.cfg, W = weights(m);
  const C = cfg.hidden_size, NH = cfg.num_attention_heads, NKV = cfg.num_key_value_heads, HS = C / NH;
  const I = cfg.intermediate_size, V = cfg.vocab_size, eps = cfg.rms_norm_eps;
  const gone = (t: number, l: number) => l >= (removedFrom[t] ?? Infinity);
  const pos = Int32Array.from({ length: T }, (_, t) => t);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    const xn = rmsNorm64(x, W.get(p + "input_layernorm.weight")!, T, C, eps);
    const q = rope64(linear(xn, W.get(p + "self_attn.q_proj.weight")!, T, C, NH * HS), pos, T, NH, HS, cfg.rope_theta);
    const k = rope64(linear(xn, W.get(p + "self_attn.k_proj.weight")!, T, C, NKV * HS), pos, T, NKV, HS, cfg.rope_theta);
    const v = linear(xn, W.get(p + "self_attn.v_proj.weight")!, T, C, NKV * HS);
    const att = new Float64Array(T * NH * HS);
    for (let t = 0; t < T; t++) {
      if (gone(t, l)) continue;
      for (let h = 0; h < NH; h++) {
        const g = Math.floor(h / (NH / NKV));
        const s = new Float64Array(T).fill(-Infinity);
        for (let j = 0; j <= t; j++) {
          if (gone(j, l)) continue;
          let d = 0;
          for (let e = 0; e < HS; e++) d += q[(t * NH + h) * HS + e] * k[(j * NKV + g) * HS + e];
          s[j] = d / Math.sqrt(HS);
        }
        const pr = softmaxRows64(s, 1, T);
        for (let j = 0; j < T; j++) for (let e = 0; e < HS; e++) att[(t * NH + h) * HS + e] += pr[j] * v[(j * NKV + g) * HS + e];
      }
    }
    const o = linear(att, W.get(p + "self_attn.o_proj.weight")!, T, NH * HS, C);
    const h1 = x.map((xv, i) => xv + o[i]);
    const hn = rmsNorm64(h1, W.get(p + "post_attention_layernorm.weight")!, T, C, eps);
    const gate = linear(hn, W.get(p + "mlp.gate_proj.weight")!, T, C, I);
    const up = linear(hn, W.get(p + "mlp.up_proj.weight")!, T, C, I);
    const act = gate.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[i]);
    const down = linear(act, W.get(p + "mlp.down_proj.weight")!, T, I, C);
    x = h1.map((hv, i) => hv + down[i]);
  }
  const xf = rmsNorm64(x, W.get("model.norm.weight")!, T, C, eps);
  return linear(xf, W.get("lm_head.weight")!, T, C, V);
}
