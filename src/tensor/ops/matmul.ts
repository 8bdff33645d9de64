// Matrix multiplication with optional transposes of either operand, batched over leading axes.
//   a: (..., M, K) or (..., K, M) with transA;  b: (..., K, N) or (..., N, K) with transB.
// A 2-D b against a batched a (a linear layer over (B, T, C)) folds the batch into M: one big GEMM.
// Otherwise the batch axes must be equal, or one side 2-D (broadcast over the other's batch).
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import { fmt, numel, OpError } from "../shape.js";
import { Tensor } from "../tensor.js";

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

interface Plan {
  batch: number; M: number; N: number; Kd: number;
  strideA: number; strideB: number; outShape: number[];
}

function plan(a: Tensor, b: Tensor, tA: boolean, tB: boolean): Plan {
  if (a.ndim < 2 || b.ndim < 2) throw new OpError("matmul", `operands must be at least 2-d: a ${fmt(a.shape)}, b ${fmt(b.shape)}`);
  const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
  const M = tA ? ac : ar, Ka = tA ? ar : ac, Kb = tB ? bc : br, N = tB ? br : bc;
  if (Ka !== Kb) {
    throw new OpError("matmul", `inner dimensions differ: a ${fmt(a.shape)}${tA ? "ᵀ" : ""} has ${Ka}, b ${fmt(b.shape)}${tB ? "ᵀ" : ""} has ${Kb}`);
  }
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  if (bBatch.length === 0 && !tA) { // fold a's batch into M
    const rows = numel(aBatch) * M;
    return { batch: 1, M: rows, N, Kd: Ka, strideA: 0, strideB: 0, outShape: [...aBatch, M, N] };
  }
  if (aBatch.length === 0) {
    return { batch: numel(bBatch), M, N, Kd: Ka, strideA: 0, strideB: Ka * N, outShape: [...bBatch, M, N] };
  }
  if (bBatch.length === 0) {
    return { batch: numel(aBatch), M, N, Kd: Ka, strideA: M * Ka, strideB: 0, outShape: [...aBatch, M, N] };
  }
  if (aBatch.length !== bBatch.length || aBatch.some((d, i) => d !== bBatch[i])) {
    throw new OpError("matmul", `batch dimensions differ: a ${fmt(a.shape)}, b ${fmt(b.shape)}`);
  }
  return { batch: numel(aBatch), M, N, Kd: Ka, strideA: M * Ka, strideB: Ka * N, outShape: [...aBatch, M, N] };
}

/**
 * c = op(x)·op(y) for `batch` pairs; x or y broadcast when its stride is 0. When the output is
 * one matrix for all batches (accumulating a broadcast operand's gradient), it sums over the batch.
 */
function gemm(c: Float32Array, x: Float32Array, y: Float32Array, batch: number, M: number, N: number, Kd: number,
  tX: boolean, tY: boolean, sX: number, sY: number, sumBatch: boolean): void {
  if (!sumBatch) {
    K().matmul(c, x, y, batch, M, N, Kd, tX, tY, sX, sY, 1, 0);
    return;
  }
  for (let i = 0; i < batch; i++) {
    K().matmul(c, x.subarray(i * sX), y.subarray(i * sY), 1, M, N, Kd, tX, tY, 0, 0, 1, i === 0 ? 0 : 1);
  }
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const tA = opts.transA ?? false, tB = opts.transB ?? false;
  const p = plan(a, b, tA, tB);
  const { batch, M, N, Kd, strideA, strideB } = p;
  const out = Tensor.zeros(p.outShape);
  if (out.size > 0) K().matmul(out.data, a.data, b.data, batch, M, N, Kd, tA, tB, strideA, strideB, 1, 0);
  return record(out, "matmul", [a, b], (g) => {
    const sG = M * N;
    let da: Tensor | null = null, db: Tensor | null = null;
    // C = op(A)·op(B):  d op(A) = dC·op(B)ᵀ,  d op(B) = op(A)ᵀ·dC; a stored transpose swaps operand order
    if (a.requiresGrad) {
      da = Tensor.zeros(a.shape);
      const aSum = strideA === 0 && batch > 1;
      if (!tA) gemm(da.data, g.data, b.data, batch, M, Kd, N, false, !tB, sG, strideB, aSum);
      else gemm(da.data, b.data, g.data, batch, Kd, M, N, tB, true, strideB, sG, aSum);
    }
    if (b.requiresGrad) {
      db = Tensor.zeros(b.shape);
      const bSum = strideB === 0 && batch > 1;
      if (!tB) gemm(db.data, a.data, g.data, batch, Kd, N, M, !tA, false, strideA, sG, bSum);
      else gemm(db.data, g.data, a.data, batch, N, Kd, M, true, tA, sG, strideA, bSum);
    }
    return [da, db];
  });
}
