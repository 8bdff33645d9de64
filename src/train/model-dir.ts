// A model folder: config.json (Hugging Face field names, original LLaVA layout + vision_config and
// a "vlmc" block), model.safetensors (LLaVA-1.5 tensor names), and the word-level vocabulary as a
// Hugging Face tokenizer.json (+ tokenizer_config.json, special_tokens_map.json), read back through
// the same HF tokenizer loader a real checkpoint uses. Saving is atomic per file; loading names
// the folder and the file on every error.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Vocab } from "../data/vocab.js";
import { loadSafetensorsFile, saveJsonFile, saveSafetensorsFile, type WriteDtype } from "../model/safetensors.js";
import { vlmConfigFromDict, vlmConfigToDict, type VlmConfig } from "../model/vlm-config.js";
import { CLIPVisionModel, visionConfigFromDict, type VisionConfig } from "../model/vision.js";
import { LlavaForCausalLM } from "../model/vlm.js";
import { saveTokenizer, TOKENIZER_FILE, WordLevelTokenizer } from "../model/tokenizer.js";
import { loadTokenizer } from "../model/tokenizer-hf.js";
import { withoutInit, type Tensor } from "../tensor/tensor.js";
import { ATP_DEFAULTS, type AtpConfig } from "../compress/atp/config.js";

export const CONFIG = "config.json", WEIGHTS = "model.safetensors";

/** Provenance and training facts stored beside the HF fields. */
export interface VlmcInfo {
  preset?: string;
  recipe?: string;
  [key: string]: unknown;
}

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  try {
    const v: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: cannot parse (${(e as Error).message})`);
  }
}

export function saveVocabFile(dir: string, vocab: Vocab): void {
  saveTokenizer(dir, new WordLevelTokenizer(vocab.tokens, { replacements: vocab.replacements() }));
}

export function loadVocabFile(dir: string): Vocab {
  const tok = loadTokenizer(dir);
  const tokens = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i));
  const missing = tokens.findIndex((t) => t === undefined);
  if (missing >= 0) throw new Error(`${join(dir, TOKENIZER_FILE)}: no token has id ${missing}`);
  try {
    return new Vocab(tokens as string[]);
  } catch (e) {
    throw new Error(`${join(dir, TOKENIZER_FILE)}: not a ShapesQA word-level vocabulary (${(e as Error).message})`);
  }
}

export function saveVlmDir(dir: string, model: LlavaForCausalLM, vocab: Vocab, info: VlmcInfo, dtype: WriteDtype = "F32"): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensorsFile(join(dir, WEIGHTS), model.stateDict(), { dtype, metadata: { format: "pt" } });
  saveJsonFile(join(dir, CONFIG), { ...vlmConfigToDict(model.vcfg), vlmc: info });
  saveVocabFile(dir, vocab);
}

export interface LoadedVlm {
  model: LlavaForCausalLM;
  vocab: Vocab;
  config: VlmConfig;
  info: VlmcInfo;
}

export function loadVlmDir(dir: string): LoadedVlm {
  if (!existsSync(dir)) throw new Error(`${dir}: model folder not found`);
  const raw = readJson(join(dir, CONFIG));
  const config = vlmConfigFromDict(raw, join(dir, CONFIG));
  const vocab = loadVocabFile(dir);
  if (vocab.size !== config.text.vocab_size) throw new Error(`${dir}: ${TOKENIZER_FILE} has ${vocab.size} tokens but ${CONFIG} says vocab_size ${config.text.vocab_size}`);
  const model = withoutInit(() => new LlavaForCausalLM(config, 0)); // every weight comes from the file (strict load)
  const { tensors } = loadSafetensorsFile(join(dir, WEIGHTS));
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    throw new Error(`${join(dir, WEIGHTS)}: ${(e as Error).message}`);
  }
  return { model, vocab, config, info: (raw.vlmc ?? {}) as VlmcInfo };
}

/** A vision tower folder (CLIP names: vision_model.*) with its config. */
export function saveVisionDir(dir: string, vt: CLIPVisionModel, info: VlmcInfo, extra: Iterable<[string, Tensor]> = []): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensorsFile(join(dir, WEIGHTS), [...vt.stateDict(), ...extra], { metadata: { format: "pt" } });
  saveJsonFile(join(dir, CONFIG), { model_type: "clip_vision_model", ...vt.cfg, vlmc: info });
}

export function loadVisionDir(dir: string): { model: CLIPVisionModel; config: VisionConfig; tensors: Map<string, Tensor> } {
  const config = visionConfigFromDict(readJson(join(dir, CONFIG)), join(dir, CONFIG));
  const model = withoutInit(() => new CLIPVisionModel(config, 0));
  const { tensors } = loadSafetensorsFile(join(dir, WEIGHTS));
  const own = new Map([...tensors].filter(([n]) => n.startsWith("vision_model.")));
  try {
    model.loadStateDict(own);
  } catch (e) {
    throw new Error(`${join(dir, WEIGHTS)}: ${(e as Error).message}`);
  }
  return { model, config, tensors };
}

/** How a model folder's recorded method is applied at inference: VoCo tokens and mask, or pooling. */
export interface MethodSetup {
  vocoTokens: number;
  vocoMask: boolean;
  poolTokens: number;
  /** ATP configuration when the folder holds ATP modules (atp.safetensors). */
  atp: AtpConfig | null;
  /** Trained on video clips. */
  video: boolean;
}

export function methodOf(info: VlmcInfo): MethodSetup {
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const atp = typeof info.atp === "object" && info.atp !== null ? { ...ATP_DEFAULTS, ...(info.atp as Partial<AtpConfig>) } : null;
  return { vocoTokens: n(info.voco_tokens), vocoMask: info.voco_mask === true, poolTokens: n(info.pool_tokens), atp, video: info.video === true };
}
