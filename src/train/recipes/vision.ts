// Recipe `vision`: pretrains the ViT on generated scenes with a dense objective, the project's
// stand-in for CLIP (no image-text pretraining data exists here). Every patch predicts, through
// linear heads on the last layer, the colour, shape and size class of the object covering it (or
// background); optionally also the grid cell of that object's centre and whether an object's centre
// lies in the patch, and heads on more layers. The heads are dropped afterwards and the ViT is frozen
// for the VLM, as in LLaVA.
import { makeExample } from "../../data/stream.js";
import { patchClasses, patchLabels, type PatchLabels } from "../../data/shapes/patch-labels.js";
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
  /** Patch labels to predict (see patch-labels.ts); the object-level ones (col, row, centre) are an option:
   * with head_layers "-2,-1" and 8,000 steps they give the shipped ViT (small-vision-v3: per-patch shape
   * 97.9%), under which the VLM reached 60% where the plain 2,000-step ViT gave 53% (session 3). */
  labels: "colour,shape,size",
  /** Layers whose patch features are supervised, each through its own heads ("-2,-1": also the one LLaVA feeds the LLM). */
  head_layers: "-1",
};
export type VisionRecipeConfig = typeof VISION_DEFAULTS;
type LabelName = keyof PatchLabels;
const LABEL_NAMES: readonly LabelName[] = ["colour", "shape", "size", "col", "row", "centre"];

/** One linear head per label on one layer's patch features. */
class PatchHeads extends Module {
  heads: Linear[];
  constructor(D: number, labels: readonly LabelName[], G: number, rng: Rng) {
    super();
    const classes = patchClasses(G);
    this.heads = labels.map((l) => new Linear(D, classes[l], true, { rng }));
  }
}

export function parseVisionHeads(cfg: Pick<VisionRecipeConfig, "labels" | "head_layers">): { labels: LabelName[]; layers: number[] } {
  const labels = cfg.labels.split(",").map((x) => x.trim()).filter((x) => x !== "");
  for (const l of labels) if (!LABEL_NAMES.includes(l as LabelName)) throw new Error(`labels: "${l}" is not one of ${LABEL_NAMES.join(", ")}`);
  if (labels.length === 0) throw new Error("labels: name at least one patch label");
  const layers = cfg.head_layers.split(",").map((x) => Number(x.trim()));
  if (layers.length === 0 || layers.some((l) => !Number.isInteger(l) || l === 0)) throw new Error(`head_layers "${cfg.head_layers}" must be comma-separated non-zero layer indices (-1 = last)`);
  return { labels: labels as LabelName[], layers };
}

export class VisionPretrainModel extends Module {
  vision: CLIPVisionModel;
  /** One head set per supervised layer, in head_layers order. */
  patch_heads: PatchHeads[];
  constructor(preset: PresetName, seed: number, readonly labels: readonly LabelName[], readonly layers: readonly number[]) {
    super();
    const cfg = presetConfig(preset, 8, 4).vision;
    this.vision = new CLIPVisionModel(cfg, seed);
    const rng = new Rng(seed + 1);
    this.patch_heads = layers.map(() => new PatchHeads(cfg.hidden_size, labels, gridSide(cfg), rng));
  }
}

interface ImageBatch { pixels: Float32Array; labels: PatchLabels; B: number }

function imageBatch(model: VisionPretrainModel, split: "train" | "val", start: number, B: number, dataSeed: number): ImageBatch {
  const c = model.vision.cfg, S = c.image_size, G = gridSide(c), P = G * G;
  const pixels = new Float32Array(B * 3 * S * S);
  const labels = Object.fromEntries(LABEL_NAMES.map((l) => [l, new Int32Array(B * P)])) as unknown as PatchLabels;
  for (let i = 0; i < B; i++) {
    const ex = makeExample("image", start + i, { split, seed: dataSeed, size: S, questions: 1 });
    pixels.set(toFloat({ width: S, height: S, data: ex.frames[0] }, "chw", CLIP_MEAN, CLIP_STD), i * 3 * S * S);
    const l = patchLabels(ex.scene as Scene, G);
    for (const name of LABEL_NAMES) labels[name].set(l[name], i * P);
  }
  return { pixels, labels, B };
}

/** Sum over layers and labels of the heads' CE, and the logits per layer and label. */
function headLoss(model: VisionPretrainModel, b: ImageBatch): { loss: Tensor; logits: Tensor[][] } {
  const { features } = model.vision.layerFeatures(b.pixels, b.B, model.layers); // each (B, P, D)
  const logits = features.map((feat, li) => {
    const f = reshape(feat, [-1, feat.shape[2]]);
    return model.patch_heads[li].heads.map((head) => head.forward(f));
  });
  const terms = logits.flatMap((perLabel) => perLabel.map((z, k) => crossEntropy(z, b.labels[model.labels[k]])));
  return { loss: terms.reduce((a, t) => add(a, t)), logits };
}

/** Accuracy of the argmax over all patches, or over those whose label is not 0 (object patches; centre cells). */
function accuracyOn(logits: Tensor, labels: Int32Array, positiveOnly: boolean): number {
  const V = logits.shape[1];
  let ok = 0, n = 0;
  for (let i = 0; i < labels.length; i++) {
    if (positiveOnly && labels[i] === 0) continue;
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
      return { loss: headLoss(model, b).loss, targets: model.layers.length * model.labels.length * b.B * P, tokens: b.B * (P + 1) };
    },
    evaluate(): Record<string, number> {
      return noGrad(() => {
        const b = imageBatch(model, "val", 0, cfg.eval_images, cfg.data_seed);
        const { loss, logits } = headLoss(model, b);
        const out: Record<string, number> = { val_loss: loss.item() };
        model.layers.forEach((layer, li) => {
          const tag = model.layers.length > 1 ? `l${layer}_` : "";
          model.labels.forEach((name, k) => {
            out[`${tag}${name}_acc`] = accuracyOn(logits[li][k], b.labels[name], true);
          });
          const colour = model.labels.indexOf("colour");
          if (colour >= 0) out[`${tag}background_acc`] = accuracyOn(logits[li][colour], b.labels.colour, false);
        });
        return out;
      });
    },
    saveModel(dir: string): void {
      saveVisionDir(dir, model.vision, { recipe: "vision", preset: cfg.preset }, model.namedParameters().filter(([n]) => n.startsWith("patch_heads.")));
    },
  };
}
