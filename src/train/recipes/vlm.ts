// Recipe `vlm`: visual instruction tuning, LLaVA-1.5 style: the pretrained ViT frozen, projector and
// LLM trained on multi-turn ShapesQA conversations with the loss on the answers only.
// NOTE: LLaVA-1.5 has two stages (projector-only pretraining on captions, then full fine-tuning);
// we have no caption data and a small LLM trained from scratch, so this is one stage on QA.
import { makeExample, type Example, type Turn } from "../../data/stream.js";
import { CAPTION_QUESTION, captionOf, sceneText } from "../../data/shapes/caption.js";
import type { Scene } from "../../data/shapes/scene.js";
import { IMAGE_QUESTION_TYPES, type QuestionType } from "../../data/shapes/templates.js";
import type { DifficultyName } from "../../data/splits.js";
import { DIFFICULTIES } from "../../data/splits.js";
import type { Vocab } from "../../data/vocab.js";
import { presetConfig, type PresetName } from "../../model/presets.js";
import { withAddedTokens } from "../../model/resize-vocab.js";
import { LlavaForCausalLM, type VlmExample } from "../../model/vlm.js";
import { crossEntropy } from "../../tensor/ops/loss.js";
import { IGNORE_INDEX } from "../../tensor/ops/loss.js";
import { evaluateVqa } from "../../eval/vqa.js";
import { encodeConversation, toVlmExample } from "../format.js";
import { argmax } from "../../model/generate.js";
import { loadVisionDir, loadVlmDir, saveVlmDir } from "../model-dir.js";
import { vocoMaskHooks } from "../../compress/voco/mask.js";
import { videoForward } from "../../compress/voco/video-train.js";
import type { Tensor } from "../../tensor/tensor.js";
import { ATP_DEFAULTS, type AtpConfig } from "../../compress/atp/config.js";
import { AtpHooks } from "../../compress/atp/hooks.js";
import type { AtpModules } from "../../compress/atp/module.js";
import { Module } from "../../nn/module.js";
import { keptFraction } from "../../eval/kept.js";
import { loadAtpModules, saveAtpModules } from "../atp-files.js";
import { avgPoolHooks } from "../../compress/baselines/pool.js";
import { klDivergence } from "../../tensor/ops/loss.js";
import { add, scale } from "../../tensor/ops/elementwise.js";
import { noGrad } from "../../tensor/autograd.js";
import { Rng } from "../../tensor/random.js";
import { defaultPruneLayers } from "../../compress/common.js";
import type { MicroResult, TrainTask } from "../trainer.js";

