// LLaVA-1.5 checkpoint names: a tiny random checkpoint written in exactly the layout of a real
// llava-v1.5-7b folder (same tensor names, config fields, fp16, two shards + index; tiny sizes),
// loaded through loadCheckpointDir and the name mapping into our LlavaForCausalLM; the HF-converted
// layouts and the separate CLIP checkpoint; the patch-embedding reshape against a direct convolution.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  detectLayout, fromCanonical, loadCanonical, patchEmbeddingToConv, patchEmbeddingToLinear, toCanonical, toCanonicalName,
} from "../../src/model/checkpoint-names.js";
import { llamaConfigFromDict } from "../../src/model/config.js";
import { LlamaForCausalLM } from "../../src/model/llama.js";
import { vlmConfigFromDict } from "../../src/model/vlm-config.js";
import { LlavaForCausalLM } from "../../src/model/vlm.js";
import { loadCheckpointDir, readSafetensors, writeSafetensors } from "../../src/model/safetensors.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { randArray } from "../helpers/random.js";

const tmp = mkdtempSync(join(tmpdir(), "vlmc-llava-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Tiny sizes. LLM: C 8, MLP 16, 2 heads, 2 layers, vocab 12. Vision: C 4, MLP 8, patch 2 on a
// 4x4 image -> 4 patches + CLS = 5 positions, 1 layer. Projector: 4 -> 8 -> 8.
const C = 8, I = 16, V = 12, VC = 4, VI = 8, P = 2, POS = 5;

/** A real llava-v1.5-7b config.json (LlavaLlamaForCausalLM, transformers 4.31) with tiny sizes. */
const LLAVA_CONFIG = {
  _name_or_path: "./checkpoints/llava-v1.5-7b", architectures: ["LlavaLlamaForCausalLM"], bos_token_id: 1, eos_token_id: 2,
  freeze_mm_mlp_adapter: false, hidden_act: "silu", hidden_size: C, image_aspect_ratio: "pad", initializer_range: 0.02,
  intermediate_size: I, max_position_embeddings: 4096, mm_hidden_size: VC, mm_patch_merge_type: "flat", mm_projector_lr: null,
  mm_projector_type: "mlp2x_gelu", mm_resampler_type: null, mm_use_im_patch_token: false, mm_use_im_start_end: false,
  mm_vision_select_feature: "patch", mm_vision_select_layer: -2, mm_vision_tower: "openai/clip-vit-large-patch14-336",
  model_type: "llava_llama", num_attention_heads: 2, num_hidden_layers: 2, num_key_value_heads: 2, pad_token_id: 0,
  pretraining_tp: 1, rms_norm_eps: 1e-5, rope_scaling: null, rope_theta: 10000.0, tie_word_embeddings: false,
  torch_dtype: "float16", transformers_version: "4.31.0", tune_mm_mlp_adapter: false, tune_mm_vision_resampler: false,
  unfreeze_mm_vision_tower: false, use_cache: true, use_mm_proj: true, vocab_size: V,
};

/** The LLM + projector tensors of llava-v1.5-7b, written out by hand (2 of its 32 layers). */
function llavaLlmNames(): [string, number[]][] {
  const out: [string, number[]][] = [["model.embed_tokens.weight", [V, C]]];
  for (let l = 0; l < 2; l++) {
    const p = `model.layers.${l}.`;
    out.push(
      [`${p}input_layernorm.weight`, [C]], [`${p}mlp.down_proj.weight`, [C, I]], [`${p}mlp.gate_proj.weight`, [I, C]],
      [`${p}mlp.up_proj.weight`, [I, C]], [`${p}post_attention_layernorm.weight`, [C]], [`${p}self_attn.k_proj.weight`, [C, C]],
      [`${p}self_attn.o_proj.weight`, [C, C]], [`${p}self_attn.q_proj.weight`, [C, C]], [`${p}self_attn.rotary_emb.inv_freq`, [2]],
      [`${p}self_attn.v_proj.weight`, [C, C]],
    );
  }
  out.push(["model.norm.weight", [C]], ["lm_head.weight", [V, C]],
    ["model.mm_projector.0.weight", [C, VC]], ["model.mm_projector.0.bias", [C]],
    ["model.mm_projector.2.weight", [C, C]], ["model.mm_projector.2.bias", [C]]);
  return out;
}

/** CLIP ViT names (HF CLIPVisionModel), 1 layer, under a prefix. */
function clipVisionNames(prefix: string): [string, number[]][] {
  const v = `${prefix}vision_model.`, l = `${v}encoder.layers.0.`;
  return [
    [`${v}embeddings.class_embedding`, [VC]], [`${v}embeddings.patch_embedding.weight`, [VC, 3, P, P]],
    [`${v}embeddings.position_embedding.weight`, [POS, VC]], [`${v}pre_layrnorm.weight`, [VC]], [`${v}pre_layrnorm.bias`, [VC]],
    ...["k_proj", "v_proj", "q_proj", "out_proj"].flatMap((p): [string, number[]][] => [[`${l}self_attn.${p}.weight`, [VC, VC]], [`${l}self_attn.${p}.bias`, [VC]]]),
    [`${l}layer_norm1.weight`, [VC]], [`${l}layer_norm1.bias`, [VC]], [`${l}mlp.fc1.weight`, [VI, VC]], [`${l}mlp.fc1.bias`, [VI]],
    [`${l}mlp.fc2.weight`, [VC, VI]], [`${l}mlp.fc2.bias`, [VC]], [`${l}layer_norm2.weight`, [VC]], [`${l}layer_norm2.bias`, [VC]],
    [`${v}post_layernorm.weight`, [VC]], [`${v}post_layernorm.bias`, [VC]],
  ];
}

function randomTensors(spec: [string, number[]][], seed: number): Map<string, Tensor> {
  return new Map(spec.map(([name, shape], i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return [name, new Tensor(Float32Array.from(randArray(n, seed * 1000 + i)), shape)];
  }));
}

/** Values after an fp16 store (the writer's rounding is tested in safetensors.test.ts). */
const asStoredF16 = (t: Tensor) => readSafetensors(writeSafetensors([["x", t]], { dtype: "F16" })).tensors.get("x")!.toArray();

/** Writes a folder the way the HF hub holds llava-v1.5-7b: two fp16 shards, an index, config.json. */
function writeLlavaFolder(dir: string, tensors: Map<string, Tensor>, firstShard: (name: string) => boolean): void {
  mkdirSync(dir, { recursive: true });
  const files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  const shards: [string, Tensor][][] = [[], []];
  for (const [name, t] of tensors) shards[firstShard(name) ? 0 : 1].push([name, t]);
  const weightMap: Record<string, string> = {};
  shards.forEach((s, i) => {
    writeFileSync(join(dir, files[i]), writeSafetensors(s, { dtype: "F16", metadata: { format: "pt" } }));
    for (const [name] of s) weightMap[name] = files[i];
  });
  const totalSize = [...tensors.values()].reduce((s, t) => s + 2 * t.size, 0);
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2));
  writeFileSync(join(dir, "config.json"), JSON.stringify(LLAVA_CONFIG, null, 2));
}

