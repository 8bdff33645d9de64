#!/usr/bin/env node
// An ATP model with its thresholds raised at inference: every module's two threshold heads get +DELTA
// on their pre-sigmoid bias, so fewer tokens pass; prints accuracy and kept fraction per DELTA (JSON
// lines). Session 22 used it to bring seed 22's model (88.7% at 25.7% kept) under 25%: DELTA chosen on
// val (0.15: 24.9% kept there), then test: 87.9% at 24.5% (loss 2.8%): the shift costs what training
// to a lower target costs. Usage: node scripts/atp-threshold-shift.mjs MODEL_DIR val|test DELTA...
// (run `npm run build` first).
import { hooksFor } from "../dist/src/eval/method.js";
import { keptFraction } from "../dist/src/eval/kept.js";
import { evaluateVqa } from "../dist/src/eval/vqa.js";
import { loadVlmDir, methodOf } from "../dist/src/train/model-dir.js";

const [dir, split, ...deltas] = process.argv.slice(2);
if (dir === undefined || !["val", "test"].includes(split) || deltas.length === 0 || deltas.some((d) => !Number.isFinite(Number(d)))) {
  console.error("usage: node scripts/atp-threshold-shift.mjs MODEL_DIR val|test DELTA...");
  process.exit(2);
}
for (const delta of deltas.map(Number)) {
  const m = loadVlmDir(dir);
  const hooks = hooksFor(methodOf(m.info), m.model, dir);
  if (hooks?.modules === undefined) { console.error(`${dir}: not an ATP model`); process.exit(2); }
  for (const t of hooks.modules.layers) { t.head_r.bias.data[0] += delta; t.head_s.bias.data[0] += delta; }
  const r = evaluateVqa(m.model, m.vocab, { split, n: 200, seed: 0, hooks, batchSize: 16 });
  console.log(JSON.stringify({ dir, split, delta, accuracy: r.accuracy, kept_fraction: keptFraction(r.stats), n: r.n, per_type: r.per_type }));
}
