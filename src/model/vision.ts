// CLIP-style vision transformer (the LLaVA vision tower): patch embedding as a matmul over
// flattened patches, a CLS token, learned position embeddings, pre-LN blocks. It returns the patch
// features of a chosen layer (default the penultimate, LLaVA's select_layer -2) without the CLS
// token (select_feature "patch"), and optionally that layer's attention probabilities.
// Names follow HF CLIPVisionModel (vision_model.embeddings.patch_embedding ...), so CLIP weights
// load by name; the Conv2d patch weight (D, 3, p, p) is stored flattened as (D, 3*p*p).
// Reference: HF transformers models/clip/modeling_clip.py. Legend: B images, P patches, D width.
import { LayerNorm, Linear } from "../nn/layers.js";
import { Module, parameter } from "../nn/module.js";
import { add, gelu, mul, sigmoid, scale } from "../tensor/ops/elementwise.js";
import { attention } from "../tensor/ops/attention.js";
import { gatherRows } from "../tensor/ops/gather.js";
import { concat, reshape } from "../tensor/ops/shape.js";
import { Rng } from "../tensor/random.js";
import { OpError } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

export interface VisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  image_size: number;
  patch_size: number;
  num_channels: number;
  layer_norm_eps: number;
  hidden_act: "quick_gelu" | "gelu" | "gelu_pytorch_tanh";
  initializer_range: number;
}