export const VLM_DEFAULTS = {
  preset: "small", vision: "", init: "", steps: 3000, batch_size: 8, grad_accum: 1, lr: 1e-3, min_lr: 1e-4, warmup: 150,
  weight_decay: 0.05, grad_clip: 1.0, eval_every: 500, eval_examples: 50, save_every: 250, log_every: 10,
  seed: 0, data_seed: 0, questions: 4, difficulty: "medium",
  /** A new model's vocabulary encodes plural shape words as the singular + "-s" ("stars" -> "star -s"),
   * so the shape words of attribute questions serve existence and count questions too (a vlmc option;
   * stored in the tokenizer, so evaluation and inference follow it). With --init the init model's vocabulary holds;
   * true on an init model without the suffix appends it as a new token (one new embedding and LM-head row,
   * the mean of the others; every old id kept). */
  plural_suffix: false,
  /** Training only: the most questions of one type per image (1 = each type once, as the eval splits).
   * With questions=12 and 3, an image carries ~3x the answers for ~1.5x the tokens (a vlmc option). */
  questions_per_type: 1,
  /** Exceptions to questions_per_type, e.g. "existence=6" (comma-separated type=count; "" = none). */
  questions_per_type_of: "",
  /** Fill the count type's share of an image with unplanned counts of other colours and shapes after
   * the planned one (with a count type block: up to `questions` counts per image, not 1). A vlmc option. */
  count_extra: false,
  /** RMS-normalise the projector output (config mm_projector_norm; a vlmc option, not in LLaVA). */
  projector_norm: false,
  /** Standard deviation of the text embeddings at initialisation (0 = the config's initializer_range, 0.02,
   * as Hugging Face LLaMA). A from-scratch LLM with 0.02 embeddings buries each word's identity under
   * the first layer's attention output, which averages 144 vision tokens; PyTorch's nn.Embedding default is 1. */
  embed_init_std: 0,
  /** Init spread of the LLM and projector weights (0 = the preset's: 1/sqrt(width) for small and llava576;
   * 0.02 = HF LLaMA's default, under which our from-scratch LLM learned question-conditioned look-ups very slowly). */
  init_std: 0,
  /** Cycle over this many training examples (0 = a fresh example every time: the default). */
  train_examples: 0,
  /** Fraction of training examples that are scene descriptions ("what objects are there?") instead of QA. */
  caption_fraction: 0,
  /** "replace": a caption example has the caption as its only turn (the questions are dropped);
   * "append": the caption is asked after the example's questions, as its last turn, so the answers
   * before it cannot read it (a vlmc option: every image then trains both). */
  caption_mode: "replace",
  /** Captions also name one colour the scene lacks ("no red objects"). */
  caption_absent: false,
  /** Fraction of training examples whose image is replaced by the scene in words ("large red circle
   * 3 7 , ..."): text-only pretraining of the LLM's question answering (a vlmc option: LLaVA's LLM
   * arrives pretrained; ours starts from scratch). 1 = a text-only stage that never sees an image. */
  text_scene_fraction: 0,
  /** Restrict training questions to these types (comma-separated, e.g. "existence,count"); "" = all. */
  question_types: "",
  /** Type blocks (a vlmc option): a comma-separated cycle of question types or "all", each held for
   * type_block_steps optimizer steps. A single-type block asks that type only (questions_per_type =
   * questions, no captions); "all" is the recipe's own mix. Measured here: a type the mixed recipe never
   * learns (existence: 45%) is learned when it has the batches to itself. "" = off. */
  type_blocks: "", type_block_steps: 100,
  /** Train (and evaluate) on ShapesVideoQA clips: with voco_mask, frames are compressed one by one
   * and the text attends to the concatenated frame caches; without, every frame's tokens are in context. */
  video: false,
  /** <voco> tokens inserted after the image; with voco_mask false this trains VoCo's upper-bound model. */
  voco_tokens: 0, voco_mask: false,
  /** A vlmc option, not in VoCo-LLaMA: each <voco> token starts from the mean of its region of the image's
   * projected tokens (the average-pooling baseline's N tokens) besides the shared <voco> embedding; saved
   * in the model's config (voco_pool_init), so every later use of the model does the same. */
  voco_pool_init: false,
  /** Weight of the paper's KL(teacher || student) term on answer tokens (0 = off, as the official code). */
  distill: 0, distill_tau: 1, teacher: "",
  /** Average-pool each image's tokens to this many before the LLM (the "Avg. Pool + Linear" baseline); 0 = off. */
  pool_tokens: 0,
  /** ATP-LLaVA: pruning modules after these decoder layers (comma-separated; "" = after layers 0, nL/3
   * and 2nL/3: 0,2,4 of 6, 0,4,8 of 12), trained with soft masks. */
  atp: false, atp_layers: "", atp_target: 0.25, atp_freeze_llm: false, atp_sap: true, atp_self: true, atp_cross: true,
  atp_temperature: 10,
  /** The threshold MLP's input: "position" (score vectors pooled in token order, the re-implementation's)
   * or "sorted" (pooled after sorting: how many tokens stand out; a vlmc option). */
  atp_score_input: "position",
  /** SAP's nested uniform grids (strides on the vision grid; "2,4" keeps a 3x3 skeleton of 144 tokens at
   * its sparsest). A sparser grid (e.g. "2,4,6": a 2x2 skeleton) leaves more of a small budget to the
   * redundancy score; a vlmc option, the paper's grid is not published. */
  atp_sap_strides: "2,4",
  /** Train with the hard keep/prune decisions forward and the soft masks' gradient backward (a vlmc
   * option, off = the paper's soft masks; see AtpConfig.straightThrough). */
  atp_straight_through: false,
  /** Count each pruned token into its most similar kept one and weight that key's logits by log(size) in
   * later layers (a vlmc option after ToMe's proportional attention; needs atp_straight_through). */
  atp_merge: false,
  /** With atp_merge: also average each kept token's state with the states merged into it, size-weighted (ToMe's merge). */
  atp_merge_states: false,
  /** With atp_merge: a pruned token joins only kept tokens within this many grid cells, else it is dropped (0 = any). */
  atp_merge_radius: 0,
  /** Question-aware thresholds: the threshold MLP also reads the last prompt token's state (a vlmc option). */
  atp_question_input: false,
  /** Learning-rate multiplier of the ATP threshold MLPs (a vlmc option; 1 = one rate for everything).
   * Under Adam a threshold moves at about the rate's pace whatever its gradient's size, so at 3e-4 the
   * thresholds stay near where they start (~20% kept with SAP 6) and the budget terms cannot move them far. */
  atp_lr_scale: 1,
  /** Clip the ATP threshold MLPs' gradients and the rest's to grad_clip separately (a vlmc option; off =
   * one global norm, in which the thresholds' large gradients shrink the LLM's by ~30x, varying by step). */
  atp_separate_clip: false,
  /** Budget loss weights: lambda_atp on the depth-weighted kept fractions (a larger value charges later
   * layers more; measured at 0.3, it lowered the total, not the shape) and lambda_target on |mean kept - target| (paper via the re-implementation: 0.05, 0.2). */
  atp_lambda_atp: 0.05, atp_lambda_target: 0.2,
  /** "l1" (the paper's |mean - target| term, via the re-implementation) or "dual" (a vlmc option: the
   * target as a constraint with a Lagrange multiplier updated by dual ascent at rate atp_dual_lr;
   * see AtpConfig.targetLoss). */
  atp_target_loss: "l1", atp_dual_lr: 1, atp_dual_clip: 0,
  /** If > 0: the target average kept count in tokens (overrides atp_target, a fraction). */
  atp_target_tokens: 0,
};
/** Recipe `voco`: VoCo-LLaMA instruction tuning, the vlm recipe with the VoCo mask. */
export const VOCO_DEFAULTS = { ...VLM_DEFAULTS, voco_tokens: 1, voco_mask: true };
/** Recipe `atp`: ATP-LLaVA fine-tuning from an upper-bound model (--init), soft masks + budget loss. */
export const ATP_RECIPE_DEFAULTS = { ...VLM_DEFAULTS, atp: true, steps: 1500, lr: 3e-4, min_lr: 3e-5, warmup: 50 };