/** openai/clip-vit-large-patch14-336's vision_config fields, tiny. */
const CLIP_VISION_CONFIG = {
  hidden_size: VC, intermediate_size: VI, num_hidden_layers: 1, num_attention_heads: 2, image_size: 4, patch_size: P,
  num_channels: 3, layer_norm_eps: 1e-5, hidden_act: "quick_gelu", initializer_factor: 1.0, projection_dim: 768,
};
const VT = "model.vision_tower.vision_tower.vision_model.";

const inFirstShard = (n: string) => n.startsWith("model.embed_tokens.") || n.startsWith("model.layers.0.");

describe("llava-v1.5-7b layout", () => {
  const llm = randomTensors(llavaLlmNames(), 1);
  const tower = randomTensors(clipVisionNames("model.vision_tower.vision_tower."), 2);
  const full = new Map([...llm, ...tower]);
  const dir = join(tmp, "llava-v1.5-7b");
  writeLlavaFolder(dir, full, inFirstShard);

  it("loads the sharded folder and maps every name to ours", () => {
    const ck = loadCheckpointDir(dir);
    expect(ck.files.map((f) => f.slice(dir.length + 1))).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    expect(ck.config).toEqual(LLAVA_CONFIG);
    const { tensors, layout, ignored, unmapped } = toCanonical(ck.tensors);
    expect(layout).toBe("llava");
    expect(ignored.sort()).toEqual(["model.layers.0.self_attn.rotary_emb.inv_freq", "model.layers.1.self_attn.rotary_emb.inv_freq"]);
    expect(unmapped).toEqual([]);
    // our names are the original llava names, minus the buffers
    const expected = [...full.keys()].filter((n) => !n.endsWith("inv_freq"));
    expect([...tensors.keys()].sort()).toEqual(expected.sort());
    // values: what was written, in fp16; the patch embedding in the (C, 3*p*p) matmul form
    for (const [theirs, t] of full) {
      const ours = toCanonicalName(theirs, "llava")!;
      if (theirs.endsWith("inv_freq")) continue;
      expect(tensors.get(ours)!.toArray(), theirs).toEqual(asStoredF16(t));
    }
    expect(tensors.get(`${VT}embeddings.patch_embedding.weight`)!.shape).toEqual([VC, 3 * P * P]);
    expect(tensors.get("model.mm_projector.0.weight")!.shape).toEqual([C, VC]);
  });

  it("loads into our LlavaForCausalLM by name (strict), with its config.json + the CLIP vision_config", () => {
    const ck = loadCheckpointDir(dir);
    const vlm = new LlavaForCausalLM(vlmConfigFromDict({ ...ck.config!, vision_config: CLIP_VISION_CONFIG }), 7);
    const { tensors } = toCanonical(ck.tensors);
    expect(vlm.loadStateDict(tensors, true)).toEqual({ missing: [], unexpected: [] });
    expect(vlm.model.mm_projector.fc1.weight.toArray()).toEqual(asStoredF16(full.get("model.mm_projector.0.weight")!));
    const conv = full.get(`${VT}embeddings.patch_embedding.weight`)!;
    expect(vlm.model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight.toArray()).toEqual(asStoredF16(conv));
    // and saving our state dict in the llava layout gives back the real names and Conv2d shape
    const saved = fromCanonical(vlm.stateDict(), "llava");
    expect([...saved.keys()].sort()).toEqual([...full.keys()].filter((n) => !n.endsWith("inv_freq")).sort());
    expect(saved.get(`${VT}embeddings.patch_embedding.weight`)!.shape).toEqual([VC, 3, P, P]);
  });

  it("its config.json builds our LLaMA config, and the LLM part loads into LlamaForCausalLM by name", () => {
    const ck = loadCheckpointDir(dir);
    const cfg = llamaConfigFromDict(ck.config!, "config.json");
    expect(cfg).toMatchObject({ hidden_size: C, intermediate_size: I, vocab_size: V, num_hidden_layers: 2, rms_norm_eps: 1e-5 });
    const { tensors } = toCanonical(ck.tensors);
    const llmPart = new Map([...tensors].filter(([n]) => !n.startsWith("model.mm_projector.") && !n.startsWith("model.vision_tower.")));
    const model = new LlamaForCausalLM(cfg, 123);
    expect(model.loadStateDict(llmPart, true)).toEqual({ missing: [], unexpected: [] });
    expect(model.lm_head.weight.toArray()).toEqual(asStoredF16(llm.get("lm_head.weight")!));
  });

  it("the released 7b (no tower) + the CLIP checkpoint give the same tensors as one folder with the tower", () => {
    const llmDir = join(tmp, "llava-no-tower"), clipDir = join(tmp, "clip-vit-large-patch14-336");
    writeLlavaFolder(llmDir, llm, inFirstShard);
    // openai/clip-vit-large-patch14-336: CLIPModel names, text tower and an I64 position_ids buffer included
    const clip = new Map([...randomTensors(clipVisionNames(""), 2), ...randomTensors([["text_model.embeddings.token_embedding.weight", [6, 4]],
      ["text_model.final_layer_norm.weight", [4]], ["logit_scale", []], ["text_projection.weight", [3, 4]], ["visual_projection.weight", [3, VC]]], 3)]);
    const posIds = new Tensor(Float32Array.from({ length: POS }, (_, i) => i), [1, POS]);
    const clipBytes = writeSafetensors([...clip], { dtype: "F16" });
    mkdirSync(clipDir, { recursive: true });
    writeFileSync(join(clipDir, "model.safetensors"), clipBytes);
    expect(toCanonical(readSafetensors(clipBytes).tensors).layout).toBe("clip");
    // the same with position_ids stored as I64, like older CLIP files
    const withIds = readSafetensors(clipBytes).tensors;
    withIds.set("vision_model.embeddings.position_ids", posIds);
    const r = toCanonical(withIds);
    expect(r.ignored.sort()).toEqual(["logit_scale", "text_model.embeddings.token_embedding.weight", "text_model.final_layer_norm.weight",
      "text_projection.weight", "vision_model.embeddings.position_ids", "visual_projection.weight"]);
    const merged = loadCanonical([llmDir, clipDir]);
    const single = toCanonical(loadCheckpointDir(dir).tensors).tensors;
    expect([...merged.keys()].sort()).toEqual([...single.keys()].sort());
    for (const [n, t] of single) expect(merged.get(n)!.toArray(), n).toEqual(t.toArray());
    expect(() => loadCanonical([dir, clipDir])).toThrow(/"model\.vision_tower\.vision_tower\.vision_model\.embeddings\.class_embedding" is in both/);
  });
});

