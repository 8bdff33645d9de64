// The training loop, one visible loop as in nanoGPT: lrAt(step), accumulate micro-batches, clip,
// step, log (loss, ms/step, tokens/s) to a JSONL file and a progress line, evaluate and checkpoint
// periodically, and on Ctrl-C save a checkpoint that resumes exactly (model, optimizer moments,
// step; data is a pure function of the example index, so the next batch is the same too).
// Not here: what a batch is and what the loss is (a TrainTask, from recipes/), model file formats.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensorsFile, saveJsonFile, saveSafetensorsFile } from "../model/safetensors.js";
import type { Module } from "../nn/module.js";
import { AdamW, scaledGroups } from "../optim/adamw.js";
import { clipGradNormByGroup, clipGroups } from "../optim/clip.js";
import { lrAt } from "../optim/schedule.js";
import { Tensor } from "../tensor/tensor.js";
import { Progress } from "./progress.js";

export interface TrainerConfig {
  steps: number;
  grad_accum: number;
  lr: number;
  min_lr: number;
  warmup: number;
  weight_decay: number;
  grad_clip: number;
  eval_every: number;
  save_every: number;
  log_every: number;
}

export interface MicroResult {
  /** The micro-batch's mean loss (a scalar that requires grad). */
  loss: Tensor;
  /** Tokens that carried a loss, and all tokens processed (for throughput). */
  targets: number;
  tokens: number;
  /** Scalars to log beside the loss (e.g. the answers' own loss, ATP's soft kept fraction), averaged over a step's micro-batches. */
  logged?: Record<string, number>;
}

export interface TrainTask {
  model: Module;
  /** Loss of global micro-batch number `index` (step * grad_accum + k): a pure function of the index. */
  micro(index: number): MicroResult;
  /** Evaluation metrics (run under noGrad by the task). */
  evaluate?(step: number): Record<string, number>;
  /** Writes the model's own files (weights, config, tokenizer) into dir. */
  saveModel(dir: string): void;
  /** Training state outside the parameters (e.g. ATP's budget multiplier), saved in the trainer state
   * at every checkpoint and handed back to restore() on resume. */
  state?(): Record<string, number>;
  restore?(state: Record<string, number>): void;
  /** Learning-rate multiplier of a trainable parameter, by name (default: 1 for every parameter). */
  lrScale?(name: string): number;
  /** If set, gradients are clipped to grad_clip per group (named by this function) instead of all together. */
  clipGroup?(name: string): string;
}

export interface TrainerState {
  step: number;
  config: TrainerConfig;
  /** Anything the recipe needs to resume (its resolved config). */
  recipe: Record<string, unknown>;
  elapsed_ms: number;
  /** The task's own state (TrainTask.state), if it has any. */
  task?: Record<string, number>;
}

export const STATE_FILE = "trainer_state.json";
export const OPTIMIZER_FILE = "optimizer.safetensors";

/**
 * How far a run folder's training got: steps done and planned, or null for a folder without a
 * trainer state (an exported or shipped model: nothing left to train).
 */
export function trainingProgress(dir: string): { step: number; steps: number } | null {
  const p = join(dir, STATE_FILE);
  if (!existsSync(p)) return null;
  try {
    const s = JSON.parse(readFileSync(p, "utf8")) as Partial<TrainerState>;
    const step = Number(s.step ?? 0);
    return { step, steps: Number(s.config?.steps ?? step) };
  } catch {
    return { step: 0, steps: Number.POSITIVE_INFINITY }; // a state being written or broken: not finished
  }
}

/** "" for a finished (or exported) model folder, else why a benchmark should not read it yet. */
export function unfinishedReason(dir: string): string {
  const p = trainingProgress(dir);
  return p === null || p.step >= p.steps ? "" : `training unfinished (step ${p.step} of ${Number.isFinite(p.steps) ? p.steps : "?"}), skipped`;
}

/** Saves the optimizer moments and the trainer state next to the model files. */
export function saveTrainingCheckpoint(dir: string, task: TrainTask, opt: AdamW, state: TrainerState): void {
  mkdirSync(dir, { recursive: true });
  task.saveModel(dir);
  const moments: [string, Tensor][] = [];
  for (const [name, m] of opt.m) moments.push([`m.${name}`, new Tensor(m, [m.length])]);
  for (const [name, v] of opt.v) moments.push([`v.${name}`, new Tensor(v, [v.length])]);
  saveSafetensorsFile(join(dir, OPTIMIZER_FILE), moments, { metadata: { step: String(opt.step) } });
  saveJsonFile(join(dir, STATE_FILE), state);
}

/** Restores optimizer moments and returns the saved state (the model is loaded by the recipe). */
export function loadTrainingState(dir: string, opt: AdamW): TrainerState {
  const statePath = join(dir, STATE_FILE);
  if (!existsSync(statePath)) throw new Error(`${dir}: no ${STATE_FILE}; not a training checkpoint (was it saved by a finished run only?)`);
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(statePath, "utf8")) as TrainerState;
  } catch (e) {
    throw new Error(`${statePath}: cannot parse (${(e as Error).message})`);
  }
  const { tensors, metadata } = loadSafetensorsFile(join(dir, OPTIMIZER_FILE));
  for (const [key, t] of tensors) {
    const [kind, ...rest] = key.split(".");
    (kind === "m" ? opt.m : opt.v).set(rest.join("."), t.data);
  }
  opt.step = Number(metadata.step ?? state.step);
  return state;
}

