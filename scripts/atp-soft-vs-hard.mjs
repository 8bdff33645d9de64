#!/usr/bin/env node
// An ATP model's test accuracy three ways with its own modules: soft masks (what training sees),
// hard pruning (what inference runs) and no pruning. Session 10, the cycle-6 ATP model on 100 test
// images: soft 86.5%, hard 80.5%, none 86.0%: the soft masks leak pruned tokens into training.
// Usage (after `npm run build`): node scripts/atp-soft-vs-hard.mjs MODEL_DIR [TEST_IMAGES]
import { loadVlmDir, methodOf } from "../dist/src/train/model-dir.js";
import { AtpHooks } from "../dist/src/compress/atp/hooks.js";
import { loadAtpModules } from "../dist/src/train/atp-files.js";
import { evaluateVqa } from "../dist/src/eval/vqa.js";

const dir = process.argv[2], n = Number(process.argv[3] ?? 100);
if (!dir) { console.error("usage: node scripts/atp-soft-vs-hard.mjs MODEL_DIR [TEST_IMAGES]"); process.exit(2); }
const { model, vocab, info } = loadVlmDir(dir);
const method = methodOf(info);
if (method.atp === null) { console.error(`${dir}: not an ATP model (no atp settings in config.json)`); process.exit(2); }
const grid = model.vcfg.vision.image_size / model.vcfg.vision.patch_size, nL = model.cfg.num_hidden_layers;
const modules = loadAtpModules(dir, method.atp, 0);
for (const mode of ["soft", "hard", "none"]) {
  const hooks = mode === "none" ? undefined : new AtpHooks(modules, method.atp, mode, nL, grid);
  const r = evaluateVqa(model, vocab, { split: "test", n, hooks });
  const perType = Object.entries(r.per_type).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}`).join(", ");
  console.log(`${mode.padEnd(4)} ${(100 * r.accuracy).toFixed(1)}%  (${perType})`);
}
