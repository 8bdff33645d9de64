// Losses: cross-entropy with an ignore index (fused with log-softmax), and KL divergence built from
// primitive ops (so its backward comes for free).
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import { checkIndexDtype, checkIndices, fmt, OpError } from "../shape.js";
import { Tensor } from "../tensor.js";
import { exp, mul, scale, sub } from "./elementwise.js";
import { logSoftmax, sum } from "./reduce.js";

export const IGNORE_INDEX = -100; // Hugging Face / LLaVA convention for masked labels

/**
 * Mean cross-entropy of logits (..., V) against targets (one per row), over rows whose target is not
 * ignoreIndex. Returns 0 (with zero gradient) when every row is ignored.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, ignoreIndex = IGNORE_INDEX): Tensor {
  const V = logits.shape[logits.ndim - 1];
  const N = logits.size / V;
  checkIndexDtype("crossEntropy", targets);
  if (targets.length !== N) throw new OpError("crossEntropy", `${targets.length} targets for ${N} rows of logits ${fmt(logits.shape)}`);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = targets[i];
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= V) checkIndices("crossEntropy", Int32Array.of(t), V);
    count++;
  }
  const losses = new Float32Array(N), lse = new Float32Array(N);
  K().crossEntropyForward(losses, lse, logits.data, targets, N, V, ignoreIndex);
  let total = 0;
  for (let i = 0; i < N; i++) total += losses[i];
  const out = Tensor.scalar(count > 0 ? total / count : 0);
  return record(out, "crossEntropy", [logits], (g) => {
    const dl = Tensor.zeros(logits.shape);
    if (count === 0) return [dl];
    const dloss = new Float32Array(N).fill(g.data[0] / count);
    K().crossEntropyBackward(dl.data, dloss, logits.data, lse, targets, N, V, ignoreIndex);
    return [dl];
  });
}

/**
 * KL(teacher || student) = sum p_t (log p_t - log p_s), from logits (N, V), averaged over the rows
 * selected by `rowMask` (all rows if omitted), with temperature tau (scaled by tau^2, Hinton et al.).
 * The teacher is treated as a constant.
 */
export function klDivergence(studentLogits: Tensor, teacherLogits: Tensor, tau = 1, rowMask?: Uint8Array): Tensor {
  if (studentLogits.shape.join() !== teacherLogits.shape.join()) {
    throw new OpError("klDivergence", `student ${fmt(studentLogits.shape)} != teacher ${fmt(teacherLogits.shape)}`);
  }
  const V = studentLogits.shape[studentLogits.ndim - 1];
  const N = studentLogits.size / V;
  const ls = logSoftmax(scale(studentLogits, 1 / tau));
  const lt = logSoftmax(scale(teacherLogits.detach(), 1 / tau));
  const pt = exp(lt);
  const w = new Float32Array(N * V);
  let rows = 0;
  for (let n = 0; n < N; n++) {
    if (rowMask !== undefined && !rowMask[n]) continue;
    rows++;
    w.fill(1, n * V, (n + 1) * V);
  }
  if (rows === 0) return Tensor.scalar(0);
  const perEntry = mul(mul(pt, sub(lt, ls)), new Tensor(w, studentLogits.shape));
  return scale(sum(perEntry), (tau * tau) / rows);
}