/** The ATP configuration a recipe config describes; hiddenSize is the LLM's width, which the
 * question-aware thresholds read (atp_question_input). */
export function atpConfigOf(cfg: VlmRecipeConfig, nL: number, hiddenSize = 0): AtpConfig {
  const layers = cfg.atp_layers.trim() === "" ? defaultPruneLayers(nL) : cfg.atp_layers.split(",").map((x) => Number(x.trim()));
  if (layers.some((l) => !Number.isInteger(l) || l < 0)) throw new Error(`atp_layers "${cfg.atp_layers}" must be comma-separated layer indices`);
  for (const k of ["atp_lambda_atp", "atp_lambda_target", "atp_dual_lr", "atp_dual_clip"] as const) if (!(cfg[k] >= 0)) throw new Error(`${k} must be >= 0, got ${cfg[k]}`);
  if (!(cfg.atp_lr_scale > 0)) throw new Error(`atp_lr_scale must be > 0, got ${cfg.atp_lr_scale}`);
  if (cfg.atp_target_loss !== "l1" && cfg.atp_target_loss !== "dual") throw new Error(`atp_target_loss must be "l1" or "dual", got "${cfg.atp_target_loss}"`);
  if (cfg.atp_score_input !== "position" && cfg.atp_score_input !== "sorted") throw new Error(`atp_score_input must be "position" or "sorted", got "${cfg.atp_score_input}"`);
  if (cfg.atp_merge && !cfg.atp_straight_through) throw new Error("atp_merge=true needs atp_straight_through=true (merging follows the hard decisions)");
  if (cfg.atp_merge_states && !cfg.atp_merge) throw new Error("atp_merge_states=true needs atp_merge=true");
  if (cfg.atp_question_input && !(hiddenSize > 0)) throw new Error("atp_question_input=true needs the model's hidden size (internal: atpConfigOf called without it)");
  if (!(Number.isInteger(cfg.atp_merge_radius) && cfg.atp_merge_radius >= 0)) throw new Error(`atp_merge_radius must be an integer >= 0 (grid cells; 0 = any), got ${cfg.atp_merge_radius}`);
  const sapStrides = cfg.atp_sap_strides.split(",").map((x) => Number(x.trim()));
  if (sapStrides.length === 0 || sapStrides.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`atp_sap_strides "${cfg.atp_sap_strides}" must be comma-separated positive integers (grid strides)`);
  return { ...ATP_DEFAULTS, layers, sapStrides, targetFraction: cfg.atp_target, useSap: cfg.atp_sap, useSelf: cfg.atp_self, useCross: cfg.atp_cross, temperature: cfg.atp_temperature,
    lambdaAtp: cfg.atp_lambda_atp, lambdaTarget: cfg.atp_lambda_target, targetLoss: cfg.atp_target_loss as AtpConfig["targetLoss"],
    dualLr: cfg.atp_dual_lr, dualClip: cfg.atp_dual_clip, straightThrough: cfg.atp_straight_through, merge: cfg.atp_merge, mergeStates: cfg.atp_merge_states, mergeRadius: cfg.atp_merge_radius,
    questionDim: cfg.atp_question_input ? hiddenSize : 0, scoreInput: cfg.atp_score_input as AtpConfig["scoreInput"] };
}

