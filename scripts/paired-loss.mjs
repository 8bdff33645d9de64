// Paired relative loss of checkpoints/small-atp-25 against checkpoints/small-vlm, with its standard error:
// node scripts/paired-loss.mjs SPLIT IMAGES [SEED] (run from the repository root after npm run build).
import { loadVlmDir, methodOf } from "../dist/src/train/model-dir.js";
import { hooksFor } from "../dist/src/eval/method.js";
import { evaluateVqa } from "../dist/src/eval/vqa.js";
import { pairedDifference } from "../dist/src/eval/paired.js";
const [split, n, seed] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 0)];
const full = loadVlmDir("checkpoints/small-vlm"), atp = loadVlmDir("checkpoints/small-atp-25");
const a = evaluateVqa(full.model, full.vocab, { split, n, seed });
const b = evaluateVqa(atp.model, atp.vocab, { split, n, seed, hooks: hooksFor(methodOf(atp.info), atp.model, "checkpoints/small-atp-25") });
const d = pairedDifference(a.results, b.results);
const disagree = a.results.filter((q, i) => q.correct !== b.results[i].correct).length;
console.log(JSON.stringify({ split, seed, n: d.n, full: a.accuracy, atp: b.accuracy, difference: d.difference, se: d.se, rel_loss: d.difference / a.accuracy, rel_se: d.se / a.accuracy, disagree }));
