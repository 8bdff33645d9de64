// Tensor names of real LLaVA-1.5 checkpoints <-> our module names, and the one tensor conversion they
// need (CLIP's Conv2d patch embedding <-> the matmul form our ViT uses).
//
// Our names are the parameter names of LlavaForCausalLM (vlm.ts), which are those of the original
// llava-v1.5-7b release, so that layout needs no renaming, only the patch-embedding reshape:
//   LLM        model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, ..., model.norm.weight, lm_head.weight
//   projector  model.mm_projector.0.{weight,bias}, model.mm_projector.2.{weight,bias}   (Linear, GELU, Linear)
//   vision     model.vision_tower.vision_tower.vision_model. + the HF CLIPVisionModel names below it:
//              embeddings.{class_embedding, patch_embedding.weight, position_embedding.weight}, pre_layrnorm.*,
//              encoder.layers.N.{self_attn.{q,k,v,out}_proj, layer_norm1, mlp.fc1, mlp.fc2, layer_norm2}.*, post_layernorm.*
// Layouts found in the wild (checked against LLaVA llava/model/llava_arch.py + multimodal_encoder/
// clip_encoder.py, and transformers models/llava/convert_llava_weights_to_hf.py + modeling_llava.py):
//   llava            liuhaotian/llava-v1.5-7b (LlavaLlamaForCausalLM), also plain LLaMA/Vicuna files. The
//                    released 7b omits the vision tower: it comes from the CLIP checkpoint.
//   llava-hf         llava-hf/llava-1.5-7b-hf as stored: language_model.model.*, language_model.lm_head.weight,
//                    multi_modal_projector.linear_{1,2}.*, vision_tower.vision_model.*
//   llava-hf-nested  transformers >= 4.52 module names: model.language_model.*, lm_head.weight,
//                    model.multi_modal_projector.linear_{1,2}.*, model.vision_tower.vision_model.*
//   clip             openai/clip-vit-large-patch14-336 (CLIPModel): vision_model.* (+ text tower, ignored)
// Buffers that some files carry (rotary inv_freq, CLIP position_ids) and the CLIP text tower are
// reported as ignored, never silently mapped.
import { Tensor } from "../tensor/tensor.js";
import { loadCheckpointDir } from "./safetensors.js";

export type CheckpointLayout = "llava" | "llava-hf" | "llava-hf-nested" | "clip";

/** Where the CLIP vision model's own names (`vision_model.*`) sit in ours. */
export const VISION_TOWER_PREFIX = "model.vision_tower.vision_tower.";
const VT = `${VISION_TOWER_PREFIX}vision_model.`;

/** [prefix in the checkpoint, our prefix]; the longest matching prefix wins, in either direction. */
const RULES: Record<CheckpointLayout, readonly (readonly [string, string])[]> = {
  llava: [
    ["model.", "model."],
    ["lm_head.", "lm_head."],
  ],
  "llava-hf": [
    ["vision_tower.vision_model.", VT],
    ["multi_modal_projector.linear_1.", "model.mm_projector.0."],
    ["multi_modal_projector.linear_2.", "model.mm_projector.2."],
    ["language_model.model.", "model."],
    ["language_model.lm_head.", "lm_head."],
  ],
  "llava-hf-nested": [
    ["model.vision_tower.vision_model.", VT],
    ["model.multi_modal_projector.linear_1.", "model.mm_projector.0."],
    ["model.multi_modal_projector.linear_2.", "model.mm_projector.2."],
    ["model.language_model.", "model."],
    ["lm_head.", "lm_head."],
  ],
  clip: [["vision_model.", VT]],
};

/** Names that tell the layouts apart (lm_head.weight is shared, so it decides nothing). */
const SIGNATURES: readonly (readonly [CheckpointLayout, RegExp])[] = [
  ["llava-hf", /^(language_model\.|multi_modal_projector\.|vision_tower\.vision_model\.)/],
  ["llava-hf-nested", /^model\.(language_model|multi_modal_projector|vision_tower\.vision_model)\./],
  ["llava", /^model\.(embed_tokens|layers|norm|mm_projector|vision_tower\.vision_tower)\./],
  ["clip", /^vision_model\./],
];

/** Tensors real files hold that are not parameters of our model. */
const IGNORED = [
  /\.rotary_emb\.inv_freq$/, // LLaMA RoPE buffer, saved by transformers <= 4.31
  /(^|\.)embeddings\.position_ids$/, // CLIP position-id buffer (I64)
  /^(text_model\.|logit_scale$|text_projection\.|visual_projection\.)/, // CLIP's text tower and heads
  /(^|\.)image_newline$/, // LLaVA-NeXT; unused with LLaVA-1.5's flat patch merge
];

export const PATCH_EMBEDDING = `${VT}embeddings.patch_embedding.weight`;

/** Which layout a set of checkpoint names is in; throws when none or several are recognised. */
export function detectLayout(names: Iterable<string>): CheckpointLayout {
  const found = new Map<CheckpointLayout, string>();
  for (const name of names) {
    for (const [layout, re] of SIGNATURES) if (re.test(name) && !found.has(layout)) found.set(layout, name);
  }
  if (found.size === 1) return [...found.keys()][0];
  if (found.size === 0) throw new Error(`checkpoint layout not recognised: no LLaVA, LLaMA or CLIP tensor names among ${[...names].slice(0, 5).join(", ") || "(no tensors)"}`);
  throw new Error(`checkpoint mixes layouts: ${[...found].map(([l, n]) => `${l} (e.g. ${n})`).join(", ")}; convert each file set on its own`);
}

