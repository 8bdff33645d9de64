#!/usr/bin/env node
// How much attention a model's text puts on what it has of the image: per decoder layer and head, the
// share of the last prompt token's attention (and the mean over every text token after the image) that
// lands on the <voco> tokens of a VoCo model, or on the vision tokens of a plain one. Session 21, 10 val
// images (40 questions): `small-voco-pool-1` 0-5% per head on its single <voco> token (all text tokens:
// 0-3%), `small-voco-pool-8` 3-11% on its eight, `small-vlm` 51-98% on its 144 vision tokens in most heads
// of layers 1-5 (how much of that is a sink on one vision token is not separated here).
// Usage (after `npm run build`): node scripts/image-attention.mjs MODEL_DIR [IMAGES]
import { loadVlmDir, methodOf } from "../dist/src/train/model-dir.js";
import { toVlmExample } from "../dist/src/train/format.js";
import { makeExample } from "../dist/src/data/stream.js";
import { TokenKind } from "../dist/src/model/layout.js";
import { noGrad } from "../dist/src/tensor/autograd.js";

const dir = process.argv[2], images = Number(process.argv[3] ?? 10);
if (!dir || !(images > 0)) { console.error("usage: node scripts/image-attention.mjs MODEL_DIR [IMAGES]"); process.exit(2); }
const { model, vocab, info } = loadVlmDir(dir);
const N = methodOf(info).vocoTokens;
const kind = N > 0 ? TokenKind.voco : TokenKind.vision;
const nL = model.cfg.num_hidden_layers, NH = model.cfg.num_attention_heads;
const last = Array.from({ length: nL }, () => new Float64Array(NH)), all = Array.from({ length: nL }, () => new Float64Array(NH));
let n = 0;
for (let i = 0; i < images; i++) {
  const ex = makeExample("image", i, { split: "val", seed: 0, size: model.vcfg.vision.image_size });
  for (const qa of ex.qa) {
    const input = toVlmExample({ ...ex, conversations: [{ from: "human", value: `<image>\n${qa.question}` }] }, vocab,
      { mean: model.vcfg.image_mean, std: model.vcfg.image_std, vocoTokens: N });
    const seen = [];
    noGrad(() => model.forwardBatch(model.buildBatch([input]), { hooks: { wantsProbs: () => true, afterLayer: (l, _h, L, p) => { if (p) seen[l] = { p, L }; return null; } } }));
    for (let l = 0; l < nL; l++) {
      const { p, L } = seen[l];
      const T = L.length[0], Tq = p.shape[2], Tk = p.shape[3];
      const keys = [];
      for (let t = 0; t < T; t++) if (L.kind[t] === kind) keys.push(t);
      const first = keys[keys.length - 1] + 1; // the text after the image (or after the <voco> tokens)
      const on = (h, q) => keys.reduce((s, j) => s + p.data[(h * Tq + q) * Tk + j], 0);
      for (let h = 0; h < NH; h++) {
        last[l][h] += on(h, T - 1);
        let s = 0;
        for (let q = first; q < T; q++) s += on(h, q);
        all[l][h] += s / (T - first);
      }
    }
    n++;
  }
}
console.log(`${dir}: attention on the ${N > 0 ? `${N} <voco> token(s)` : "vision tokens"}, ${n} questions on ${images} val images (per head)`);
for (let l = 0; l < nL; l++) {
  const f = (a) => Array.from(a, (x) => (x / n).toFixed(2)).join(" ");
  console.log(`layer ${l}: last prompt token ${f(last[l])} | all text after the image ${f(all[l])}`);
}
