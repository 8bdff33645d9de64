// The LLaVA-1.5-shaped VLM: CLIP-style vision tower -> mlp2x_gelu projector -> LLaMA decoder, with
// the projected patch features spliced in where `<image>` tokens stand. Module names are those of
// the original llava-v1.5-7b checkpoint (model.mm_projector.0.weight,
// model.vision_tower.vision_tower.vision_model..., model.layers.N..., lm_head.weight).
// Reducers act through VlmHooks: before the LLM (reduceVision), on the layout/mask (adjustLayout,
// VoCo) and between decoder layers (DecoderHooks). Reference: LLaVA llava/model/llava_arch.py
// (prepare_inputs_labels_for_multimodal). Legend: B rows, T tokens, C LLM width, P patches, D ViT width.
import { Linear, RMSNorm } from "../nn/layers.js";
import { gatherRows } from "../tensor/ops/gather.js";
import { concat, reshape, slice } from "../tensor/ops/shape.js";
import { add } from "../tensor/ops/elementwise.js";
import { matmul } from "../tensor/ops/matmul.js";
import { IGNORE_INDEX } from "../tensor/ops/loss.js";
import { Rng } from "../tensor/random.js";
import { OpError } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import type { LlamaConfig } from "./config.js";
import type { DecoderHooks } from "./hooks.js";
import { causalLayout, TokenKind, type TokenLayout } from "./layout.js";
import { LlamaModel, type CausalLM, type DecoderOptions, type DecoderOutput } from "./llama.js";
import { poolMatrix } from "./pool-grid.js";
import { Mlp2xGeluProjector } from "./projector.js";
import { CLIPVisionModel, gridSide, type VisionConfig } from "./vision.js";
import type { VlmConfig } from "./vlm-config.js";

/** LLaVA wraps the CLIP model once more: model.vision_tower.vision_tower.vision_model... */
export class CLIPVisionTower extends Module {
  vision_tower: CLIPVisionModel;
  constructor(cfg: VisionConfig, seed: number) {
    super();
    this.vision_tower = new CLIPVisionModel(cfg, seed);
  }
}

export class LlavaModel extends LlamaModel {
  mm_projector: Mlp2xGeluProjector;
  /** Only with config mm_projector_norm (a vlmc option; see VlmConfig). */
  mm_projector_norm: RMSNorm | null;
  vision_tower: CLIPVisionTower;

  constructor(readonly vcfg: VlmConfig, rng: Rng) {
    super(vcfg.text, rng);
    this.mm_projector = new Mlp2xGeluProjector(vcfg.vision.hidden_size, vcfg.text.hidden_size, rng, vcfg.text.initializer_range);
    this.mm_projector_norm = vcfg.mm_projector_norm ? new RMSNorm(vcfg.text.hidden_size, vcfg.text.rms_norm_eps) : null;
    this.vision_tower = new CLIPVisionTower(vcfg.vision, rng.nextU32());
  }
}

export interface VlmExample {
  /** Token ids with one image token (cfg.image_token_index) where each image goes. */
  ids: readonly number[];
  /** Per-token labels (IGNORE_INDEX outside the answers), aligned with ids; omitted at inference. */
  labels?: readonly number[];
  /** One normalised (3, S, S) image per image token, in order. */
  images: readonly Float32Array[];
}

/** Hooks of every kind a reducer may implement. */
export interface VlmHooks extends DecoderHooks {
  /** Before the LLM: projected features (P, C) of one image -> (P', C), with the patch index of each kept row. */
  reduceVision?(feats: Tensor, image: { sample: number; index: number; grid: number }): { feats: Tensor; patches: Int32Array };
  /** The sequence layout and mask: may edit keyLo/keyHi in place (VoCo's prefix-blocking mask). */
  adjustLayout?(L: TokenLayout, ids: Int32Array): void;
  /** Sees each built batch before its forward (per-batch state: patch indices, prompt ends). */
  prepare?(batch: VlmBatch): void;
}

export interface VlmBatch {
  /** Input embeddings (B, T, C). */
  h: Tensor;
  layout: TokenLayout;
  /** (B*T) the token id in each slot (image slots hold the image token id; padding 0). */
  ids: Int32Array;
  /** (B*T) next-token targets (IGNORE_INDEX where nothing is predicted). */
  targets: Int32Array;
  /** (B*T) patch index of each vision slot within its image, else -1 (indexed like the layout's slots). */
  patch: Int32Array;
  /** Vision tokens per image after reduceVision, in batch order. */
  visionTokens: number[];
}