describe("HF-converted layouts", () => {
  const ours = toCanonical(new Map([...randomTensors(llavaLlmNames(), 4), ...randomTensors(clipVisionNames("model.vision_tower.vision_tower."), 5)])).tensors;

  it("llava-hf/llava-1.5-7b-hf names (convert_llava_weights_to_hf.py), both ways", () => {
    const hf = fromCanonical(ours, "llava-hf");
    for (const name of ["language_model.model.embed_tokens.weight", "language_model.model.layers.1.self_attn.q_proj.weight",
      "language_model.model.layers.0.mlp.gate_proj.weight", "language_model.model.norm.weight", "language_model.lm_head.weight",
      "multi_modal_projector.linear_1.weight", "multi_modal_projector.linear_1.bias", "multi_modal_projector.linear_2.weight",
      "multi_modal_projector.linear_2.bias", "vision_tower.vision_model.embeddings.class_embedding",
      "vision_tower.vision_model.encoder.layers.0.self_attn.out_proj.bias", "vision_tower.vision_model.post_layernorm.weight"]) {
      expect(hf.has(name), name).toBe(true);
    }
    expect(hf.get("vision_tower.vision_model.embeddings.patch_embedding.weight")!.shape).toEqual([VC, 3, P, P]);
    expect(hf.size).toBe(ours.size);
    const back = toCanonical(hf);
    expect(back.layout).toBe("llava-hf");
    expect([...back.tensors.keys()].sort()).toEqual([...ours.keys()].sort());
    for (const [n, t] of ours) expect(back.tensors.get(n)!.toArray()).toEqual(t.toArray());
  });

  it("transformers >= 4.52 module names (model.language_model..., lm_head), both ways", () => {
    const nested = fromCanonical(ours, "llava-hf-nested");
    for (const name of ["model.language_model.embed_tokens.weight", "model.language_model.layers.0.self_attn.k_proj.weight",
      "model.language_model.norm.weight", "lm_head.weight", "model.multi_modal_projector.linear_2.bias",
      "model.vision_tower.vision_model.pre_layrnorm.bias"]) {
      expect(nested.has(name), name).toBe(true);
    }
    const back = toCanonical(nested);
    expect(back.layout).toBe("llava-hf-nested");
    expect([...back.tensors.keys()].sort()).toEqual([...ours.keys()].sort());
  });

  it("our llava layout round-trips to the original names exactly", () => {
    const names = [...fromCanonical(ours, "llava").keys()].sort();
    const original = [...llavaLlmNames(), ...clipVisionNames("model.vision_tower.vision_tower.")].map(([n]) => n).filter((n) => !n.endsWith("inv_freq"));
    expect(names).toEqual(original.sort());
  });
});

