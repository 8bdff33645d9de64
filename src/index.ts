// The public API of vlm-compress. Everything a user imports comes from here; nothing else is
// public. Groups are namespaces (nn, optim); the tensor layer's ops are flat, like numpy.

export {
  Tensor, Rng, OpError, noGrad, withoutInit, backward, isGradEnabled,
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

// ---- the VLM
export { LlavaForCausalLM, targetsFor } from "./model/vlm.js";
export type { VlmExample, VlmHooks, VlmBatch } from "./model/vlm.js";
export { vlmConfigFromDict, vlmConfigToDict } from "./model/vlm-config.js";
export type { VlmConfig } from "./model/vlm-config.js";
export { CLIPVisionModel, visionConfigFromDict } from "./model/vision.js";
export type { VisionConfig } from "./model/vision.js";
export { withAddedTokens } from "./model/resize-vocab.js";
export { presetConfig, PRESET_NAMES } from "./model/presets.js";
export type { PresetName } from "./model/presets.js";
export { generate, prefill, decodeOne, decodeN, sample } from "./model/generate.js";
export type { GenerateOptions, SampleOptions } from "./model/generate.js";
export { decoderFlops, visionFlops, kvBytes } from "./model/flops.js";
export { readSafetensors, writeSafetensors, loadSafetensorsFile, saveSafetensorsFile, loadCheckpointDir } from "./model/safetensors.js";
export { WordLevelTokenizer, saveTokenizer } from "./model/tokenizer.js";
export { loadTokenizer, HfTokenizer } from "./model/tokenizer-hf.js";
export type { Tokenizer } from "./model/tokenizer.js";

// ---- data
export { makeExample, streamExamples } from "./data/stream.js";
export type { Example, ExampleOptions } from "./data/stream.js";
export { Vocab } from "./data/vocab.js";
export { renderScene } from "./data/shapes/render.js";
export { DIFFICULTIES, SPLITS } from "./data/splits.js";

// ---- compression methods
export { applyVocoMask, vocoMaskHooks } from "./compress/voco/mask.js";
export { VocoCache, compressImage, modelFingerprint } from "./compress/voco/cache.js";
export { feedText, answerFromCache } from "./compress/voco/two-stage.js";
export { compressVideo, concatCaches, placeCache } from "./compress/voco/video.js";
export { AtpHooks } from "./compress/atp/hooks.js";
export { AtpModules } from "./compress/atp/module.js";
export { ATP_DEFAULTS } from "./compress/atp/config.js";
export type { AtpConfig } from "./compress/atp/config.js";
export { fastVHooks } from "./compress/baselines/fastv.js";
export { pdropHooks } from "./compress/baselines/pdrop.js";
export { avgPoolHooks } from "./compress/baselines/pool.js";
// for writing a reducer of your own (README, "Writing your own method")
export { visionSlots, textAfterVision, receivedAttention, keepMask, topK } from "./compress/common.js";

// ---- training and evaluation
export { runRecipe, RECIPES } from "./train/run.js";
export { loadVlmDir, saveVlmDir } from "./train/model-dir.js";
export { exportVlmDir } from "./train/export.js";
export { averageVlmDirs } from "./train/average.js";
export { evaluateVqa } from "./eval/vqa.js";
export { pairedDifference } from "./eval/paired.js";
export { runEvalReport } from "./eval/report.js";
export { askImage } from "./eval/ask.js";
