// The tensor layer's public surface: Tensor, autograd controls, the RNG and every op.
export { Tensor, withoutInit, type GradNode } from "./tensor.js";
export { backward, noGrad, isGradEnabled } from "./autograd.js";
export { Rng } from "./random.js";
export { OpError, numel, type Shape } from "./shape.js";
export {
  abs, add, addScalar, affine, div, dropout, exp, gelu, log, maximum, mul, neg, relu, rsqrt, scale, sigmoid, silu,
  sqrt, square, sub, swiglu, tanh, where,
} from "./ops/elementwise.js";
export { matmul, type MatmulOptions } from "./ops/matmul.js";
export { logSoftmax, max, maxWithIndex, mean, softmax, sum } from "./ops/reduce.js";
export { concat, permute, reshape, slice, transpose } from "./ops/shape.js";
export { layerNorm, rmsNorm } from "./ops/norm.js";
export { rope } from "./ops/rope.js";
export { attention, causalRanges, type AttentionOptions, type AttentionResult } from "./ops/attention.js";
export { embedding, gatherRows, scatterRows } from "./ops/gather.js";
export { crossEntropy, klDivergence, IGNORE_INDEX } from "./ops/loss.js";
