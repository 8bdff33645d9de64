// The public API of vlm-compress. Everything a user imports comes from here; nothing else is
// public. Groups are namespaces (nn, optim); the tensor layer's ops are flat, like numpy.

export {
  Tensor, Rng, OpError, noGrad, backward, isGradEnabled,
  abs, add, addScalar, affine, div, dropout, exp, gelu, log, maximum, mul, neg, relu, rsqrt, scale, sigmoid, silu,
  sqrt, square, sub, swiglu, tanh, where,
  matmul, logSoftmax, max, maxWithIndex, mean, softmax, sum,
  concat, permute, reshape, slice, transpose,
  layerNorm, rmsNorm, rope, attention, causalRanges, embedding, gatherRows, scatterRows,
  crossEntropy, klDivergence, IGNORE_INDEX,
} from "./tensor/index.js";
export type { GradNode, Shape, MatmulOptions, AttentionOptions, AttentionResult } from "./tensor/index.js";

export { K as kernels, useKernels, kernelStatus, describeKernels, availableKernelSets } from "./kernels/index.js";
export type { KernelSetName, KernelStatus } from "./kernels/index.js";
export type { Kernels, UnaryOp, BinaryOp } from "./kernels/kernel.js";

import { Embedding, LayerNorm, Linear, RMSNorm } from "./nn/layers.js";
import { Module, parameter, isParameter } from "./nn/module.js";
export const nn = { Module, parameter, isParameter, Linear, Embedding, RMSNorm, LayerNorm };

import { AdamW, decayGroups } from "./optim/adamw.js";
import { clipGradNorm } from "./optim/clip.js";
import { lrAt } from "./optim/schedule.js";
export const optim = { AdamW, decayGroups, clipGradNorm, lrAt };
export type { ParamGroup, AdamWOptions } from "./optim/adamw.js";
export type { CosineSchedule } from "./optim/schedule.js";

export { LlamaForCausalLM } from "./model/llama.js";
export type { DecoderOptions, DecoderOutput, LayerStats } from "./model/llama.js";
export { causalLayout, keepTokens, countKinds, TokenKind } from "./model/layout.js";
export type { TokenLayout } from "./model/layout.js";
export { KVCache } from "./model/kv-cache.js";
export type { DecoderHooks } from "./model/hooks.js";
export { llamaConfigFromDict } from "./model/config.js";
export type { LlamaConfig } from "./model/config.js";