/** A VLM with its ATP modules, trained together (the modules' names start with `atp.`). */
export class VlmWithAtp extends Module {
  constructor(public vlm: LlavaForCausalLM, public atp: AtpModules) {
    super();
  }
}
export type VlmRecipeConfig = typeof VLM_DEFAULTS;
export type CaptionMode = "replace" | "append";

/** "existence=6,count=2" -> { existence: 6, count: 2 } (image question types only). */
export function parsePerTypeOf(spec: string): Partial<Record<QuestionType, number>> {
  const out: Partial<Record<QuestionType, number>> = {};
  for (const part of spec.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    const [t, n] = part.split("=").map((x) => x.trim());
    if (!(IMAGE_QUESTION_TYPES as readonly string[]).includes(t)) throw new Error(`questions_per_type_of "${spec}": "${t}" is not one of ${IMAGE_QUESTION_TYPES.join(", ")}`);
    const v = Number(n);
    if (!Number.isInteger(v) || v < 1) throw new Error(`questions_per_type_of "${spec}": the count for ${t} must be an integer >= 1, got "${n ?? ""}"`);
    out[t as QuestionType] = v;
  }
  return out;
}

/** A caption example's conversation: the caption alone ("replace"), or after the example's questions ("append"). */
export function captionConversation(ex: Example, mode: CaptionMode, absent = false): Turn[] {
  const answer = { from: "gpt" as const, value: captionOf(ex.scene as Scene, absent) };
  if (mode === "append" && ex.conversations.length > 0) return [...ex.conversations, { from: "human", value: CAPTION_QUESTION }, answer];
  return [{ from: "human", value: `<image>\n${CAPTION_QUESTION}` }, answer];
}

/**
 * The VLM a run starts from: all weights from `cfg.init` (a model folder) if given; else fresh, with
 * the ViT from `cfg.vision` (a folder of `vlmc train vision`). The ViT is frozen either way.
 */
export function newVlm(cfg: VlmRecipeConfig, vocab: Vocab, log: (l: string) => void): LlavaForCausalLM {
  if (cfg.init !== "") {
    const init = loadVlmDir(cfg.init);
    const old = init.vocab.tokens, added = vocab.tokens.slice(old.length);
    if (vocab.tokens.slice(0, old.length).join("\n") !== old.join("\n")) throw new Error(`${cfg.init}: its vocabulary differs from this recipe's`);
    const model = added.length === 0 ? init.model : withAddedTokens(init.model, added.length);
    log(`initialised from ${cfg.init}${added.length > 0 ? ` (vocabulary extended by ${added.join(", ")}: ${old.length} -> ${vocab.size} tokens)` : ""}`);
    if (cfg.vision !== "") loadVisionInto(model, cfg.vision, log); // e.g. a text-pretrained LLM meets a new ViT
    model.model.vision_tower.setTrainable(false);
    return model;
  }
  const preset = presetConfig(cfg.preset as PresetName, vocab.size, vocab.special("<image>"), vocab.special("<voco>"));
  if (cfg.init_std < 0) throw new Error(`init_std must be >= 0 (0 = the preset's), got ${cfg.init_std}`);
  const text = cfg.init_std > 0 ? { ...preset.text, initializer_range: cfg.init_std } : preset.text;
  const vc = { ...preset, text, mm_projector_norm: cfg.projector_norm };
  const model = new LlavaForCausalLM(vc, cfg.seed);
  if (cfg.embed_init_std > 0) {
    const rng = new Rng(cfg.seed + 7), w = model.model.embed_tokens.weight.data;
    for (let i = 0; i < w.length; i++) w[i] = cfg.embed_init_std * rng.normal();
  }
  if (cfg.vision !== "") {
    loadVisionInto(model, cfg.vision, log);
  } else {
    log("warning: no --vision folder given: the vision tower stays random (only useful for tests)");
  }
  model.model.vision_tower.setTrainable(false);
  return model;
}