export class LlavaForCausalLM extends Module implements CausalLM {
  model: LlavaModel; lm_head: Linear;
  readonly cfg: LlamaConfig;

  constructor(readonly vcfg: VlmConfig, seed = 0) {
    super();
    const rng = new Rng(seed);
    this.cfg = vcfg.text;
    this.model = new LlavaModel(vcfg, rng);
    this.lm_head = new Linear(vcfg.text.hidden_size, vcfg.text.vocab_size, false, { rng, std: vcfg.text.initializer_range });
  }

  /** Projected patch features (N, P, C) of N images (each (3, S, S), normalised). */
  encodeImages(images: readonly Float32Array[], wantProbs = false): { feats: Tensor; probs: Tensor | null } {
    const S = this.vcfg.vision.image_size, n = images.length;
    const pixels = new Float32Array(n * 3 * S * S);
    images.forEach((im, i) => {
      if (im.length !== 3 * S * S) throw new OpError("LlavaForCausalLM", `image ${i} has ${im.length} values, expected 3*${S}*${S} = ${3 * S * S} (is it ${S}x${S}?)`);
      pixels.set(im, i * 3 * S * S);
    });
    const v = this.model.vision_tower.vision_tower.forward(pixels, n, this.vcfg.mm_vision_select_layer, wantProbs);
    const feats = this.model.mm_projector.forward(v.features);
    const norm = this.model.mm_projector_norm;
    return { feats: norm ? norm.forward(feats) : feats, probs: v.probs };
  }

  /** Builds the embeddings, layout and targets of a batch (LLaVA's prepare_inputs_labels_for_multimodal). */
  buildBatch(examples: readonly VlmExample[], hooks?: VlmHooks): VlmBatch {
    const C = this.cfg.hidden_size, imgTok = this.vcfg.image_token_index, G = gridSide(this.vcfg.vision);
    const allImages = examples.flatMap((e) => e.images);
    // one table of rows to gather from: [text embeddings..., vision rows...]
    const textIds: number[] = [];
    const visionParts: Tensor[] = [];
    const visionPatches: Int32Array[] = [];
    if (allImages.length > 0) {
      const feats = this.encodeImages(allImages).feats; // (N, P, C)
      const P = feats.shape[1];
      let k = 0;
      examples.forEach((e, s) => e.images.forEach((_, j) => {
        let f = reshape(slice(feats, 0, k, k + 1), [P, C]); // (P, C) of image k
        let patches: Int32Array = Int32Array.from({ length: P }, (_, p) => p);
        if (hooks?.reduceVision) ({ feats: f, patches } = hooks.reduceVision(f, { sample: s, index: j, grid: G }));
        visionParts.push(f); visionPatches.push(patches); k++;
      }));
    }
    const rows: { src: number[]; kind: number[]; id: number[]; label: number[]; patch: number[] }[] = [];
    const vocoSlots: { text: number; image: number }[] = []; // each <voco> slot's text row and the image before it
    const bases = visionParts.map((_, i) => visionParts.slice(0, i).reduce((n, t) => n + t.shape[0], 0));
    let img = 0;
    examples.forEach((e, s) => {
      const nImg = e.ids.filter((t) => t === imgTok).length;
      if (nImg !== e.images.length) throw new OpError("buildBatch", `example ${s}: ${nImg} image tokens but ${e.images.length} images`);
      if (e.labels && e.labels.length !== e.ids.length) throw new OpError("buildBatch", `example ${s}: ${e.labels.length} labels for ${e.ids.length} ids`);
      const r = { src: [] as number[], kind: [] as number[], id: [] as number[], label: [] as number[], patch: [] as number[] };
      const imgStart = img;
      e.ids.forEach((t, i) => {
        if (t === imgTok) {
          const part = visionParts[img], patches = visionPatches[img];
          const base = bases[img];
          for (let p = 0; p < part.shape[0]; p++) { r.src.push(-(base + p) - 1); r.kind.push(TokenKind.vision); r.id.push(t); r.label.push(IGNORE_INDEX); r.patch.push(patches[p]); }
          img++;
        } else {
          if (t < 0 || t >= this.cfg.vocab_size) throw new OpError("buildBatch", `example ${s}: token id ${t} at ${i} outside the vocabulary [0, ${this.cfg.vocab_size})`);
          if (t === this.vcfg.voco_token_index && img > imgStart) vocoSlots.push({ text: textIds.length, image: img - 1 });
          r.src.push(textIds.length); textIds.push(t);
          r.kind.push(t === this.vcfg.voco_token_index ? TokenKind.voco : TokenKind.text);
          r.id.push(t); r.label.push(e.labels ? e.labels[i] : IGNORE_INDEX); r.patch.push(-1);
        }
      });
      rows.push(r);
    });
    const L = causalLayout(rows.map((r) => Uint8Array.from(r.kind)));
    const nText = textIds.length;
    const gather = new Int32Array(L.B * L.T), ids = new Int32Array(L.B * L.T), targets = new Int32Array(L.B * L.T).fill(IGNORE_INDEX);
    const patch = new Int32Array(L.B * L.T).fill(-1);
    rows.forEach((r, b) => r.src.forEach((src, t) => {
      const i = b * L.T + t;
      gather[i] = src >= 0 ? src : nText + (-src - 1);
      ids[i] = r.id[t]; patch[i] = r.patch[t];
      if (t + 1 < r.src.length) targets[i] = r.label[t + 1];
    }));
    let textEmb = this.model.embed_tokens.forward(Int32Array.from(textIds)); // (nText, C)
    if (this.vcfg.voco_pool_init === true && vocoSlots.length > 0) textEmb = add(textEmb, this.pooledVocoStart(vocoSlots, visionParts, nText, G));
    const table = visionParts.length > 0 ? concat([textEmb, ...visionParts], 0) : textEmb;
    const h = reshape(gatherRows(table, gather), [L.B, L.T, C]); // (B, T, C)
    hooks?.adjustLayout?.(L, ids);
    const batch: VlmBatch = { h, layout: L, ids, targets, patch, visionTokens: visionParts.map((p) => p.shape[0]) };
    hooks?.prepare?.(batch);
    return batch;
  }

