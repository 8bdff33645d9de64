// `vlmc bench engine`: matmul GFLOP/s, fused attention time, and the reference model's training
// and prefill throughput (research/engines.md: 4 layers, d 256, 4 heads, SwiGLU 1024, vocab 512,
// T 640, batch 1) for each kernel set, measured in one run as medians after warm-up.
// onnxruntime's figures for the same shapes are added by ./engine-ort.ts.
import { availableKernelSets, K, useKernels, type KernelSetName } from "../src/kernels/index.js";
import { llamaConfigFromDict } from "../src/model/config.js";
import { LlamaForCausalLM } from "../src/model/llama.js";
import { AdamW, decayGroups } from "../src/optim/adamw.js";
import { crossEntropy, noGrad, Rng } from "../src/tensor/index.js";
import { timeIt, type TimingOptions } from "./timing.js";

export type MatmulForm = "nn" | "nt" | "tn";
export const MATMUL_FORMS: readonly MatmulForm[] = ["nn", "nt", "tn"];
export const MATMUL_SHAPES: readonly [number, number, number][] = [[256, 256, 256], [1024, 1024, 1024], [600, 256, 1024]];
export const REFERENCE_MODEL = {
  vocab_size: 512, hidden_size: 256, intermediate_size: 1024, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 4,
};
export const REFERENCE_T = 640;

export function matmulKey(M: number, Kd: number, N: number, form: MatmulForm): string {
  return `${M}x${Kd}x${N}_${form}`;
}

export interface KernelSetResult {
  matmul_gflops: Record<string, number>;
  attention_ms: { forward: number; backward: number };
  train_tokens_per_s: number;
  prefill_tokens_per_s: number;
}

export interface EngineBenchOptions {
  sets?: KernelSetName[];
  /** Fewer runs and a time budget per figure (the ts set is slow: about 1 GFLOP/s). */
  quick?: boolean;
  log?: (line: string) => void;
}

function randFill(a: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

function timingFor(set: KernelSetName, quick: boolean, heavy: boolean): TimingOptions {
  if (set === "ts") return heavy ? { warmup: 1, runs: 2, minRuns: 1, budgetMs: 1 } : { warmup: 1, runs: 3, minRuns: 2, budgetMs: 3000 };
  return quick ? { warmup: 1, runs: 3, minRuns: 3, budgetMs: 2000 } : { warmup: 2, runs: 9, minRuns: 5, budgetMs: 8000 };
}

function benchMatmul(set: KernelSetName, quick: boolean, log: (s: string) => void): Record<string, number> {
  const out: Record<string, number> = {};
  const rng = new Rng(1);
  for (const [M, Kd, N] of MATMUL_SHAPES) {
    const a = randFill(new Float32Array(M * Kd), rng), b = randFill(new Float32Array(Kd * N), rng), c = new Float32Array(M * N);
    for (const form of MATMUL_FORMS) {
      const heavy = M * Kd * N > 1e8;
      const t = timeIt(() => K().matmul(c, a, b, 1, M, N, Kd, form === "tn", form === "nt", 0, 0, 1, 0), timingFor(set, quick, heavy));
      out[matmulKey(M, Kd, N, form)] = (2 * M * Kd * N) / (t.medianMs * 1e6);
      log(`  matmul ${matmulKey(M, Kd, N, form).padEnd(18)} ${out[matmulKey(M, Kd, N, form)].toFixed(1)} GFLOP/s (${t.runs} runs)`);
    }
  }
  return out;
}

function benchAttention(set: KernelSetName, quick: boolean): { forward: number; backward: number } {
  const [B, T, NH, HS] = [1, REFERENCE_T, 4, 64];
  const rng = new Rng(2);
  const n = B * T * NH * HS;
  const q = randFill(new Float32Array(n), rng), k = randFill(new Float32Array(n), rng), v = randFill(new Float32Array(n), rng);
  const out = new Float32Array(n), lse = new Float32Array(B * NH * T), dout = randFill(new Float32Array(n), rng);
  const dq = new Float32Array(n), dk = new Float32Array(n), dv = new Float32Array(n);
  const keyLo = new Int32Array(T), keyHi = Int32Array.from({ length: T }, (_, t) => t + 1);
  const scale = 1 / Math.sqrt(HS);
  const fwd = () => K().attentionForward(out, lse, null, q, k, v, null, keyLo, keyHi, B, T, T, NH, NH, HS, scale, false);
  const tf = timeIt(fwd, timingFor(set, quick, false));
  const tb = timeIt(() => K().attentionBackward(dq, dk, dv, null, dout, out, lse, q, k, v, null, keyLo, keyHi, B, T, T, NH, NH, HS, scale, false),
    timingFor(set, quick, false));
  return { forward: tf.medianMs, backward: tb.medianMs };
}

/** The reference model, its batch of ids and next-token targets. */
export function referenceModel(seed = 0): { model: LlamaForCausalLM; ids: Int32Array; targets: Int32Array } {
  const model = new LlamaForCausalLM(llamaConfigFromDict(REFERENCE_MODEL), seed);
  const rng = new Rng(seed + 1);
  const ids = Int32Array.from({ length: REFERENCE_T }, () => rng.int(REFERENCE_MODEL.vocab_size));
  const targets = Int32Array.from({ length: REFERENCE_T }, (_, t) => (t + 1 < REFERENCE_T ? ids[t + 1] : -100));
  return { model, ids, targets };
}

function benchModel(set: KernelSetName, quick: boolean): { train: number; prefill: number } {
  const { model, ids, targets } = referenceModel();
  const opt = new AdamW(decayGroups(model.trainableParameters(), 0.1));
  const step = () => {
    const loss = crossEntropy(model.forward(ids, 1, REFERENCE_T), targets);
    loss.backward();
    opt.update(1e-4);
    opt.zeroGrad();
  };
  const heavy = set === "ts";
  const tTrain = timeIt(step, timingFor(set, quick, heavy));
  const tPrefill = timeIt(() => noGrad(() => model.forward(ids, 1, REFERENCE_T)), timingFor(set, quick, heavy));
  return { train: REFERENCE_T / (tTrain.medianMs / 1000), prefill: REFERENCE_T / (tPrefill.medianMs / 1000) };
}

export function benchKernelSet(set: KernelSetName, opts: EngineBenchOptions = {}): KernelSetResult {
  const log = opts.log ?? (() => {});
  const quick = opts.quick ?? false;
  useKernels(set);
  log(`[${set}] matmul`);
  const matmul_gflops = benchMatmul(set, quick, log);
  log(`[${set}] attention (B 1, T ${REFERENCE_T}, 4 heads, HS 64, causal)`);
  const attention_ms = benchAttention(set, quick);
  log(`  forward ${attention_ms.forward.toFixed(2)} ms, backward ${attention_ms.backward.toFixed(2)} ms`);
  log(`[${set}] reference model: train step and prefill at T ${REFERENCE_T}`);
  const m = benchModel(set, quick);
  log(`  train ${m.train.toFixed(0)} tok/s, prefill ${m.prefill.toFixed(0)} tok/s`);
  return { matmul_gflops, attention_ms, train_tokens_per_s: m.train, prefill_tokens_per_s: m.prefill };
}

export function defaultSets(): KernelSetName[] {
  return availableKernelSets();
}