export function visionConfigFromDict(d: Record<string, unknown>, where = "vision_config"): VisionConfig {
  const n = (k: string, fallback?: number): number => {
    const v = d[k] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${where}: field "${k}" must be a number, got ${JSON.stringify(d[k])}`);
    return v;
  };
  const act = (d.hidden_act ?? "quick_gelu") as string;
  if (act !== "quick_gelu" && act !== "gelu" && act !== "gelu_pytorch_tanh") {
    throw new Error(`${where}: hidden_act "${act}" is not supported (quick_gelu, gelu, gelu_pytorch_tanh)`);
  }
  const c: VisionConfig = {
    hidden_size: n("hidden_size"), intermediate_size: n("intermediate_size"), num_hidden_layers: n("num_hidden_layers"),
    num_attention_heads: n("num_attention_heads"), image_size: n("image_size"), patch_size: n("patch_size"),
    num_channels: n("num_channels", 3), layer_norm_eps: n("layer_norm_eps", 1e-5), hidden_act: act,
    initializer_range: n("initializer_range", 0.02),
  };
  if (c.image_size % c.patch_size !== 0) throw new Error(`${where}: image_size ${c.image_size} is not a multiple of patch_size ${c.patch_size}`);
  if (c.hidden_size % c.num_attention_heads !== 0) throw new Error(`${where}: hidden_size ${c.hidden_size} not divisible by num_attention_heads ${c.num_attention_heads}`);
  return c;
}

/** Patches per side of the grid. */
export function gridSide(c: VisionConfig): number {
  return c.image_size / c.patch_size;
}

/**
 * Images (B, 3, S, S) channel-first, normalised -> flattened patches (B*P, 3*p*p) in (c, ky, kx)
 * order, row-major over the grid: the layout of a Conv2d weight flattened.
 */
export function patchify(pixels: Float32Array, B: number, c: VisionConfig): Tensor {
  const S = c.image_size, p = c.patch_size, G = S / p, Ch = c.num_channels;
  if (pixels.length !== B * Ch * S * S) throw new OpError("patchify", `pixels have ${pixels.length} values, expected B*${Ch}*${S}*${S} = ${B * Ch * S * S}`);
  const out = new Float32Array(B * G * G * Ch * p * p);
  let o = 0;
  for (let b = 0; b < B; b++) for (let gy = 0; gy < G; gy++) for (let gx = 0; gx < G; gx++) {
    for (let ch = 0; ch < Ch; ch++) for (let ky = 0; ky < p; ky++) {
      const src = ((b * Ch + ch) * S + gy * p + ky) * S + gx * p;
      out.set(pixels.subarray(src, src + p), o);
      o += p;
    }
  }
  return new Tensor(out, [B * G * G, Ch * p * p]);
}

function activation(x: Tensor, act: VisionConfig["hidden_act"]): Tensor {
  if (act === "quick_gelu") return mul(x, sigmoid(scale(x, 1.702))); // CLIP's x * sigmoid(1.702 x)
  return gelu(x, act === "gelu" ? "erf" : "tanh");
}

class PositionTable extends Module {
  weight: Tensor;
  constructor(n: number, D: number, rng: Rng, std: number) {
    super();
    this.weight = parameter(Tensor.randn([n, D], rng, std));
  }
}

class CLIPVisionEmbeddings extends Module {
  class_embedding: Tensor; patch_embedding: Linear; position_embedding: PositionTable;

  constructor(readonly c: VisionConfig, rng: Rng) {
    super();
    const D = c.hidden_size, P = gridSide(c) ** 2;
    this.class_embedding = parameter(Tensor.randn([D], rng, c.initializer_range));
    this.patch_embedding = new Linear(c.num_channels * c.patch_size ** 2, D, false, { rng, std: c.initializer_range });
    this.position_embedding = new PositionTable(P + 1, D, rng, c.initializer_range);
  }

  // patches (B*P, 3pp) -> (B, 1+P, D)
  forward(patches: Tensor, B: number): Tensor {
    const D = this.c.hidden_size, P = patches.shape[0] / B;
    const x = reshape(this.patch_embedding.forward(patches), [B, P, D]); // (B, P, D)
    const cls = reshape(concat(Array.from({ length: B }, () => reshape(this.class_embedding, [1, 1, D])), 0), [B, 1, D]);
    return add(concat([cls, x], 1), this.position_embedding.weight); // (B, 1+P, D) + (1+P, D)
  }
}

class CLIPAttention extends Module {
  q_proj: Linear; k_proj: Linear; v_proj: Linear; out_proj: Linear;
  constructor(readonly c: VisionConfig, rng: Rng) {
    super();
    const D = c.hidden_size, init = { rng, std: c.initializer_range };
    this.q_proj = new Linear(D, D, true, init); this.k_proj = new Linear(D, D, true, init);
    this.v_proj = new Linear(D, D, true, init); this.out_proj = new Linear(D, D, true, init);
  }

  // x (B, T, D) -> (B, T, D); full attention
  forward(x: Tensor, wantProbs: boolean): { out: Tensor; probs: Tensor | null } {
    const [B, T, D] = x.shape, NH = this.c.num_attention_heads, HS = D / NH;
    const q = reshape(this.q_proj.forward(x), [B, T, NH, HS]); // (B, T, NH, HS)
    const k = reshape(this.k_proj.forward(x), [B, T, NH, HS]);
    const v = reshape(this.v_proj.forward(x), [B, T, NH, HS]);
    const r = attention(q, k, v, { causal: false, returnProbs: wantProbs });
    return { out: this.out_proj.forward(reshape(r.out, [B, T, D])), probs: r.probs };
  }
}

class CLIPMLP extends Module {
  fc1: Linear; fc2: Linear;
  constructor(readonly c: VisionConfig, rng: Rng) {
    super();
    const init = { rng, std: c.initializer_range };
    this.fc1 = new Linear(c.hidden_size, c.intermediate_size, true, init);
    this.fc2 = new Linear(c.intermediate_size, c.hidden_size, true, init);
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(activation(this.fc1.forward(x), this.c.hidden_act));
  }
}

class CLIPEncoderLayer extends Module {
  self_attn: CLIPAttention; layer_norm1: LayerNorm; mlp: CLIPMLP; layer_norm2: LayerNorm;
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.self_attn = new CLIPAttention(c, rng);
    this.layer_norm1 = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.mlp = new CLIPMLP(c, rng);
    this.layer_norm2 = new LayerNorm(c.hidden_size, c.layer_norm_eps);
  }
  forward(x: Tensor, wantProbs: boolean): { h: Tensor; probs: Tensor | null } {
    const a = this.self_attn.forward(this.layer_norm1.forward(x), wantProbs);
    const h = add(x, a.out);
    return { h: add(h, this.mlp.forward(this.layer_norm2.forward(h))), probs: a.probs };
  }
}

class CLIPEncoder extends Module {
  layers: CLIPEncoderLayer[];
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.layers = Array.from({ length: c.num_hidden_layers }, () => new CLIPEncoderLayer(c, rng));
  }
}

class CLIPVisionTransformer extends Module {
  embeddings: CLIPVisionEmbeddings; pre_layrnorm: LayerNorm; encoder: CLIPEncoder; post_layernorm: LayerNorm;
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.embeddings = new CLIPVisionEmbeddings(c, rng);
    this.pre_layrnorm = new LayerNorm(c.hidden_size, c.layer_norm_eps); // sic: HF's spelling
    this.encoder = new CLIPEncoder(c, rng);
    this.post_layernorm = new LayerNorm(c.hidden_size, c.layer_norm_eps); // used for the pooled output only
  }
}

export interface VisionFeatures {
  /** (B, P, D) patch features of the selected layer, CLS dropped. */
  features: Tensor;
  /** (B, NH, 1+P, 1+P) attention probabilities of the selected layer, when asked. */
  probs: Tensor | null;
}

/** The vision tower: CLIPVisionModel with LLaVA's feature selection. */
export class CLIPVisionModel extends Module {
  vision_model: CLIPVisionTransformer;

  constructor(readonly cfg: VisionConfig, seed = 0) {
    super();
    this.vision_model = new CLIPVisionTransformer(cfg, new Rng(seed));
  }

  /**
   * pixels (B, 3, S, S) normalised -> patch features of layer `selectLayer` (negative counts from
   * the end like HF hidden_states: -1 = last layer, -2 = penultimate). Layers after it are skipped.
   */
  forward(pixels: Float32Array, B: number, selectLayer = -2, wantProbs = false): VisionFeatures {
    const { features, probs } = this.layerFeatures(pixels, B, [selectLayer], wantProbs);
    return { features: features[0], probs };
  }

  /**
   * Patch features (B, P, D) of each layer in `layers` (negative counts from the end, as forward's
   * selectLayer); runs up to the deepest one. `probs` are those of the deepest layer, when asked.
   */
  layerFeatures(pixels: Float32Array, B: number, layers: readonly number[], wantProbs = false): { features: Tensor[]; probs: Tensor | null } {
    const vm = this.vision_model, nL = this.cfg.num_hidden_layers;
    // hidden_states[0] is the embedding output; hidden_states[i] the output of layer i (1-based)
    const idxs = layers.map((sel) => {
      const idx = sel < 0 ? nL + 1 + sel : sel;
      if (idx < 1 || idx > nL) throw new OpError("CLIPVisionModel", `select layer ${sel} is out of range for ${nL} layers`);
      return idx;
    });
    const deepest = Math.max(...idxs);
    let h = vm.pre_layrnorm.forward(vm.embeddings.forward(patchify(pixels, B, this.cfg), B)); // (B, 1+P, D)
    let probs: Tensor | null = null;
    const states: Tensor[] = [];
    for (let l = 0; l < deepest; l++) {
      const r = vm.encoder.layers[l].forward(h, wantProbs && l === deepest - 1);
      h = r.h; probs = r.probs;
      states.push(h);
    }
    const [, T, D] = h.shape;
    const sel = Int32Array.from({ length: B * (T - 1) }, (_, i) => Math.floor(i / (T - 1)) * T + 1 + (i % (T - 1)));
    const features = idxs.map((idx) => reshape(gatherRows(reshape(states[idx - 1], [B * T, D]), sel), [B, T - 1, D]));
    return { features, probs };
  }
}
