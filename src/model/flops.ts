// Analytic FLOPs of a forward pass, from the config and what each layer actually saw (tokens and
// attended (query, key) pairs per layer, LayerStats), so every reducer is costed the same way.
// Counted: matmuls (2 FLOPs per multiply-add) in projections, MLPs, attention scores (QKᵀ) and
// mixing (PV), LM head, vision tower and projector. Not counted: norms, softmax, activations,
// RoPE, residual adds (a few percent at these sizes; the same for every method).
import type { LlamaConfig } from "./config.js";
import type { LayerStats } from "./llama.js";
import type { VisionConfig } from "./vision.js";

/** FLOPs of one decoder layer for n tokens attending `pairs` (query, key) pairs in total, nMlp of them
 * going through the MLP (fewer when a reducer prunes before it). */
export function decoderLayerFlops(c: LlamaConfig, n: number, pairs: number, nMlp = n): number {
  const C = c.hidden_size, HS = C / c.num_attention_heads, NH = c.num_attention_heads, NKV = c.num_key_value_heads;
  const proj = 2 * n * C * (NH * HS) + 2 * 2 * n * C * (NKV * HS) + 2 * n * (NH * HS) * C; // q, k+v, o
  const attn = 2 * 2 * pairs * HS * NH; // QKᵀ and PV for every head
  const mlp = 3 * 2 * nMlp * C * c.intermediate_size; // gate, up, down
  return proj + attn + mlp;
}

/** Decoder FLOPs summed over layers and rows, plus the LM head on `headTokens` tokens. */
export function decoderFlops(c: LlamaConfig, stats: readonly LayerStats[], headTokens: number): number {
  let f = 0;
  for (const s of stats) for (let b = 0; b < s.tokens.length; b++) f += decoderLayerFlops(c, s.tokens[b], s.attnPairs[b], s.mlpTokens?.[b] ?? s.tokens[b]);
  return f + 2 * headTokens * c.hidden_size * c.vocab_size;
}

/** Vision tower (up to the selected layer) + mlp2x_gelu projector, per image. */
export function visionFlops(v: VisionConfig, textHidden: number, selectLayer = -2): number {
  const P = (v.image_size / v.patch_size) ** 2, T = P + 1, D = v.hidden_size;
  const layers = selectLayer < 0 ? v.num_hidden_layers + 1 + selectLayer : selectLayer;
  const patch = 2 * P * v.num_channels * v.patch_size ** 2 * D;
  const perLayer = 4 * 2 * T * D * D + 2 * 2 * T * T * D + 2 * 2 * T * D * v.intermediate_size;
  const projector = 2 * P * D * textHidden + 2 * P * textHidden * textHidden;
  return patch + layers * perLayer + projector;
}

/** KV-cache bytes for `entries` cached tokens summed over layers (f32 K and V). */
export function kvBytes(c: LlamaConfig, entriesOverLayers: number, bytesPerValue = 4): number {
  const HS = c.hidden_size / c.num_attention_heads;
  return 2 * entriesOverLayers * c.num_key_value_heads * HS * bytesPerValue;
}
