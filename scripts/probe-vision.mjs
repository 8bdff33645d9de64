#!/usr/bin/env node
// Probe of a vision tower's patch features: can one linear score per patch, pooled over patches by
// log-sum-exp (what a single attention look-up can do), tell which colours, shapes and colour-shape
// pairs a scene contains? Balanced accuracy (mean of hit and correct-rejection rates) on val scenes.
// Session 3, shipped ViT, layer -2 (what the VLM reads): colour 92%, shape 60%, pairs ~50% (the pair
// probe is swamped by 64-way class imbalance; read it as "not linearly decodable at this budget").
// Usage (after `npm run build`): node scripts/probe-vision.mjs [VISION_DIR] [LAYER] [TRAIN_IMAGES] [EPOCHS]
import { makeExample } from "../dist/src/data/stream.js";
import { DIFFICULTIES } from "../dist/src/data/splits.js";
import { toFloat } from "../dist/src/data/image.js";
import { loadVisionDir } from "../dist/src/train/model-dir.js";
import { CLIP_MEAN, CLIP_STD } from "../dist/src/model/vlm-config.js";
import { SHAPES, COLOURS } from "../dist/src/data/shapes/attributes.js";
import { noGrad } from "../dist/src/tensor/autograd.js";
const dir = process.argv[2] ?? "checkpoints/small-vision", layer = Number(process.argv[3] ?? -2);
const NTR = Number(process.argv[4] ?? 1500), NTE = 300;
const { model } = loadVisionDir(dir);
const P = 144, D = model.cfg.hidden_size, K = 8 + 8 + 64;
function data(split, n) {
  const X = [], Y = [];
  for (let i = 0; i < n; i += 16) {
    const exs = []; for (let j = i; j < Math.min(n, i + 16); j++) exs.push(makeExample("image", j, { split, seed: 0, size: 192, questions: 1, difficulty: DIFFICULTIES.medium }));
    const px = new Float32Array(exs.length * 3 * 192 * 192);
    exs.forEach((e, b) => px.set(toFloat({ width: 192, height: 192, data: e.frames[0] }, "chw", CLIP_MEAN, CLIP_STD), b * 3 * 192 * 192));
    const f = noGrad(() => model.layerFeatures(px, exs.length, [layer]).features[0]);
    exs.forEach((e, b) => {
      X.push(f.data.slice(b * P * D, (b + 1) * P * D));
      const y = new Uint8Array(K);
      for (const o of e.scene.objects) { const c = COLOURS.indexOf(o.colour), s = SHAPES.indexOf(o.shape); y[c] = 1; y[8 + s] = 1; y[16 + s * 8 + c] = 1; }
      Y.push(y);
    });
  }
  return { X, Y };
}
const t0 = Date.now();
const tr = data("train", NTR), te = data("val", NTE);
console.log(`features ${Date.now() - t0} ms, D=${D}`);
// standardise features
const mu = new Float64Array(D), sd = new Float64Array(D);
for (const x of tr.X) for (let i = 0; i < x.length; i++) mu[i % D] += x[i];
for (let d = 0; d < D; d++) mu[d] /= tr.X.length * P;
for (const x of tr.X) for (let i = 0; i < x.length; i++) sd[i % D] += (x[i] - mu[i % D]) ** 2;
for (let d = 0; d < D; d++) sd[d] = Math.sqrt(sd[d] / (tr.X.length * P)) + 1e-6;
for (const set of [tr, te]) for (const x of set.X) for (let i = 0; i < x.length; i++) x[i] = (x[i] - mu[i % D]) / sd[i % D];
const W = new Float64Array(K * D), bias = new Float64Array(K).fill(-2), m = new Float64Array(K * D), v = new Float64Array(K * D);
const mb = new Float64Array(K), vb = new Float64Array(K);
function scores(x) { // (K) pooled logits, plus softmax weights over patches per k
  const s = new Float64Array(K * P);
  for (let p = 0; p < P; p++) for (let k = 0; k < K; k++) { let a = 0; const o = p * D, w = k * D; for (let d = 0; d < D; d++) a += W[w + d] * x[o + d]; s[k * P + p] = a; }
  const out = new Float64Array(K), wts = new Float64Array(K * P);
  for (let k = 0; k < K; k++) { let mx = -Infinity; for (let p = 0; p < P; p++) mx = Math.max(mx, s[k * P + p]); let z = 0; for (let p = 0; p < P; p++) { const e = Math.exp(s[k * P + p] - mx); wts[k * P + p] = e; z += e; } for (let p = 0; p < P; p++) wts[k * P + p] /= z; out[k] = mx + Math.log(z) - Math.log(P) + bias[k]; }
  return { out, wts };
}
function evalSet(set) {
  const groups = { colour: [0, 8], shape: [8, 16], pair: [16, 80] }, res = {};
  for (const [g, [a, b]] of Object.entries(groups)) { let tp = 0, pos = 0, tn = 0, neg = 0; for (let i = 0; i < set.X.length; i++) { const { out } = scores(set.X[i]); for (let k = a; k < b; k++) { const pred = out[k] > 0 ? 1 : 0; if (set.Y[i][k]) { pos++; tp += pred; } else { neg++; tn += 1 - pred; } } } res[g] = `${(100 * (tp / pos + tn / neg) / 2).toFixed(1)}% bal (tpr ${(100 * tp / pos).toFixed(1)}, tnr ${(100 * tn / neg).toFixed(1)})`; }
  return res;
}
let step = 0; const lr = 0.01;
for (let ep = 0; ep < Number(process.argv[5] ?? 6); ep++) {
  for (let i = 0; i < tr.X.length; i++) {
    const x = tr.X[i], y = tr.Y[i], { out, wts } = scores(x); step++;
    const gW = new Float64Array(K * D), gb = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const g = 1 / (1 + Math.exp(-out[k])) - y[k]; gb[k] = g;
      for (let p = 0; p < P; p++) { const c = g * wts[k * P + p]; if (Math.abs(c) < 1e-6) continue; const o = p * D, w = k * D; for (let d = 0; d < D; d++) gW[w + d] += c * x[o + d]; }
    }
    for (let j = 0; j < K * D; j++) { m[j] = 0.9 * m[j] + 0.1 * gW[j]; v[j] = 0.999 * v[j] + 0.001 * gW[j] ** 2; W[j] -= lr * (m[j] / (1 - 0.9 ** step)) / (Math.sqrt(v[j] / (1 - 0.999 ** step)) + 1e-8); }
    for (let k = 0; k < K; k++) { mb[k] = 0.9 * mb[k] + 0.1 * gb[k]; vb[k] = 0.999 * vb[k] + 0.001 * gb[k] ** 2; bias[k] -= lr * (mb[k] / (1 - 0.9 ** step)) / (Math.sqrt(vb[k] / (1 - 0.999 ** step)) + 1e-8); }
  }
  console.log(`epoch ${ep}`, JSON.stringify(evalSet(te)), `train`, JSON.stringify(evalSet({ X: tr.X.slice(0, 300), Y: tr.Y.slice(0, 300) })));
}