  /**
   * The pooled start of the <voco> tokens (config voco_pool_init, a vlmc option), added to the text
   * embeddings (nText, C): zero except at <voco> rows, where the i-th of the N after an image holds
   * the mean of region i of that image's projected tokens (the average-pooling baseline's regions).
   */
  private pooledVocoStart(slots: readonly { text: number; image: number }[], visionParts: readonly Tensor[], nText: number, G: number): Tensor {
    const runs = new Map<number, number[]>(); // image -> its <voco> text rows (an image belongs to one example)
    for (const s of slots) runs.set(s.image, [...(runs.get(s.image) ?? []), s.text]);
    const pooled: Tensor[] = [Tensor.zeros([1, this.cfg.hidden_size])];
    const index = new Int32Array(nText); // 0: the zero row
    let next = 1;
    for (const [image, rows] of runs) {
      const part = visionParts[image];
      if (part.shape[0] !== G * G) throw new OpError("buildBatch", `voco_pool_init needs the image's ${G * G} vision tokens, got ${part.shape[0]} (a reducer changed them)`);
      rows.forEach((r, i) => { index[r] = next + i; });
      next += rows.length;
      pooled.push(matmul(poolMatrix(G, rows.length).weights, part)); // (N, P) x (P, C)
    }
    return gatherRows(concat(pooled, 0), index);
  }

  /** Full forward of a built batch: logits (B, T', V) and the decoder's output. */
  forwardBatch(batch: VlmBatch, opts: DecoderOptions = {}): DecoderOutput & { logits: Tensor } {
    const out = this.model.forwardEmbeds(batch.h, batch.layout, opts);
    return { ...out, logits: this.lm_head.forward(out.h) };
  }
}

/** Targets (B*T') for a layout derived from the batch's by pruning: each kept slot keeps its target. */
export function targetsFor(batch: VlmBatch, L: TokenLayout): Int32Array {
  if (L === batch.layout) return batch.targets;
  const T0 = batch.layout.T;
  const out = new Int32Array(L.B * L.T).fill(IGNORE_INDEX);
  for (let b = 0; b < L.B; b++) for (let t = 0; t < L.length[b]; t++) out[b * L.T + t] = batch.targets[b * T0 + L.orig[b * L.T + t]];
  return out;
}
