// The paper-style model suite for the benchmarks: every model `vlmc bench voco` and `vlmc bench prune`
// read, trained one after another from the base VLM. Resumable: a finished job is skipped, an
// interrupted one continues from its checkpoint. Reports progress and an ETA over the whole suite.
import { join } from "node:path";
import { runRecipe, type RecipeName } from "./run.js";
import { trainingProgress } from "./trainer.js";

export interface SuiteJob {
  name: string;
  recipe: RecipeName;
  overrides: Record<string, unknown>;
}

/**
 * The jobs, all fine-tuned from `base` (the plain VLM folder) for `steps` steps each; `extra` (e.g. the
 * data options questions=12 questions_per_type=3) applies to every job, under each job's own settings.
 */
export function suiteJobs(preset: string, base: string, steps: number, extra: Record<string, unknown> = {}): SuiteJob[] {
  // extra may change eval/save cadence and data options, never the base, the preset or the step count
  const common = { eval_every: 0, save_every: 100, ...extra, preset, init: base, steps };
  const video = { ...common, video: true, batch_size: 2, type_blocks: "" };
  const jobs: SuiteJob[] = [
    { name: "full", recipe: "vlm", overrides: { ...common } }, // the full model, trained as long as the others
    { name: "upper", recipe: "vlm", overrides: { ...common, voco_tokens: 1 } }, // VoCo tokens inserted, no mask
    ...[1, 2, 4, 8, 16, 32].map((N) => ({ name: `voco-${N}`, recipe: "voco" as const, overrides: { ...common, voco_tokens: N } })),
    // a vlmc option, not in the paper: <voco> tokens start from the average-pooled tokens of their region
    ...[1, 8].map((N) => ({ name: `voco-pool-${N}`, recipe: "voco" as const, overrides: { ...common, voco_tokens: N, voco_pool_init: true } })),
    ...[1, 8].map((N) => ({ name: `pool-${N}`, recipe: "vlm" as const, overrides: { ...common, pool_tokens: N } })),
    // ATP modules at the recipe's depth-aware default layers (0,2,4 of 6; 0,4,8 of 12) unless extra names atp_layers
    { name: "atp-25", recipe: "atp", overrides: { ...common, atp_target: 0.25 } },
    { name: "atp-15", recipe: "atp", overrides: { ...common, atp_target: 0.15 } },
    { name: "atp-25-nosap", recipe: "atp", overrides: { ...common, atp_target: 0.25, atp_sap: false } },
    { name: "atp-25-nocross", recipe: "atp", overrides: { ...common, atp_target: 0.25, atp_cross: false } },
    // a vlmc option, not in the paper: the answer distribution of the unpruned base as an extra KL target
    { name: "atp-25-distill", recipe: "atp", overrides: { ...common, atp_target: 0.25, distill: 1, teacher: base } },
    // type blocks schedule image question types: a suite-wide type_blocks must not stop the video jobs
    { name: "video-full", recipe: "vlm", overrides: { ...video } },
    ...[2, 8].map((N) => ({ name: `video-voco-${N}`, recipe: "voco" as const, overrides: { ...video, voco_tokens: N } })),
  ];
  return jobs;
}

export async function runSuite(o: { out: string; preset: string; base: string; steps: number; only?: string[]; extra?: Record<string, unknown>; log: (l: string) => void }): Promise<void> {
  const all = suiteJobs(o.preset, o.base, o.steps, o.extra);
  const unknown = (o.only ?? []).filter((n) => !all.some((j) => j.name === n));
  if (unknown.length > 0) throw new Error(`--only: no job named ${unknown.join(", ")} (jobs: ${all.map((j) => j.name).join(", ")})`);
  // --only's order is the run order: the job a person names first is the one they want first
  const jobs = o.only === undefined ? all : o.only.map((n) => all.find((j) => j.name === n)!);
  const t0 = performance.now();
  let doneJobs = 0;
  for (const [i, job] of jobs.entries()) {
    const dir = join(o.out, job.name);
    const done = trainingProgress(dir)?.step ?? 0;
    if (done >= o.steps) { o.log(`[${i + 1}/${jobs.length}] ${job.name}: done, skipped`); continue; }
    const elapsed = performance.now() - t0;
    const eta = doneJobs > 0 ? ((elapsed / doneJobs) * (jobs.length - i)) / 60000 : NaN;
    o.log(`[${i + 1}/${jobs.length}] ${job.name} (${job.recipe}${done > 0 ? `, resuming at step ${done}` : ""})${Number.isFinite(eta) ? `, suite ETA ${eta.toFixed(0)} min` : ""}`);
    const r = await runRecipe({ recipe: job.recipe, out: dir, overrides: done > 0 ? {} : job.overrides, resume: done > 0 ? dir : undefined, log: o.log });
    if (r.result.interrupted) { o.log("suite interrupted: run the same command again to continue"); return; }
    doneJobs++;
  }
  o.log(`suite complete in ${((performance.now() - t0) / 60000).toFixed(1)} min: ${o.out}`);
}
