// Runs a recipe end to end: resolve the config (defaults <- file <- overrides), build or resume the
// model, train with progress, and report. The CLI calls this; tests call it with tiny settings.
import { join } from "node:path";
import { existsSync } from "node:fs";
import { loadSafetensorsFile, saveJsonFile } from "../model/safetensors.js";
import { describeKernels } from "../kernels/index.js";
import { PRESET_NAMES, type PresetName } from "../model/presets.js";
import { mergeConfig, readConfigFile, type FlatConfig } from "./config.js";
import { loadVlmDir, loadVocabFile, WEIGHTS } from "./model-dir.js";
import { PLURAL_SUFFIX, type Vocab } from "../data/vocab.js";
import { buildVocab } from "./format.js";
import { train, type TrainerConfig, type TrainResult, type TrainTask, STATE_FILE } from "./trainer.js";
import { parseVisionHeads, VISION_DEFAULTS, VisionPretrainModel, visionTask, type VisionRecipeConfig } from "./recipes/vision.js";
import { ATP_RECIPE_DEFAULTS, newVlm, VLM_DEFAULTS, VOCO_DEFAULTS, vlmTask, type VlmRecipeConfig } from "./recipes/vlm.js";

export const RECIPES = { vision: VISION_DEFAULTS, vlm: VLM_DEFAULTS, voco: VOCO_DEFAULTS, atp: ATP_RECIPE_DEFAULTS } as const;
export type RecipeName = keyof typeof RECIPES;

export interface RunOptions {
  recipe: RecipeName;
  out: string;
  configFile?: string;
  overrides?: Record<string, unknown>;
  resume?: string;
  stopAfter?: number;
  quiet?: boolean;
  log?: (l: string) => void;
}

/** Defaults <- config file <- overrides (from --set and dedicated flags). */
export function resolveRecipeConfig(recipe: RecipeName, configFile?: string, overrides: Record<string, unknown> = {}): FlatConfig {
  let cfg: FlatConfig = { ...RECIPES[recipe] };
  if (configFile !== undefined) cfg = mergeConfig(cfg, readConfigFile(configFile), configFile);
  cfg = mergeConfig(cfg, overrides, "command line");
  if (!PRESET_NAMES.includes(cfg.preset as PresetName)) throw new Error(`preset "${cfg.preset}" is not one of ${PRESET_NAMES.join(", ")}`);
  return cfg;
}

function trainerConfig(c: FlatConfig): TrainerConfig {
  const n = (k: string) => c[k] as number;
  return { steps: n("steps"), grad_accum: n("grad_accum"), lr: n("lr"), min_lr: n("min_lr"), warmup: n("warmup"), weight_decay: n("weight_decay"),
    grad_clip: n("grad_clip"), eval_every: n("eval_every"), save_every: n("save_every"), log_every: n("log_every") };
}

export async function runRecipe(o: RunOptions): Promise<{ result: TrainResult; config: FlatConfig }> {
  const log = o.log ?? ((l: string) => console.error(l));
  let cfg: FlatConfig;
  if (o.resume !== undefined) {
    if (!existsSync(join(o.resume, STATE_FILE))) throw new Error(`${o.resume}: no ${STATE_FILE}: cannot resume from it`);
    const saved = readConfigFile(join(o.resume, STATE_FILE)).recipe as Record<string, unknown>;
    cfg = mergeConfig(mergeConfig({ ...RECIPES[o.recipe] }, saved, join(o.resume, STATE_FILE)), o.overrides ?? {}, "command line");
  } else {
    cfg = resolveRecipeConfig(o.recipe, o.configFile, o.overrides);
  }
  log(describeKernels());
  log(`recipe ${o.recipe}: ${JSON.stringify(cfg)}`);
  let task: TrainTask;
  if (o.recipe === "vision") {
    const c = cfg as unknown as VisionRecipeConfig;
    const { labels, layers } = parseVisionHeads(c);
    const model = new VisionPretrainModel(c.preset as PresetName, c.seed, labels, layers);
    if (o.resume !== undefined) {
      const { tensors } = loadSafetensorsFile(join(o.resume, WEIGHTS));
      const saved = new Map([...tensors].filter(([k]) => k.startsWith("vision_model.") || k.startsWith("patch_heads.")).map(([k, t]) => [k.startsWith("vision_model.") ? `vision.${k}` : k, t]));
      model.loadStateDict(saved);
    }
    task = visionTask(c, model);
  } else {
    const c = cfg as unknown as VlmRecipeConfig;
    if (o.resume !== undefined) {
      const loaded = loadVlmDir(o.resume);
      loaded.model.model.vision_tower.setTrainable(false);
      task = vlmTask(c, loaded.model, loaded.vocab, { recipe: o.recipe, atpFrom: o.resume, log });
    } else {
      const vocab = vocabFor(c);
      task = vlmTask(c, newVlm(c, vocab, log), vocab, { recipe: o.recipe, log });
    }
  }
  log(`parameters: ${(task.model.numParameters() / 1e6).toFixed(2)}M, trainable ${(task.model.trainableParameters().reduce((s, [, p]) => s + p.size, 0) / 1e6).toFixed(2)}M`);
  const result = await train(task, trainerConfig(cfg), { outDir: o.out, recipe: cfg, resumeFrom: o.resume, stopAfter: o.stopAfter, quiet: o.quiet, log });
  saveJsonFile(join(o.out, "train_config.json"), { recipe: o.recipe, ...cfg });
  return { result, config: cfg };
}

/**
 * A new model's vocabulary, or the --init model's own (so a model with the plural suffix can be
 * fine-tuned as it is); plural_suffix on an --init model without it appends the suffix (newVlm then
 * grows the embedding and the LM head by one row).
 */
function vocabFor(c: VlmRecipeConfig): Vocab {
  if (c.init === "") return buildVocab({ pluralSuffix: c.plural_suffix });
  const vocab = loadVocabFile(c.init);
  return c.plural_suffix && !vocab.pluralSuffix ? vocab.extended([PLURAL_SUFFIX]) : vocab;
}
