// The paper's KL term on answer tokens, with student and teacher rows matched by answer, not by position:
// a teacher may lay the same samples out differently (the plain VLM has no <voco> tokens), so row i of the
// student is not row i of the teacher, but its k-th answer token is the teacher's k-th.
import { gatherRows } from "../tensor/ops/gather.js";
import { IGNORE_INDEX, klDivergence } from "../tensor/ops/loss.js";
import { reshape } from "../tensor/ops/shape.js";
import type { Tensor } from "../tensor/tensor.js";

/** Rows whose target is an answer token, in order. */
function answerRows(targets: ArrayLike<number>): Int32Array {
  const rows: number[] = [];
  for (let i = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) rows.push(i);
  return Int32Array.from(rows);
}

/**
 * KL(teacher || student) averaged over answer tokens, from logits (..., V) and each model's own flat targets.
 * Both must target the same answer tokens in the same order (else the two batches are not the same samples).
 */
export function answerKl(studentLogits: Tensor, studentTargets: ArrayLike<number>, teacherLogits: Tensor, teacherTargets: ArrayLike<number>, tau: number): Tensor {
  const s = answerRows(studentTargets), t = answerRows(teacherTargets);
  const mismatch = s.length !== t.length ? `${s.length} answer tokens against the teacher's ${t.length}`
    : s.findIndex((r, k) => studentTargets[r] !== teacherTargets[t[k]]);
  if (typeof mismatch === "string" || mismatch >= 0) {
    const why = typeof mismatch === "string" ? mismatch : `answer token ${mismatch} differs (${studentTargets[s[mismatch]]} against ${teacherTargets[t[mismatch]]})`;
    throw new Error(`distill: the teacher's batch does not hold the student's answers (${why}); is the teacher's vocabulary or max_seq_len different?`);
  }
  const rowsOf = (x: Tensor) => reshape(x, [-1, x.shape[x.ndim - 1]]);
  return klDivergence(gatherRows(rowsOf(studentLogits), s), gatherRows(rowsOf(teacherLogits), t), tau);
}
