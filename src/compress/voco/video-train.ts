// VoCo video in one differentiable forward, for continued training on ShapesVideoQA: stage 1 runs
// every frame of every clip as its own row ([BOS, frame, VoCo x N], positions so that frame t's VoCo
// tokens sit at start + t N + i, exactly where compressVideo places them), captures every layer's
// VoCo keys and values with their graph, and stage 2 runs each clip's text against the concatenated
// frame caches (PrefixKV). Equal to the two-stage inference path (tested), with gradients into both.
import { TokenKind, causalLayout } from "../../model/layout.js";
import type { LlavaForCausalLM } from "../../model/vlm.js";
import { gatherRows } from "../../tensor/ops/gather.js";
import { reshape } from "../../tensor/ops/shape.js";
import { IGNORE_INDEX } from "../../tensor/ops/loss.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { VocoIds } from "./video.js";

export interface VideoSample {
  frames: readonly Float32Array[];
  /** Text after the frames (ids and labels aligned; labels IGNORE_INDEX outside answers). */
  text: readonly number[];
  labels?: readonly number[];
}

export interface VideoForward {
  /** (B, Tt, V) logits of the text tokens. */
  logits: Tensor;
  /** (B * Tt) next-token targets. */
  targets: Int32Array;
}

export function videoForward(model: LlavaForCausalLM, clips: readonly VideoSample[], N: number, ids: VocoIds): VideoForward {
  const c = model.cfg, NKV = c.num_key_value_heads, HS = c.hidden_size / c.num_attention_heads, row = NKV * HS;
  const P = (model.vcfg.vision.image_size / model.vcfg.vision.patch_size) ** 2;
  const start = 1 + P; // where a single image's first VoCo token sits
  // stage 1: one row per frame
  const frameOf: { clip: number; t: number }[] = [];
  clips.forEach((clip, b) => clip.frames.forEach((_, t) => frameOf.push({ clip: b, t })));
  const prefixIds = [ids.bos, ids.image, ...Array<number>(N).fill(ids.voco)];
  const stage1 = model.buildBatch(frameOf.map(({ clip, t }) => ({ ids: prefixIds, images: [clips[clip].frames[t]] })), {
    adjustLayout: (L) => {
      frameOf.forEach(({ t }, r) => { for (let j = 0; j < L.length[r]; j++) L.pos[r * L.T + j] = start + t * N - (1 + P) + j; });
    },
  });
  const T1 = stage1.layout.T;
  const captured: { k: Tensor; v: Tensor }[] = [];
  model.model.forwardEmbeds(stage1.h, stage1.layout, { captureKV: (l, k, v) => { captured[l] = { k, v }; } });
  // the VoCo rows of each clip, in time order, left-padded to the longest clip
  const per = clips.map((clip) => clip.frames.length * N);
  const Np = Math.max(...per);
  const idx = new Int32Array(clips.length * Np);
  let r = 0;
  clips.forEach((clip, b) => {
    const pad = Np - per[b];
    for (let t = 0; t < clip.frames.length; t++, r++) {
      for (let i = 0; i < N; i++) idx[b * Np + pad + t * N + i] = r * T1 + (1 + P + i);
    }
  });
  const prefix = {
    k: captured.map(({ k }) => reshape(gatherRows(reshape(k, [-1, row]), idx), [clips.length, Np, NKV, HS])),
    v: captured.map(({ v }) => reshape(gatherRows(reshape(v, [-1, row]), idx), [clips.length, Np, NKV, HS])),
    len: Int32Array.from(per),
  };
  // stage 2: the text of every clip against its frames' VoCo K/V, positions after the last frame
  const L = causalLayout(clips.map((clip) => new Uint8Array(clip.text.length).fill(TokenKind.text)));
  const flat = new Int32Array(L.B * L.T), targets = new Int32Array(L.B * L.T).fill(IGNORE_INDEX);
  clips.forEach((clip, b) => {
    for (let t = 0; t < clip.text.length; t++) {
      flat[b * L.T + t] = clip.text[t];
      L.pos[b * L.T + t] = start + per[b] + t;
      if (clip.labels && t + 1 < clip.text.length) targets[b * L.T + t] = clip.labels[t + 1];
    }
  });
  const h = reshape(model.model.embed_tokens.forward(flat), [L.B, L.T, c.hidden_size]);
  const out = model.model.forwardEmbeds(h, L, { prefix });
  return { logits: model.lm_head.forward(out.h), targets };
}