describe("layout errors", () => {
  const t = Tensor.from([1]);
  it("refuses mixed, unknown and colliding names", () => {
    expect(() => detectLayout(["language_model.model.norm.weight", "model.layers.0.input_layernorm.weight"]))
      .toThrow(/mixes layouts: llava-hf \(e\.g\. language_model\.model\.norm\.weight\), llava \(e\.g\. model\.layers\.0/);
    expect(() => detectLayout(["encoder.block.0.weight"])).toThrow(/layout not recognised/);
    expect(() => toCanonical(new Map([["model.norm.weight", t], ["transformer.h.0.attn.weight", t]]))).toThrow(/1 tensor\(s\) have no name in our model \(layout llava\): transformer\.h\.0\.attn\.weight/);
    expect(toCanonical(new Map([["model.norm.weight", t], ["extra.w", t]]), { strict: false }).unmapped).toEqual(["extra.w"]);
    expect([...toCanonical(new Map([["vision_model.post_layernorm.weight", t]]), { layout: "clip" }).tensors.keys()]).toEqual([`${VT}post_layernorm.weight`]);
    expect(() => fromCanonical(new Map([["model.norm.weight", t]]), "clip")).toThrow(/"model\.norm\.weight" has no place in the clip layout/);
  });
});

describe("patch embedding: Conv2d weight -> matmul over (c, ky, kx)-flattened patches", () => {
  it("equals a direct stride-p convolution on a random image", () => {
    const Cout = 5, p = 3, H = 6, W = 9;
    const conv = new Tensor(Float32Array.from(randArray(Cout * 3 * p * p, 11)), [Cout, 3, p, p]);
    const img = Float64Array.from(randArray(3 * H * W, 12)); // (3, H, W)
    const lin = patchEmbeddingToLinear(conv);
    expect(lin.shape).toEqual([Cout, 3 * p * p]);
    expect(lin.data).toBe(conv.data); // a reshape, no copy
    for (let py = 0; py < H / p; py++) {
      for (let px = 0; px < W / p; px++) {
        // the patch flattened in (c, ky, kx) order
        const patch: number[] = [];
        for (let c = 0; c < 3; c++) for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) patch.push(img[c * H * W + (py * p + ky) * W + px * p + kx]);
        for (let o = 0; o < Cout; o++) {
          let direct = 0, viaMatmul = 0;
          for (let c = 0; c < 3; c++) for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) {
            direct += conv.data[((o * 3 + c) * p + ky) * p + kx] * img[c * H * W + (py * p + ky) * W + px * p + kx];
          }
          for (let k = 0; k < 3 * p * p; k++) viaMatmul += lin.data[o * 3 * p * p + k] * patch[k];
          expect(viaMatmul).toBeCloseTo(direct, 12);
        }
      }
    }
    expect(patchEmbeddingToConv(lin).shape).toEqual([Cout, 3, p, p]);
    expect(() => patchEmbeddingToConv(new Tensor(new Float32Array(10), [2, 5]))).toThrow(/is not \(C, 3\*p\*p\)/);
    expect(() => patchEmbeddingToLinear(new Tensor(new Float32Array(6), [1, 3, 2, 1]))).toThrow(/expected a Conv2d weight/);
  });
});
