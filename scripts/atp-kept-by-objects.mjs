// Does ATP's kept fraction follow the image? Per question: the vision tokens kept (averaged over layers,
// keptPerQuestion) against the number of objects in its scene, on the test split.
// node scripts/atp-kept-by-objects.mjs [MODEL_DIR] [IMAGES]   (after npm run build)
import { loadVlmDir, methodOf } from "../dist/src/train/model-dir.js";
import { hooksFor } from "../dist/src/eval/method.js";
import { evaluateVqa } from "../dist/src/eval/vqa.js";
import { makeExample } from "../dist/src/data/stream.js";
import { keptPerQuestion } from "../dist/src/eval/kept.js";
const dir = process.argv[2] ?? "checkpoints/small-atp-25", n = Number(process.argv[3] ?? 200);
const m = loadVlmDir(dir);
const r = evaluateVqa(m.model, m.vocab, { split: "test", n, hooks: hooksFor(methodOf(m.info), m.model, dir) });
const size = m.model.vcfg.vision.image_size;
// the questions in evaluation order: each example's questions in turn (evaluateVqa's questionsOf)
const objects = [], questions = [];
for (let i = 0; i < n; i++) {
  const ex = makeExample("image", i, { split: "test", size, render: false });
  for (const qa of ex.qa) { objects.push(ex.scene.objects.length); questions.push(qa.question); }
}
const off = r.results.findIndex((q, i) => q.question !== questions[i]);
if (off >= 0 || r.results.length !== questions.length) throw new Error(`question ${off} differs from its scene's: the order assumed here is not evaluateVqa's`);
const kept = keptPerQuestion(r.stats);
if (kept.length !== objects.length) throw new Error(`${kept.length} kept fractions for ${objects.length} questions`);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const mk = mean(kept), mo = mean(objects);
let sxy = 0, sxx = 0, syy = 0;
kept.forEach((k, i) => { sxy += (k - mk) * (objects[i] - mo); sxx += (k - mk) ** 2; syy += (objects[i] - mo) ** 2; });
const byCount = {};
objects.forEach((o, i) => (byCount[o] ??= []).push(kept[i]));
console.log(JSON.stringify({
  model: dir, questions: kept.length, pearson_r: sxy / Math.sqrt(sxx * syy),
  kept_by_objects: Object.fromEntries(Object.entries(byCount).map(([o, ks]) => [o, { questions: ks.length, mean: mean(ks) }])),
}, null, 1));
