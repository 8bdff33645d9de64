// The reference model sizes of DESIGN.md. Vocabulary size and special token ids come from the
// tokenizer at training time; the presets give everything else.
//   tiny     - tests only; trains in seconds.
//   small    - the workhorse for comparing methods: 192 px, 16 px patches -> 12x12 = 144 vision tokens.
//   llava576 - LLaVA-1.5's token count: 192 px, 8 px patches -> 24x24 = 576 vision tokens.
//   small-deep - small's ViT and 144 tokens with a deeper, thinner LLM (12 x 192, about small's FLOPs),
//              so that layer-wise pruning (ATP, FastV, PyramidDrop) has layers to spread over.
import type { LlamaConfig } from "./config.js";
import type { VisionConfig } from "./vision.js";
import { CLIP_MEAN, CLIP_STD, type VlmConfig } from "./vlm-config.js";

export type PresetName = "tiny" | "small" | "llava576" | "small-deep";
export const PRESET_NAMES: readonly PresetName[] = ["tiny", "small", "llava576", "small-deep"];

function vision(image: number, patch: number, width: number, layers: number, heads: number): VisionConfig {
  return {
    hidden_size: width, intermediate_size: 4 * width, num_hidden_layers: layers, num_attention_heads: heads,
    image_size: image, patch_size: patch, num_channels: 3, layer_norm_eps: 1e-5, hidden_act: "quick_gelu", initializer_range: 0.02,
  };
}

// Init spread of the LLM (and projector) weights: 1/sqrt(width) for the trained sizes, not HF LLaMA's
// 0.02 (tuned for width ~4096). At 0.02 a 256-wide LLaMA trained from scratch sits in a long plateau
// before it learns content look-ups ("is the asked token in the context?" after 800 steps: 69-71% at
// 0.02, 96-98% at 1/sqrt(256) = 0.0625; scripts/membership-toy.mjs). tiny keeps 0.02 (tests only).
function text(vocab: number, width: number, layers: number, heads: number, kvHeads: number, inter: number, init = 1 / Math.sqrt(width)): LlamaConfig {
  return {
    vocab_size: vocab, hidden_size: width, intermediate_size: inter, num_hidden_layers: layers, num_attention_heads: heads,
    num_key_value_heads: kvHeads, rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 2048, initializer_range: init,
  };
}

/** A VLM config of the named size for a vocabulary of `vocab` tokens with the given special ids. */
export function presetConfig(name: PresetName, vocab: number, imageToken: number, vocoToken = -1): VlmConfig {
  const base = { mm_projector_type: "mlp2x_gelu" as const, mm_projector_norm: false, mm_vision_select_layer: -2, image_token_index: imageToken,
    voco_token_index: vocoToken, image_mean: CLIP_MEAN, image_std: CLIP_STD };
  switch (name) {
    case "tiny":
      return { ...base, vision: vision(32, 8, 32, 2, 2), text: text(vocab, 32, 2, 2, 1, 64, 0.02) };
    case "small": // ViT 4 x 192, LLM 6 x 256 (SwiGLU width 688 = LLaMA's 2.69x ratio)
      return { ...base, vision: vision(192, 16, 192, 4, 3), text: text(vocab, 256, 6, 4, 4, 688) };
    case "llava576":
      return { ...base, vision: vision(192, 8, 192, 4, 3), text: text(vocab, 256, 6, 4, 4, 688) };
    case "small-deep": // LLM 12 x 192, 3 heads of 64, SwiGLU 512 (~2.67x)
      return { ...base, vision: vision(192, 16, 192, 4, 3), text: text(vocab, 192, 12, 3, 3, 512) };
  }
}