function longestFirst(rules: readonly (readonly [string, string])[], side: 0 | 1): (readonly [string, string])[] {
  return [...rules].sort((a, b) => b[side].length - a[side].length);
}

/** Our name for a checkpoint tensor, or null when the layout has no rule for it. */
export function toCanonicalName(name: string, layout: CheckpointLayout): string | null {
  for (const [theirs, ours] of longestFirst(RULES[layout], 0)) {
    if (name.startsWith(theirs)) return ours + name.slice(theirs.length);
  }
  return null;
}

/** The checkpoint name of one of our tensors in a layout; throws when the layout cannot hold it. */
export function fromCanonicalName(name: string, layout: CheckpointLayout): string {
  for (const [theirs, ours] of longestFirst(RULES[layout], 1)) {
    if (name.startsWith(ours)) return theirs + name.slice(ours.length);
  }
  throw new Error(`tensor "${name}" has no place in the ${layout} layout`);
}

/**
 * CLIP's Conv2d patch embedding weight (C, 3, p, p) -> (C, 3*p*p), the matmul form over patches
 * flattened in (channel, ky, kx) order. A row-major (C, 3, p, p) array is already laid out that way,
 * so this is a reshape: the data is shared, not copied.
 */
export function patchEmbeddingToLinear(w: Tensor): Tensor {
  if (w.ndim === 2) return w;
  const [C, ch, ph, pw] = w.shape;
  if (w.ndim !== 4 || ph !== pw) throw new Error(`patch embedding: expected a Conv2d weight (C, channels, p, p), got (${w.shape.join(", ")})`);
  return new Tensor(w.data, [C, ch * ph * pw]); // (C, ch*p*p)
}

/** The inverse: (C, channels*p*p) -> (C, channels, p, p), as stored in HF CLIP checkpoints. */
export function patchEmbeddingToConv(w: Tensor, channels = 3): Tensor {
  if (w.ndim === 4) return w;
  const [C, K] = w.shape;
  const p = Math.round(Math.sqrt(K / channels));
  if (w.ndim !== 2 || p * p * channels !== K) throw new Error(`patch embedding: (${w.shape.join(", ")}) is not (C, ${channels}*p*p) for any patch size p`);
  return new Tensor(w.data, [C, channels, p, p]); // (C, channels, p, p)
}

export interface CanonicalCheckpoint {
  /** Tensors under our names (patch embedding in the matmul form unless asked otherwise). */
  tensors: Map<string, Tensor>;
  layout: CheckpointLayout;
  /** Checkpoint names deliberately skipped (buffers, CLIP text tower). */
  ignored: string[];
  /** Checkpoint names no rule maps (only when strict is false; strict throws instead). */
  unmapped: string[];
}

export interface ToCanonicalOptions {
  /** Force a layout instead of detecting it. */
  layout?: CheckpointLayout;
  /** Keep the patch embedding as the Conv2d weight instead of reshaping it to (C, 3*p*p). */
  patchEmbedding?: "linear" | "conv";
  /** Throw on names no rule maps (default true). */
  strict?: boolean;
}

/** Renames a checkpoint's tensors (in any supported layout) to our names. */
export function toCanonical(tensors: ReadonlyMap<string, Tensor>, opts: ToCanonicalOptions = {}): CanonicalCheckpoint {
  const names = [...tensors.keys()];
  const layout = opts.layout ?? detectLayout(names.filter((n) => !IGNORED.some((re) => re.test(n))));
  const out = new Map<string, Tensor>(), from = new Map<string, string>();
  const ignored: string[] = [], unmapped: string[] = [];
  for (const [name, t] of tensors) {
    if (IGNORED.some((re) => re.test(name))) { ignored.push(name); continue; }
    const ours = toCanonicalName(name, layout);
    if (ours === null) { unmapped.push(name); continue; }
    if (out.has(ours)) throw new Error(`checkpoint tensors "${from.get(ours)}" and "${name}" both map to "${ours}"`);
    out.set(ours, ours === PATCH_EMBEDDING && opts.patchEmbedding !== "conv" ? patchEmbeddingToLinear(t) : t);
    from.set(ours, name);
  }
  if ((opts.strict ?? true) && unmapped.length > 0) {
    throw new Error(`${unmapped.length} tensor(s) have no name in our model (layout ${layout}): ${unmapped.slice(0, 8).join(", ")}${unmapped.length > 8 ? ", ..." : ""}`);
  }
  return { tensors: out, layout, ignored, unmapped };
}

/** Renames our tensors to a checkpoint layout; the patch embedding goes back to its Conv2d shape. */
export function fromCanonical(tensors: ReadonlyMap<string, Tensor>, layout: CheckpointLayout, opts: { numChannels?: number } = {}): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of tensors) {
    out.set(fromCanonicalName(name, layout), name === PATCH_EMBEDDING ? patchEmbeddingToConv(t, opts.numChannels ?? 3) : t);
  }
  return out;
}

/**
 * Loads checkpoint folders (each in any supported layout) into one map under our names, e.g. the
 * original llava-v1.5-7b folder plus the CLIP folder its vision tower comes from. A name given by
 * two folders is an error.
 */
export function loadCanonical(dirs: readonly string[], opts: Omit<ToCanonicalOptions, "layout"> = {}): Map<string, Tensor> {
  const out = new Map<string, Tensor>(), origin = new Map<string, string>();
  for (const dir of dirs) {
    for (const [name, t] of toCanonical(loadCheckpointDir(dir).tensors, opts).tensors) {
      if (out.has(name)) throw new Error(`"${name}" is in both ${origin.get(name)} and ${dir}`);
      out.set(name, t);
      origin.set(name, dir);
    }
  }
  return out;
}
