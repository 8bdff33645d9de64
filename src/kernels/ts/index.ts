// The TypeScript reference kernel set: plain loops, portable (no Node-only API), the ground truth
// the native set is tested against. See ../kernel.ts for the contract of each function.
import type { Kernels } from "../kernel.js";
import { attentionBackward, attentionForward } from "./attention.js";
import {
  accumulateStrided, affine, axpy, binary, copyStrided, swigluBackward, swigluForward, unary, unaryBackward,
} from "./elementwise.js";
import { gatherRows, scatterAddRows } from "./gather.js";
import { adamwStep, crossEntropyBackward, crossEntropyForward } from "./loss.js";
import { matmul } from "./matmul.js";
import { layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from "./norm.js";
import { maxAxis, softmaxBackward, softmaxForward, sumAxis, sumSquares } from "./reduce.js";
import { rope } from "./rope.js";

export const tsKernels: Kernels = {
  name: "ts",
  matmul,
  unary, unaryBackward, binary, affine, axpy, accumulateStrided, copyStrided,
  sumAxis, maxAxis, softmaxForward, softmaxBackward,
  rmsNormForward, rmsNormBackward, layerNormForward, layerNormBackward,
  rope, attentionForward, attentionBackward,
  gatherRows, scatterAddRows,
  crossEntropyForward, crossEntropyBackward,
  swigluForward, swigluBackward,
  adamwStep, sumSquares,
};
