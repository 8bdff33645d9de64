// Recipe `vlm`: visual instruction tuning, LLaVA-1.5 style: the pretrained ViT frozen, projector and
// LLM trained on multi-turn ShapesQA conversations with the loss on the answers only.
// NOTE: LLaVA-1.5 has two stages (projector-only pretraining on captions, then full fine-tuning);
// we have no caption data and a small LLM trained from scratch, so this is one stage on QA.
import { makeExample } from "../../data/stream.js";
import type { DifficultyName } from "../../data/splits.js";
import { DIFFICULTIES } from "../../data/splits.js";
import { Vocab } from "../../data/vocab.js";
import { presetConfig, type PresetName } from "../../model/presets.js";
import { LlavaForCausalLM } from "../../model/vlm.js";
import { crossEntropy } from "../../tensor/ops/loss.js";
import { IGNORE_INDEX } from "../../tensor/ops/loss.js";
import { evaluateVqa } from "../../eval/vqa.js";
import { TEMPLATE_WORDS, toVlmExample } from "../format.js";
import { loadVisionDir, loadVlmDir, saveVlmDir } from "../model-dir.js";
import { vocoMaskHooks } from "../../compress/voco/mask.js";
import { avgPoolHooks } from "../../compress/baselines/pool.js";
import { klDivergence } from "../../tensor/ops/loss.js";
import { add, scale } from "../../tensor/ops/elementwise.js";
import { noGrad } from "../../tensor/autograd.js";
import type { MicroResult, TrainTask } from "../trainer.js";

export const VLM_DEFAULTS = {
  preset: "small", vision: "", init: "", steps: 3000, batch_size: 8, grad_accum: 1, lr: 1e-3, min_lr: 1e-4, warmup: 150,
  weight_decay: 0.05, grad_clip: 1.0, eval_every: 500, eval_examples: 50, save_every: 250, log_every: 10,
  seed: 0, data_seed: 0, questions: 4, difficulty: "medium",
  /** <voco> tokens inserted after the image; with voco_mask false this trains VoCo's upper-bound model. */
  voco_tokens: 0, voco_mask: false,
  /** Weight of the paper's KL(teacher || student) term on answer tokens (0 = off, as the official code). */
  distill: 0, distill_tau: 1, teacher: "",
  /** Average-pool each image's tokens to this many before the LLM (the "Avg. Pool + Linear" baseline); 0 = off. */
  pool_tokens: 0,
};
/** Recipe `voco`: VoCo-LLaMA instruction tuning, the vlm recipe with the VoCo mask. */
export const VOCO_DEFAULTS = { ...VLM_DEFAULTS, voco_tokens: 1, voco_mask: true };
export type VlmRecipeConfig = typeof VLM_DEFAULTS;

export function buildVocab(): Vocab {
  return Vocab.build(TEMPLATE_WORDS);
}

/**
 * The VLM a run starts from: all weights from `cfg.init` (a model folder) if given; else fresh, with
 * the ViT from `cfg.vision` (a folder of `vlmc train vision`). The ViT is frozen either way.
 */
export function newVlm(cfg: VlmRecipeConfig, vocab: Vocab, log: (l: string) => void): LlavaForCausalLM {
  if (cfg.init !== "") {
    const init = loadVlmDir(cfg.init);
    if (init.vocab.tokens.join("\n") !== vocab.tokens.join("\n")) throw new Error(`${cfg.init}: its vocabulary differs from this recipe's`);
    init.model.model.vision_tower.setTrainable(false);
    log(`initialised from ${cfg.init}`);
    return init.model;
  }
  const vc = presetConfig(cfg.preset as PresetName, vocab.size, vocab.special("<image>"), vocab.special("<voco>"));
  const model = new LlavaForCausalLM(vc, cfg.seed);
  if (cfg.vision !== "") {
    const v = loadVisionDir(cfg.vision);
    if (JSON.stringify(v.config) !== JSON.stringify(vc.vision)) throw new Error(`${cfg.vision}: vision config differs from preset ${cfg.preset}'s`);
    model.model.vision_tower.vision_tower.loadStateDict(v.model.stateDict());
    log(`vision tower loaded from ${cfg.vision}`);
  } else {
    log("warning: no --vision folder given: the vision tower stays random (only useful for tests)");
  }
  model.model.vision_tower.setTrainable(false);
  return model;
}

export function vlmTask(cfg: VlmRecipeConfig, model: LlavaForCausalLM, vocab: Vocab, recipe = "vlm"): TrainTask {
  const difficulty = DIFFICULTIES[cfg.difficulty as DifficultyName];
  if (difficulty === undefined) throw new Error(`difficulty "${cfg.difficulty}" is not one of ${Object.keys(DIFFICULTIES).join(", ")}`);
  const size = model.vcfg.vision.image_size;
  const fmt = { mean: model.vcfg.image_mean, std: model.vcfg.image_std, vocoTokens: cfg.voco_tokens };
  if (cfg.voco_mask && cfg.pool_tokens > 0) throw new Error("voco_mask and pool_tokens are separate methods: set one");
  const hooks = cfg.voco_mask ? vocoMaskHooks() : cfg.pool_tokens > 0 ? avgPoolHooks(cfg.pool_tokens) : undefined;
  if (cfg.voco_mask && cfg.voco_tokens < 1) throw new Error("voco_mask needs voco_tokens >= 1");
  let teacher: LlavaForCausalLM | null = null;
  if (cfg.distill > 0) {
    if (cfg.teacher === "") throw new Error("distill > 0 needs a teacher model folder (--teacher DIR): the upper bound, which sees all vision tokens");
    teacher = loadVlmDir(cfg.teacher).model;
    teacher.setTrainable(false);
  }
  return {
    model,
    micro(index: number): MicroResult {
      const exs = Array.from({ length: cfg.batch_size }, (_, i) =>
        toVlmExample(makeExample("image", index * cfg.batch_size + i, { split: "train", seed: cfg.data_seed, size, questions: cfg.questions, difficulty }), vocab, fmt));
      const batch = model.buildBatch(exs, hooks);
      const out = model.forwardBatch(batch);
      const targets = batch.targets;
      const rows = new Uint8Array(targets.length);
      let n = 0;
      targets.forEach((t, i) => { if (t !== IGNORE_INDEX) { rows[i] = 1; n++; } });
      let loss = crossEntropy(out.logits, targets);
      if (teacher !== null) {
        // the teacher sees the same sequence without the VoCo mask, i.e. every vision token
        const tLogits = noGrad(() => teacher!.forwardBatch(teacher!.buildBatch(exs)).logits);
        loss = add(loss, scale(klDivergence(out.logits, tLogits, cfg.distill_tau, rows), cfg.distill));
      }
      return { loss, targets: n, tokens: batch.layout.length.reduce((a, b) => a + b, 0) };
    },
    evaluate(): Record<string, number> {
      const r = evaluateVqa(model, vocab, { split: "val", n: cfg.eval_examples, seed: cfg.data_seed, vocoTokens: cfg.voco_tokens, hooks });
      return { val_accuracy: r.accuracy, ...Object.fromEntries(Object.entries(r.per_type).map(([k, v]) => [`val_${k}`, v])) };
    },
    saveModel(dir: string): void {
      saveVlmDir(dir, model, vocab, { recipe, preset: cfg.preset, voco_tokens: cfg.voco_tokens, voco_mask: cfg.voco_mask, distill: cfg.distill, pool_tokens: cfg.pool_tokens });
    },
  };
}