function loadVisionInto(model: LlavaForCausalLM, dir: string, log: (l: string) => void): void {
  const v = loadVisionDir(dir);
  if (JSON.stringify(v.config) !== JSON.stringify(model.vcfg.vision)) throw new Error(`${dir}: its vision config differs from the model's`);
  model.model.vision_tower.vision_tower.loadStateDict(v.model.stateDict());
  log(`vision tower loaded from ${dir}`);
}

export function vlmTask(cfg: VlmRecipeConfig, model: LlavaForCausalLM, vocab: Vocab,
  o: { recipe?: string; atpFrom?: string; log?: (l: string) => void } = {}): TrainTask {
  const { recipe = "vlm", atpFrom, log = () => {} } = o;
  const difficulty = DIFFICULTIES[cfg.difficulty as DifficultyName];
  if (difficulty === undefined) throw new Error(`difficulty "${cfg.difficulty}" is not one of ${Object.keys(DIFFICULTIES).join(", ")}`);
  const size = model.vcfg.vision.image_size;
  const fmt = { mean: model.vcfg.image_mean, std: model.vcfg.image_std, vocoTokens: cfg.voco_tokens };
  if (cfg.caption_mode !== "replace" && cfg.caption_mode !== "append") throw new Error(`caption_mode must be "replace" or "append", got "${cfg.caption_mode}"`);
  if (cfg.voco_mask && cfg.pool_tokens > 0) throw new Error("voco_mask and pool_tokens are separate methods: set one");
  const hooks = cfg.voco_mask ? vocoMaskHooks() : cfg.pool_tokens > 0 ? avgPoolHooks(cfg.pool_tokens) : undefined;
  if (cfg.voco_mask && cfg.voco_tokens < 1) throw new Error("voco_mask needs voco_tokens >= 1");
  if (cfg.voco_pool_init) {
    if (cfg.voco_tokens < 1) throw new Error("voco_pool_init needs voco_tokens >= 1 (it sets where the <voco> tokens start)");
    model.vcfg.voco_pool_init = true;
  }
  const grid = model.vcfg.vision.image_size / model.vcfg.vision.patch_size, nL = model.cfg.num_hidden_layers;
  const visionTokens = grid * grid;
  const atpCfg = cfg.atp ? { ...atpConfigOf(cfg, nL, model.cfg.hidden_size), ...(cfg.atp_target_tokens > 0 ? { targetFraction: cfg.atp_target_tokens / visionTokens } : {}) } : null;
  if (atpCfg !== null && (cfg.voco_mask || cfg.pool_tokens > 0)) throw new Error("atp cannot be combined with voco_mask or pool_tokens here");
  const atp = atpCfg === null ? null : loadAtpModules(atpFrom ?? cfg.init, atpCfg, cfg.seed);
  if (atpCfg !== null && atpCfg.layers.some((l) => l >= nL - 1)) throw new Error(`atp_layers must be below the last decoder layer (${nL - 1})`);
  if (atpCfg !== null) checkAtpTarget(atpCfg.targetFraction, cfg.atp_target_tokens, visionTokens, atpCfg.layers, nL, log);
  const soft = atp === null ? null : new AtpHooks(atp, atpCfg!, "soft", nL, grid);
  const hard = atp === null ? null : new AtpHooks(atp, atpCfg!, "hard", nL, grid);
  if (atp !== null && cfg.atp_freeze_llm) model.setTrainable(false); // the paper's frozen variant: only ATP modules learn
  let teacher: LlavaForCausalLM | null = null;
  if (cfg.distill > 0) {
    if (cfg.teacher === "") throw new Error("distill > 0 needs a teacher model folder (--teacher DIR): the upper bound, which sees all vision tokens");
    teacher = loadVlmDir(cfg.teacher).model;
    teacher.setTrainable(false);
  }
  const trainHooks = soft ?? hooks;
  const perTypeOf = parsePerTypeOf(cfg.questions_per_type_of);
  const typeList = parseTypeList("question_types", cfg.question_types, []) as QuestionType[];
  const questionTypes = typeList.length === 0 ? undefined : typeList;
  if (cfg.video && (atp !== null || cfg.pool_tokens > 0 || cfg.distill > 0)) throw new Error("video training supports the plain and VoCo recipes only");
  const blocks = parseTypeBlocks(cfg.type_blocks);
  if (blocks.length > 0 && !(Number.isInteger(cfg.type_block_steps) && cfg.type_block_steps >= 1)) {
    throw new Error(`type_block_steps must be an integer >= 1, got ${cfg.type_block_steps}`);
  }
  if (blocks.length > 0 && cfg.video) throw new Error("type_blocks applies to image training only");
  const vocoIds = { bos: vocab.special("<s>"), image: vocab.special("<image>"), voco: vocab.special("<voco>") };
  // the budget's Lagrange multiplier (atp_target_loss "dual"): not a parameter, so state()/restore() carry it through resume
  let multiplier = 0;
  const dual = atpCfg !== null && atpCfg.targetLoss === "dual";
  return {
    model: atp === null ? model : new VlmWithAtp(model, atp),
    ...(atp !== null && cfg.atp_lr_scale !== 1 ? { lrScale: (name: string) => (name.startsWith("atp.") ? cfg.atp_lr_scale : 1) } : {}),
    ...(atp !== null && cfg.atp_separate_clip ? { clipGroup: (name: string) => (name.startsWith("atp.") ? "atp" : "model") } : {}),
    state: (): Record<string, number> => (dual ? { atp_multiplier: multiplier } : {}),
    restore(s: Record<string, number>): void {
      if (dual) multiplier = s.atp_multiplier ?? 0;
    },
    micro(index: number): MicroResult {
      if (cfg.video) return videoMicro(index);
      return imageMicro(index);
    },
    evaluate(): Record<string, number> {
      const r = evaluateVqa(model, vocab, { split: "val", n: cfg.eval_examples, seed: cfg.data_seed, vocoTokens: cfg.video ? 0 : cfg.voco_tokens, hooks: cfg.video ? undefined : hard ?? hooks,
        kind: cfg.video ? "video" : "image", videoVocoTokens: cfg.video && cfg.voco_mask ? cfg.voco_tokens : 0 });
      const extra: Record<string, number> = {};
      if (hard !== null) extra.val_kept_fraction = keptFraction(r.stats);
      if (cfg.text_scene_fraction > 0) Object.assign(extra, textSceneAccuracy(cfg.eval_examples));
      return { val_accuracy: r.accuracy, ...extra, ...Object.fromEntries(Object.entries(r.per_type).map(([k, v]) => [`val_${k}`, v])) };
    },
    saveModel(dir: string): void {
      saveVlmDir(dir, model, vocab, { recipe, preset: cfg.preset, voco_tokens: cfg.voco_tokens, voco_mask: cfg.voco_mask, distill: cfg.distill,
        pool_tokens: cfg.pool_tokens, video: cfg.video, ...(atpCfg === null ? {} : { atp: atpCfg }) });
      if (atp !== null) saveAtpModules(dir, atp);
    },
  };

  function videoMicro(index: number): MicroResult {
    const clips = Array.from({ length: cfg.batch_size }, (_, i) => {
      const ex = makeExample("video", index * cfg.batch_size + i, { split: "train", seed: cfg.data_seed, size, questions: cfg.questions, perType: cfg.questions_per_type, difficulty });
      return toVlmExample(ex, vocab, { ...fmt, vocoTokens: cfg.voco_mask ? 0 : cfg.voco_tokens });
    });
    let logits: Tensor, targets: Int32Array, tokens = 0;
    if (cfg.voco_mask) {
      const out = videoForward(model, clips.map((c) => ({ frames: c.images, text: c.ids.slice(1 + c.images.length), labels: c.labels!.slice(1 + c.images.length) })), cfg.voco_tokens, vocoIds);
      logits = out.logits; targets = out.targets;
      for (const c of clips) tokens += c.images.length * (2 + cfg.voco_tokens + (model.vcfg.vision.image_size / model.vcfg.vision.patch_size) ** 2) + c.ids.length;
    } else {
      const batch = model.buildBatch(clips);
      logits = model.forwardBatch(batch).logits; targets = batch.targets;
      tokens = batch.layout.length.reduce((a, b) => a + b, 0);
    }
    let n = 0;
    for (const t of targets) if (t !== IGNORE_INDEX) n++;
    return { loss: crossEntropy(logits, targets), targets: n, tokens };
  }

  /** The example with its image replaced by the scene in words (no image token, no pixels). */
  function textSceneExample(ex: Example): VlmExample {
    const { ids, labels } = encodeConversation(ex.conversations, vocab, 0);
    const scene = vocab.encode(sceneText(ex.scene as Scene));
    return { ids: [ids[0], ...scene, ...ids.slice(1)], labels: [labels[0], ...scene.map(() => IGNORE_INDEX), ...labels.slice(1)], images: [] };
  }

  /** Answer accuracy (every answer token right, teacher-forced) on n val scenes given in words, overall and per type. */
  function textSceneAccuracy(n: number): Record<string, number> {
    const right = new Map<string, number>(), total = new Map<string, number>();
    noGrad(() => {
      for (let s = 0; s < n; s += 8) {
        const raw = Array.from({ length: Math.min(8, n - s) }, (_, i) =>
          makeExample("image", s + i, { split: "val", seed: cfg.data_seed, size, questions: cfg.questions, difficulty, render: false }));
        const batch = model.buildBatch(raw.map(textSceneExample));
        const logits = model.forwardBatch(batch).logits, V = logits.shape[logits.shape.length - 1], t = batch.targets, T = batch.layout.T;
        raw.forEach((ex, b) => {
          let turn = 0, ok = true, inAnswer = false;
          const close = () => {
            const type = ex.qa[turn]?.type ?? "unknown";
            for (const k of ["all", type]) { total.set(k, (total.get(k) ?? 0) + 1); right.set(k, (right.get(k) ?? 0) + (ok ? 1 : 0)); }
            turn++; ok = true; inAnswer = false;
          };
          for (let j = 0; j < T; j++) {
            const i = b * T + j;
            if (t[i] === IGNORE_INDEX) { if (inAnswer) close(); continue; }
            inAnswer = true;
            if (argmax(logits.data.subarray(i * V, (i + 1) * V)) !== t[i]) ok = false;
          }
          if (inAnswer) close();
        });
      }
    });
    const out: Record<string, number> = {};
    for (const [k, count] of total) out[k === "all" ? "val_text_scene_accuracy" : `val_text_${k}`] = (right.get(k) ?? 0) / count;
    return out;
  }

  function imageMicro(index: number): MicroResult {
    const block = typeBlockAt(blocks, index, cfg.type_block_steps, cfg.grad_accum);
    const exs = Array.from({ length: cfg.batch_size }, (_, i) => {
      const k = cfg.train_examples > 0 ? (index * cfg.batch_size + i) % cfg.train_examples : index * cfg.batch_size + i;
      if (block !== "all") {
        const one = makeExample("image", k, { split: "train", seed: cfg.data_seed, size, questions: cfg.questions, perType: cfg.questions, difficulty, types: [block], extraCounts: cfg.count_extra });
        return toVlmExample(one, vocab, fmt);
      }
      // a deterministic share of the examples are text scenes (a hash of k other than the captions')
      const textScene = cfg.text_scene_fraction > 0 && ((Math.imul(k + 7, 2246822519) >>> 0) / 4294967296) < cfg.text_scene_fraction;
      const ex = makeExample("image", k, { split: "train", seed: cfg.data_seed, size, questions: cfg.questions, perType: cfg.questions_per_type, perTypeOf, difficulty, types: questionTypes, render: !textScene, extraCounts: cfg.count_extra });
      if (textScene) return textSceneExample(ex);
      // a deterministic share of the examples become captions (the hash keeps it a pure function of k)
      const caption = cfg.caption_fraction > 0 && ((Math.imul(k + 1, 2654435761) >>> 0) / 4294967296) < cfg.caption_fraction;
      const conv = !caption ? ex.conversations : captionConversation(ex, cfg.caption_mode as CaptionMode, cfg.caption_absent);
      return toVlmExample({ ...ex, conversations: conv }, vocab, fmt);
    });
    const batch = model.buildBatch(exs, trainHooks);
    const out = model.forwardBatch(batch, { hooks: trainHooks });
    const targets = batch.targets;
    const rows = new Uint8Array(targets.length);
    let n = 0;
    targets.forEach((t, i) => { if (t !== IGNORE_INDEX) { rows[i] = 1; n++; } });
    const answerLoss = crossEntropy(out.logits, targets);
    let loss = answerLoss;
    if (teacher !== null) {
      // the teacher sees the same sequence without the VoCo mask, i.e. every vision token
      const tLogits = noGrad(() => teacher!.forwardBatch(teacher!.buildBatch(exs)).logits);
      loss = add(loss, scale(klDivergence(out.logits, tLogits, cfg.distill_tau, rows), cfg.distill));
    }
    const budget = soft?.budgetLoss(multiplier) ?? null;
    if (budget !== null) loss = add(loss, budget.loss);
    const tokens = batch.layout.length.reduce((a, b) => a + b, 0);
    if (teacher === null && budget === null) return { loss, targets: n, tokens };
    // with a KL or budget term beside it, `loss` is no longer the answers' cross-entropy: log that too
    const logged: Record<string, number> = { answer_loss: answerLoss.item() };
    if (budget === null) return { loss, targets: n, tokens, logged };
    // the soft kept fraction the target term sees (layer 0 counted full), to read the budget's balance from the log
    logged.atp_kept = budget.meanFraction;
    if (dual) {
      logged.atp_multiplier = multiplier; // the value this micro-batch's loss used
      // dual ascent on mean = target, one update per optimizer step shared over its micro-batches
      multiplier += (atpCfg!.dualLr / cfg.grad_accum) * (budget.meanFraction - atpCfg!.targetFraction);
      const clip = atpCfg!.dualClip;
      if (clip > 0) multiplier = Math.min(clip, Math.max(-clip, multiplier));
    }
    return { loss, targets: n, tokens, logged };
  }
}

