// `vlmc train <recipe>`: thin wrapper over train/run.ts.
import type { Command } from "commander";
import { parseOverrides } from "../train/config.js";
import { RECIPES, runRecipe, type RecipeName } from "../train/run.js";
import { runSuite } from "../train/suite.js";
import { VLM_DEFAULTS } from "../train/recipes/vlm.js";
import { UsageError, parsePositiveInt } from "./errors.js";

export function registerTrainCommands(program: Command): void {
  program
    .command("train")
    .description(`train a model with a recipe: ${Object.keys(RECIPES).join(", ")}`)
    .argument("<recipe>", `one of ${Object.keys(RECIPES).join(", ")}`)
    .option("--out <dir>", "output folder (checkpoints, metrics.jsonl); required to train")
    .option("--config <file>", "JSON file overriding the recipe defaults")
    .option("--set <key=value...>", "override config fields (after the file)")
    .option("--preset <name>", "model size: tiny, small, llava576, small-deep")
    .option("--steps <n>", "training steps")
    .option("--vision <dir>", "pretrained vision tower folder (recipes vlm, voco)")
    .option("--init <dir>", "start from this model folder's weights (recipes vlm, voco, atp)")
    .option("--tokens <n>", "number of <voco> tokens (recipe voco; with vlm: the upper-bound model)")
    .option("--distill <w>", "add the paper's KL term against --teacher with this weight (recipe voco)")
    .option("--teacher <dir>", "teacher model folder for --distill (the upper bound)")
    .option("--target-tokens <k>", "recipe atp: the average number of vision tokens to keep")
    .option("--freeze-llm", "recipe atp: train only the ATP modules (the paper's frozen variant)")
    .option("--resume <dir>", "resume from a checkpoint folder")
    .option("--stop-after <n>", "stop after n steps of this run with a resumable checkpoint, keeping the schedule of --steps (to train in stages)")
    .option("--print-config", "print the resolved defaults of the recipe and exit")
    .action(async (recipe: string, opts: { out?: string; config?: string; set?: string[]; preset?: string; steps?: string; vision?: string; init?: string; tokens?: string; distill?: string; teacher?: string; targetTokens?: string; freezeLlm?: boolean; resume?: string; stopAfter?: string; printConfig?: boolean }) => {
      if (!(recipe in RECIPES)) throw new UsageError(`unknown recipe "${recipe}" (expected ${Object.keys(RECIPES).join(", ")})`);
      const r = recipe as RecipeName;
      if (opts.printConfig) { console.log(JSON.stringify(RECIPES[r], null, 2)); return; }
      if (opts.out === undefined) throw new UsageError("--out <dir> is required: where checkpoints and metrics go");
      const out = opts.out;
      const overrides: Record<string, unknown> = {};
      try {
        Object.assign(overrides, parseOverrides(opts.set ?? [], RECIPES[r]));
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (opts.preset !== undefined) overrides.preset = opts.preset;
      if (opts.steps !== undefined) overrides.steps = parsePositiveInt("--steps", opts.steps);
      const vlmOnly = (flag: string) => { if (r === "vision") throw new UsageError(`${flag} does not apply to the vision recipe`); };
      if (opts.vision !== undefined) { vlmOnly("--vision"); overrides.vision = opts.vision; }
      if (opts.init !== undefined) { vlmOnly("--init"); overrides.init = opts.init; }
      if (opts.tokens !== undefined) {
        vlmOnly("--tokens");
        const n = parsePositiveInt("--tokens", opts.tokens);
        if (n > 128) throw new UsageError(`--tokens must be at most 128, got ${n}`);
        overrides.voco_tokens = n;
      }
      if (opts.distill !== undefined) {
        vlmOnly("--distill");
        const w = Number(opts.distill);
        if (!(w >= 0)) throw new UsageError(`--distill must be a non-negative number, got "${opts.distill}"`);
        overrides.distill = w;
      }
      if (opts.teacher !== undefined) { vlmOnly("--teacher"); overrides.teacher = opts.teacher; }
      if (opts.targetTokens !== undefined) {
        if (r !== "atp") throw new UsageError("--target-tokens applies to the atp recipe");
        overrides.atp_target_tokens = parsePositiveInt("--target-tokens", opts.targetTokens);
      }
      if (opts.freezeLlm) {
        if (r !== "atp") throw new UsageError("--freeze-llm applies to the atp recipe");
        overrides.atp_freeze_llm = true;
      }
      const stopAfter = opts.stopAfter === undefined ? undefined : parsePositiveInt("--stop-after", opts.stopAfter);
      const { result } = await runRecipe({ recipe: r, out, configFile: opts.config, overrides, resume: opts.resume, stopAfter });
      console.error(`${result.interrupted ? "stopped" : "finished"} at step ${result.step}; model in ${out}`);
      if (result.lastEval) console.log(JSON.stringify({ step: result.step, eval: result.lastEval }));
    });

  program
    .command("suite")
    .description("train every model the voco and prune benchmarks read, from a base VLM (resumable: run again to continue)")
    .requiredOption("--base <dir>", "the plain VLM folder every model starts from")
    .requiredOption("--out <dir>", "suite folder (one sub-folder per model)")
    .option("--preset <name>", "model size", "small")
    .option("--steps <n>", "steps per model", "1000")
    .option("--only <names>", "comma-separated subset of the jobs")
    .option("--set <key=value...>", "recipe fields for every job (e.g. questions=12 questions_per_type=3); each job's own settings win")
    .action(async (opts: { base: string; out: string; preset: string; steps: string; only?: string; set?: string[] }) => {
      let extra: Record<string, unknown>;
      try {
        extra = parseOverrides(opts.set ?? [], VLM_DEFAULTS);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      await runSuite({ out: opts.out, preset: opts.preset, base: opts.base, steps: parsePositiveInt("--steps", opts.steps),
        only: opts.only?.split(",").map((x) => x.trim()), extra, log: (l) => console.error(l) });
    });
}
