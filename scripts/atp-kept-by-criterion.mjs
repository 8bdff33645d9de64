#!/usr/bin/env node
// Where an ATP model's token budget goes: per ATP layer, the tokens hard pruning keeps and how many
// of them pass on the spatial (SAP) score, i.e. the question-independent grid skeleton, with the
// mean learnt thresholds. Session 11, the session-10 `atp-25` on 25 test images: after layer 0 it
// keeps 12.7 tokens of which 9.0 are the stride-4 3x3 skeleton; with `atp_sap_strides=2,4,6`
// 16.4 of which 13.0 (the 3x3 and 2x2 skeletons).
// Usage (after `npm run build`): node scripts/atp-kept-by-criterion.mjs MODEL_DIR [TEST_IMAGES]
import { loadVlmDir, methodOf } from "../dist/src/train/model-dir.js";
import { AtpHooks } from "../dist/src/compress/atp/hooks.js";
import { sapScore } from "../dist/src/compress/atp/config.js";
import { loadAtpModules } from "../dist/src/train/atp-files.js";
import { evaluateVqa } from "../dist/src/eval/vqa.js";

const dir = process.argv[2], n = Number(process.argv[3] ?? 25);
if (!dir) { console.error("usage: node scripts/atp-kept-by-criterion.mjs MODEL_DIR [TEST_IMAGES]"); process.exit(2); }
const { model, vocab, info } = loadVlmDir(dir);
const cfg = methodOf(info).atp;
if (cfg === null) { console.error(`${dir}: not an ATP model (no atp settings in config.json)`); process.exit(2); }
const grid = model.vcfg.vision.image_size / model.vcfg.vision.patch_size, nL = model.cfg.num_hidden_layers;
const modules = loadAtpModules(dir, cfg, 0);

// Record each module's per-sample thresholds as it runs (one forward per batch, in layer order).
const thetas = [];
modules.layers.forEach((m, k) => {
  const forward = m.forward.bind(m);
  m.forward = (x) => { const r = forward(x); thetas[k] = { r: Array.from(r.thetaR.data), s: Array.from(r.thetaS.data) }; return r; };
});
const hooks = new AtpHooks(modules, cfg, "hard", nL, grid);
const totals = cfg.layers.map(() => ({ kept: 0, sap: 0, rows: 0, thetaR: 0, thetaS: 0 }));
// keptPatches holds the previous batch's survivors until the next batch is prepared: count them then.
const countBatch = () => {
  hooks.keptPatches.forEach((rows, k) => rows.forEach((patches, b) => {
    const t = totals[k], th = thetas[k];
    t.rows++; t.kept += patches.length; t.thetaR += th.r[b]; t.thetaS += th.s[b];
    t.sap += patches.filter((p) => sapScore(Math.floor(p / grid), p % grid, cfg) > th.s[b]).length;
  }));
};
const prepare = hooks.prepare.bind(hooks);
hooks.prepare = (batch) => { if (thetas.length > 0) countBatch(); thetas.length = 0; prepare(batch); };
const r = evaluateVqa(model, vocab, { split: "test", n, hooks });
countBatch();
console.log(`${dir}: ${n} test images, ${r.n} questions, accuracy ${(100 * r.accuracy).toFixed(1)}%, SAP strides ${cfg.sapStrides.join(",")}`);
totals.forEach((t, k) => console.log(`ATP after layer ${cfg.layers[k]}: kept ${(t.kept / t.rows).toFixed(1)} of ${grid * grid}, ` +
  `${(t.sap / t.rows).toFixed(1)} of them passing on SAP; mean thresholds theta_r ${(t.thetaR / t.rows).toFixed(3)}, theta_s ${(t.thetaS / t.rows).toFixed(3)}`));