export interface TrainOptions {
  outDir: string;
  recipe: Record<string, unknown>;
  /** Resume from this checkpoint folder (its trainer state and optimizer). */
  resumeFrom?: string;
  /** Stop after this many steps in this run (for tests of resumption); default: run to the end. */
  stopAfter?: number;
  log?: (line: string) => void;
  quiet?: boolean;
}

export interface TrainResult {
  step: number;
  interrupted: boolean;
  losses: number[];
  lastEval: Record<string, number> | null;
}

export async function train(task: TrainTask, cfg: TrainerConfig, opts: TrainOptions): Promise<TrainResult> {
  mkdirSync(opts.outDir, { recursive: true });
  const opt = new AdamW(scaledGroups(task.model.trainableParameters(), cfg.weight_decay, task.lrScale), { beta1: 0.9, beta2: 0.95 });
  // gradient clipping: one global norm, or one per group the task names (grouped once, not every step)
  const clipSets = task.clipGroup === undefined ? [task.model.parameters()] : clipGroups(task.model.namedParameters(), task.clipGroup);
  let start = 0, elapsedBefore = 0;
  if (opts.resumeFrom !== undefined) {
    const s = loadTrainingState(opts.resumeFrom, opt);
    start = s.step; elapsedBefore = s.elapsed_ms;
    task.restore?.(s.task ?? {});
  }
  const metricsPath = join(opts.outDir, "metrics.jsonl");
  const log = opts.log ?? (() => {});
  const progress = new Progress({ total: cfg.steps, label: "train" }, start);
  let interrupted = false;
  const onSigint = () => { interrupted = true; };
  process.on("SIGINT", onSigint);
  const t0 = performance.now();
  const state = (step: number): TrainerState => ({ step, config: cfg, recipe: opts.recipe, elapsed_ms: elapsedBefore + performance.now() - t0,
    ...(task.state ? { task: task.state() } : {}) });
  const losses: number[] = [];
  let lastEval: Record<string, number> | null = null;
  let step = start;
  try {
    for (; step < cfg.steps; step++) {
      if (opts.stopAfter !== undefined && step - start >= opts.stopAfter) break;
      // 1) learning rate for this step (warmup, cosine, floor)
      const lr = lrAt(step, { maxLr: cfg.lr, minLr: cfg.min_lr, warmupSteps: cfg.warmup, totalSteps: cfg.steps });
      // 2) accumulate gradients over micro-batches
      const ts = performance.now();
      let loss = 0, tokens = 0;
      const logged: Record<string, number> = {};
      for (let k = 0; k < cfg.grad_accum; k++) {
        const r = task.micro(step * cfg.grad_accum + k);
        loss += r.loss.item() / cfg.grad_accum;
        tokens += r.tokens;
        for (const [name, v] of Object.entries(r.logged ?? {})) logged[name] = (logged[name] ?? 0) + v / cfg.grad_accum;
        r.loss.backward(Tensor.scalar(1 / cfg.grad_accum));
      }
      // 3) clip, update, clear
      const gradNorm = clipGradNormByGroup(clipSets, cfg.grad_clip);
      opt.update(lr);
      opt.zeroGrad();
      const ms = performance.now() - ts;
      losses.push(loss);
      // 4) log, evaluate, checkpoint
      const done = step + 1;
      if (done % cfg.log_every === 0 || done === cfg.steps) {
        appendFileSync(metricsPath, JSON.stringify({ step: done, loss, ...logged, lr, grad_norm: gradNorm, ms_per_step: ms, tokens_per_s: tokens / (ms / 1000) }) + "\n");
      }
      const answer = logged.answer_loss !== undefined ? ` (answers ${logged.answer_loss.toFixed(4)})` : "";
      if (!opts.quiet) progress.update(done, `loss ${loss.toFixed(4)}${answer} lr ${lr.toExponential(2)} ${(tokens / (ms / 1000)).toFixed(0)} tok/s`);
      if (task.evaluate && cfg.eval_every > 0 && (done % cfg.eval_every === 0 || done === cfg.steps)) {
        lastEval = task.evaluate(done);
        appendFileSync(metricsPath, JSON.stringify({ step: done, eval: lastEval }) + "\n");
        if (!opts.quiet) progress.log(`step ${done} eval ${Object.entries(lastEval).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ")}`);
      }
      if (cfg.save_every > 0 && done % cfg.save_every === 0 && done < cfg.steps) saveTrainingCheckpoint(opts.outDir, task, opt, state(done));
      await new Promise((r) => setImmediate(r)); // let Ctrl-C's handler run
      if (interrupted) { step = done; break; }
    }
  } finally {
    process.off("SIGINT", onSigint);
    if (!opts.quiet) progress.finish();
  }
  saveTrainingCheckpoint(opts.outDir, task, opt, state(step));
  if (interrupted) log(`interrupted at step ${step}: checkpoint saved in ${opts.outDir}; resume with --resume ${opts.outDir}`);
  return { step, interrupted, losses, lastEval };
}
