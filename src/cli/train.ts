// `vlmc train <recipe>`: thin wrapper over train/run.ts.
import type { Command } from "commander";
import { parseOverrides } from "../train/config.js";
import { RECIPES, runRecipe, type RecipeName } from "../train/run.js";
import { UsageError, parsePositiveInt } from "./errors.js";

export function registerTrainCommands(program: Command): void {
  program
    .command("train")
    .description(`train a model with a recipe: ${Object.keys(RECIPES).join(", ")}`)
    .argument("<recipe>", `one of ${Object.keys(RECIPES).join(", ")}`)
    .requiredOption("--out <dir>", "output folder (checkpoints, metrics.jsonl)")
    .option("--config <file>", "JSON file overriding the recipe defaults")
    .option("--set <key=value...>", "override config fields (after the file)")
    .option("--preset <name>", "model size: tiny, small, llava576")
    .option("--steps <n>", "training steps")
    .option("--vision <dir>", "pretrained vision tower folder (recipe vlm)")
    .option("--resume <dir>", "resume from a checkpoint folder")
    .option("--print-config", "print the resolved defaults of the recipe and exit")
    .action(async (recipe: string, opts: { out: string; config?: string; set?: string[]; preset?: string; steps?: string; vision?: string; resume?: string; printConfig?: boolean }) => {
      if (!(recipe in RECIPES)) throw new UsageError(`unknown recipe "${recipe}" (expected ${Object.keys(RECIPES).join(", ")})`);
      const r = recipe as RecipeName;
      if (opts.printConfig) { console.log(JSON.stringify(RECIPES[r], null, 2)); return; }
      const overrides: Record<string, unknown> = {};
      try {
        Object.assign(overrides, parseOverrides(opts.set ?? [], RECIPES[r]));
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (opts.preset !== undefined) overrides.preset = opts.preset;
      if (opts.steps !== undefined) overrides.steps = parsePositiveInt("--steps", opts.steps);
      if (opts.vision !== undefined) {
        if (r !== "vlm") throw new UsageError("--vision applies to the vlm recipe");
        overrides.vision = opts.vision;
      }
      const { result } = await runRecipe({ recipe: r, out: opts.out, configFile: opts.config, overrides, resume: opts.resume });
      console.error(`${result.interrupted ? "stopped" : "finished"} at step ${result.step}; model in ${opts.out}`);
      if (result.lastEval) console.log(JSON.stringify({ step: result.step, eval: result.lastEval }));
    });
}