/** "existence,count,all" -> the block cycle; each entry an image question type or "all". */
export function parseTypeBlocks(spec: string): (QuestionType | "all")[] {
  return parseTypeList("type_blocks", spec, ["all"]);
}

/** A comma-separated list of image question types (or one of `also`) from config field `field`; "" = []. */
function parseTypeList<A extends string>(field: string, spec: string, also: readonly A[]): (QuestionType | A)[] {
  if (spec.trim() === "") return [];
  const allowed: readonly string[] = [...also, ...IMAGE_QUESTION_TYPES];
  return spec.split(",").map((raw) => {
    const t = raw.trim();
    if (!allowed.includes(t)) throw new Error(`${field} "${spec}": "${t}" is not one of ${allowed.join(", ")}`);
    return t as QuestionType | A;
  });
}

/** The block of micro-batch `index` (every micro-batch of an optimizer step shares its step's block). */
export function typeBlockAt(blocks: readonly (QuestionType | "all")[], index: number, blockSteps: number, gradAccum: number): QuestionType | "all" {
  return blocks.length === 0 ? "all" : blocks[Math.floor(index / (blockSteps * gradAccum)) % blocks.length];
}

/** A budget outside (0, 1] is an error; one below the floor of the layers that run before the first ATP
 * decision (they see every token) cannot be reached, and training says so rather than chase it. */
function checkAtpTarget(fraction: number, tokens: number, visionTokens: number, layers: readonly number[], nL: number, log: (l: string) => void): void {
  const asked = tokens > 0 ? `--target-tokens ${tokens} (of ${visionTokens} vision tokens)` : `atp_target ${fraction}`;
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`${asked}: the target kept fraction must be in (0, 1]`);
  const first = Math.min(...layers), floor = (first + 1) / nL;
  if (fraction < floor) {
    const full = first === 0 ? "layer 0 sees" : `layers 0-${first} see`;
    log(`warning: ${asked} is below ${floor.toFixed(3)}, the least an average over the ${nL} layers can keep when ${full} every vision token: the budget cannot be met`);
  }
}
