// Recipe `vision`: pretrains the ViT on generated scenes with a dense objective, the project's
// stand-in for CLIP (no image-text pretraining data exists here). Every patch of the last layer
// predicts the colour, shape and size class of the object covering it (or background), through
// three linear heads; the heads are dropped afterwards and the ViT is frozen for the VLM, as in LLaVA.
import { makeExample } from "../../data/stream.js";
import { patchLabels, PATCH_CLASSES } from "../../data/shapes/patch-labels.js";
import type { Scene } from "../../data/shapes/scene.js";
import { toFloat } from "../../data/image.js";
import { Linear } from "../../nn/layers.js";
import { Module } from "../../nn/module.js";
import { presetConfig, type PresetName } from "../../model/presets.js";
import { CLIPVisionModel, gridSide } from "../../model/vision.js";
import { CLIP_MEAN, CLIP_STD } from "../../model/vlm-config.js";
import { noGrad } from "../../tensor/autograd.js";
import { add } from "../../tensor/ops/elementwise.js";
import { crossEntropy } from "../../tensor/ops/loss.js";
import { reshape } from "../../tensor/ops/shape.js";
import { Rng } from "../../tensor/random.js";
import type { Tensor } from "../../tensor/tensor.js";
import { saveVisionDir } from "../model-dir.js";
import type { MicroResult, TrainTask } from "../trainer.js";

export const VISION_DEFAULTS = {
  preset: "small", steps: 1500, batch_size: 16, grad_accum: 1, lr: 1e-3, min_lr: 1e-4, warmup: 100, weight_decay: 0.05,
  grad_clip: 1.0, eval_every: 250, eval_images: 64, save_every: 250, log_every: 10, seed: 0, data_seed: 0,
};
export type VisionRecipeConfig = typeof VISION_DEFAULTS;

class PatchHeads extends Module {
  colour: Linear; shape: Linear; size: Linear;
  constructor(D: number, rng: Rng) {
    super();
    this.colour = new Linear(D, PATCH_CLASSES.colour, true, { rng });
    this.shape = new Linear(D, PATCH_CLASSES.shape, true, { rng });
    this.size = new Linear(D, PATCH_CLASSES.size, true, { rng });
  }
}

export class VisionPretrainModel extends Module {
  vision: CLIPVisionModel; patch_heads: PatchHeads;
  constructor(preset: PresetName, seed: number) {
    super();
    const cfg = presetConfig(preset, 8, 4).vision;
    this.vision = new CLIPVisionModel(cfg, seed);
    this.patch_heads = new PatchHeads(cfg.hidden_size, new Rng(seed + 1));
  }
}

interface ImageBatch { pixels: Float32Array; colour: Int32Array; shape: Int32Array; size: Int32Array; B: number }

function imageBatch(model: VisionPretrainModel, split: "train" | "val", start: number, B: number, dataSeed: number): ImageBatch {
  const c = model.vision.cfg, S = c.image_size, G = gridSide(c), P = G * G;
  const pixels = new Float32Array(B * 3 * S * S);
  const colour = new Int32Array(B * P), shape = new Int32Array(B * P), size = new Int32Array(B * P);
  for (let i = 0; i < B; i++) {
    const ex = makeExample("image", start + i, { split, seed: dataSeed, size: S, questions: 1 });
    pixels.set(toFloat({ width: S, height: S, data: ex.frames[0] }, "chw", CLIP_MEAN, CLIP_STD), i * 3 * S * S);
    const l = patchLabels(ex.scene as Scene, G);
    colour.set(l.colour, i * P); shape.set(l.shape, i * P); size.set(l.size, i * P);
  }
  return { pixels, colour, shape, size, B };
}

/** Mean CE of the three heads on the last layer's patch features, and the per-head logits. */
function headLoss(model: VisionPretrainModel, b: ImageBatch): { loss: Tensor; logits: Tensor[] } {
  const { features } = model.vision.forward(b.pixels, b.B, -1); // (B, P, D)
  const D = features.shape[2];
  const f = reshape(features, [-1, D]);
  const h = model.patch_heads;
  const logits = [h.colour.forward(f), h.shape.forward(f), h.size.forward(f)];
  const loss = add(add(crossEntropy(logits[0], b.colour), crossEntropy(logits[1], b.shape)), crossEntropy(logits[2], b.size));
  return { loss, logits };
}

function accuracyOn(logits: Tensor, labels: Int32Array, objectsOnly: boolean): number {
  const V = logits.shape[1];
  let ok = 0, n = 0;
  for (let i = 0; i < labels.length; i++) {
    if (objectsOnly && labels[i] === 0) continue;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits.data[i * V + v] > logits.data[i * V + best]) best = v;
    ok += best === labels[i] ? 1 : 0; n++;
  }
  return n === 0 ? 0 : ok / n;
}

export function visionTask(cfg: VisionRecipeConfig, model: VisionPretrainModel): TrainTask {
  const P = gridSide(model.vision.cfg) ** 2;
  return {
    model,
    micro(index: number): MicroResult {
      const b = imageBatch(model, "train", index * cfg.batch_size, cfg.batch_size, cfg.data_seed);
      return { loss: headLoss(model, b).loss, targets: 3 * b.B * P, tokens: b.B * (P + 1) };
    },
    evaluate(): Record<string, number> {
      return noGrad(() => {
        const b = imageBatch(model, "val", 0, cfg.eval_images, cfg.data_seed);
        const { loss, logits } = headLoss(model, b);
        return {
          val_loss: loss.item(),
          colour_acc: accuracyOn(logits[0], b.colour, true),
          shape_acc: accuracyOn(logits[1], b.shape, true),
          size_acc: accuracyOn(logits[2], b.size, true),
          background_acc: accuracyOn(logits[0], b.colour, false),
        };
      });
    },
    saveModel(dir: string): void {
      saveVisionDir(dir, model.vision, { recipe: "vision", preset: cfg.preset }, model.patch_heads.namedParameters("patch_heads."));
    },
  };
}
