// The VLM's config.json. We write the original LLaVA-1.5 layout (LLaMA fields at the top level,
// mm_* fields, model_type "llava") plus a `vision_config` (the original release takes the vision
// tower's config from the CLIP checkpoint instead; we are self-contained). We also read the
// Hugging Face llava-hf layout ({text_config, vision_config, vision_feature_layer, ...}).
import { llamaConfigFromDict, type LlamaConfig } from "./config.js";
import { visionConfigFromDict, type VisionConfig } from "./vision.js";

export interface VlmConfig {
  text: LlamaConfig;
  vision: VisionConfig;
  mm_projector_type: "mlp2x_gelu";
  /** Which ViT layer's patch features feed the projector (-2: penultimate, as LLaVA-1.5). */
  mm_vision_select_layer: number;
  /**
   * vlmc option, not in LLaVA: RMS-normalise the projector's output (learned per-channel gain). Our
   * small LLM is trained from scratch with text embeddings of norm ~0.6, and without it the projected
   * vision tokens grow to norm ~150, so the decoder layers cannot change them (no contextualisation).
   */
  mm_projector_norm: boolean;
  image_token_index: number;
  /** The `<voco>` token id, or -1 when the vocabulary has none. */
  voco_token_index: number;
  /**
   * vlmc option, not in VoCo-LLaMA (which gives every <voco> token the same embedding row): the N
   * <voco> tokens after an image also get the average of their region of its projected vision tokens
   * (the average-pooling baseline's N tokens), so compression starts where pooling ends. Absent = off.
   */
  voco_pool_init?: boolean;
  /** Per-channel normalisation applied to [0, 1] RGB before the ViT. */
  image_mean: [number, number, number];
  image_std: [number, number, number];
}

// CLIP's preprocessing constants (openai/clip-vit-large-patch14-336 preprocessor_config.json)
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

function triple(v: unknown, fallback: [number, number, number], where: string): [number, number, number] {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== "number")) throw new Error(`${where} must be 3 numbers, got ${JSON.stringify(v)}`);
  return [v[0], v[1], v[2]];
}

function int(d: Record<string, unknown>, key: string, fallback: number, where: string): number {
  const v = d[key] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`${where}: field "${key}" must be an integer, got ${JSON.stringify(d[key])}`);
  return v;
}

function bool(d: Record<string, unknown>, key: string, where: string): boolean {
  const v = d[key] ?? false;
  if (typeof v !== "boolean") throw new Error(`${where}: field "${key}" must be true or false, got ${JSON.stringify(d[key])}`);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads either layout; `where` names the file in error messages. */
export function vlmConfigFromDict(d: Record<string, unknown>, where = "config.json"): VlmConfig {
  const textDict = isRecord(d.text_config) ? d.text_config : d;
  if (!isRecord(d.vision_config)) throw new Error(`${where}: no "vision_config" object (the vision tower's config is required)`);
  const proj = (d.mm_projector_type ?? "mlp2x_gelu") as string;
  if (proj !== "mlp2x_gelu") throw new Error(`${where}: mm_projector_type "${proj}" is not supported (mlp2x_gelu)`);
  const feature = d.mm_vision_select_feature ?? d.vision_feature_select_strategy ?? "patch";
  if (feature !== "patch" && feature !== "default") throw new Error(`${where}: vision feature selection "${String(feature)}" is not supported (patch)`);
  const text = llamaConfigFromDict(textDict, isRecord(d.text_config) ? `${where} text_config` : where);
  return {
    text,
    vision: visionConfigFromDict(d.vision_config, `${where} vision_config`),
    mm_projector_type: "mlp2x_gelu",
    mm_vision_select_layer: int(d, d.mm_vision_select_layer !== undefined ? "mm_vision_select_layer" : "vision_feature_layer", -2, where),
    mm_projector_norm: bool(d, "mm_projector_norm", where),
    image_token_index: int(d, "image_token_index", -200, where),
    voco_token_index: int(d, "voco_token_index", -1, where),
    ...(bool(d, "voco_pool_init", where) ? { voco_pool_init: true } : {}),
    image_mean: triple(d.image_mean, CLIP_MEAN, `${where}: image_mean`),
    image_std: triple(d.image_std, CLIP_STD, `${where}: image_std`),
  };
}

/** The config.json we write (original LLaVA layout + vision_config). */
export function vlmConfigToDict(c: VlmConfig): Record<string, unknown> {
  return {
    architectures: ["LlavaLlamaForCausalLM"],
    model_type: "llava",
    ...c.text,
    mm_hidden_size: c.vision.hidden_size,
    mm_projector_type: c.mm_projector_type,
    mm_vision_select_layer: c.mm_vision_select_layer,
    mm_vision_select_feature: "patch",
    mm_vision_tower: "vlmc-clip-vit",
    ...(c.mm_projector_norm ? { mm_projector_norm: true } : {}),
    image_token_index: c.image_token_index,
    voco_token_index: c.voco_token_index,
    ...(c.voco_pool_init === true ? { voco_pool_init: true } : {}),
    image_mean: c.image_mean,
    image_std: c.image_std,
    vision_config: { model_type: "clip_vision_model", ...c.vision },
  };
}
