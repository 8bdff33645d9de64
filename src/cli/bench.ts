// `vlmc bench ...`: thin wrappers that run a benchmark from bench/ and print a table or JSON.
import type { Command } from "commander";
import { writeFileSync } from "node:fs";
import { runEngineBench, formatEngineTable, type EngineBenchSet } from "../../bench/engine-report.js";
import { benchModel, formatModelTable } from "../../bench/model.js";
import { formatVocoTable, runVocoBench } from "../../bench/voco.js";
import { formatPruneTable, runPruneBench } from "../../bench/prune.js";
import { describeKernels } from "../kernels/index.js";
import { PRESET_NAMES, type PresetName } from "../model/presets.js";
import { parsePositiveInt, UsageError } from "./errors.js";

const ALL_SETS: readonly EngineBenchSet[] = ["ts", "native", "onnxruntime"];

export function registerBenchCommands(program: Command): void {
  const bench = program.command("bench").description("measure speed (median of several runs after warm-up)");
  bench
    .command("engine")
    .description("tensor engine: matmul GFLOP/s, attention, reference-model train and prefill tokens/s per kernel set, against onnxruntime")
    .option("--json", "print one JSON object on stdout (progress goes to stderr)")
    .option("--quick", "fewer runs per figure (noisier)")
    .option("--sets <list>", `comma-separated subset of ${ALL_SETS.join(",")}`, ALL_SETS.join(","))
    .option("--out <file>", "also write the JSON to this file")
    .action(async (opts: { json?: boolean; quick?: boolean; sets: string; out?: string }) => {
      const sets = opts.sets.split(",").map((s) => s.trim()).filter((s) => s !== "");
      for (const s of sets) {
        if (!ALL_SETS.includes(s as EngineBenchSet)) throw new UsageError(`--sets: unknown kernel set "${s}" (expected ${ALL_SETS.join(", ")})`);
      }
      console.error(describeKernels());
      const result = await runEngineBench({ sets: sets as EngineBenchSet[], quick: opts.quick ?? false, log: (l) => console.error(l) });
      const json = JSON.stringify(result, null, 2);
      if (opts.out !== undefined) writeFileSync(opts.out, json + "\n");
      console.log(opts.json ? json : formatEngineTable(result));
    });
  bench
    .command("model")
    .description("VLM speed per preset: ViT, prefill (one image + 20-token question), decode, KV-cache bytes, FLOPs")
    .option("--json", "print JSON on stdout")
    .option("--quick", "fewer runs per figure")
    .option("--presets <list>", "comma-separated presets", "small,llava576")
    .action((opts: { json?: boolean; quick?: boolean; presets: string }) => {
      const presets = parsePresets(opts.presets);
      console.error(describeKernels());
      const rows = presets.map((p) => benchModel(p, opts.quick ?? false, (l) => console.error(l)));
      console.log(opts.json ? JSON.stringify(Object.fromEntries(rows.map((r) => [r.preset, r])), null, 2) : formatModelTable(rows));
    });
  bench
    .command("voco")
    .description("VoCo-LLaMA: accuracy and retention per token count against its bounds and average pooling, and cached-inference cost")
    .option("--models <dir>", "folder of trained models: upper/, voco-N/, pool-N/ (accuracy part; omitted: costs only)")
    .option("--n <n>", "test images for accuracy (several questions each)", "100")
    .option("--presets <list>", "model sizes for the cost part", "small,llava576")
    .option("--tokens <list>", "VoCo token counts for the cost part", "1,8")
    .option("--json", "print JSON on stdout")
    .action((opts: { models?: string; n: string; presets: string; tokens: string; json?: boolean }) => {
      const presets = parsePresets(opts.presets);
      const tokens = opts.tokens.split(",").map((t) => parsePositiveInt("--tokens", t.trim()));
      console.error(describeKernels());
      const r = runVocoBench({ models: opts.models, n: parsePositiveInt("--n", opts.n), presets, tokens, log: (l) => console.error(l) });
      console.log(opts.json ? JSON.stringify(r, null, 2) : formatVocoTable(r));
    });
  bench
    .command("prune")
    .description("ATP against the full model, FastV and PyramidDrop at matched kept fraction, and ATP ablations")
    .requiredOption("--models <dir>", "folder with full/ (the full model) and atp-*/ models (vlmc train suite writes it)")
    .option("--n <n>", "test images (several questions each)", "100")
    .option("--targets <list>", "extra kept fractions for FastV and PyramidDrop", "0.25,0.15")
    .option("--plot <file>", "write an SVG plot of accuracy against FLOPs")
    .option("--json", "print JSON on stdout")
    .action((opts: { models: string; n: string; targets: string; plot?: string; json?: boolean }) => {
      const targets = opts.targets.split(",").map((t) => Number(t));
      if (targets.some((t) => !(t > 0 && t <= 1))) throw new UsageError(`--targets must be fractions in (0, 1], got "${opts.targets}"`);
      console.error(describeKernels());
      const r = runPruneBench({ models: opts.models, n: parsePositiveInt("--n", opts.n), targets, plot: opts.plot, log: (l) => console.error(l) });
      console.log(opts.json ? JSON.stringify(r, null, 2) : formatPruneTable(r));
    });
}

function parsePresets(list: string): PresetName[] {
  const presets = list.split(",").map((s) => s.trim());
  for (const p of presets) if (!PRESET_NAMES.includes(p as PresetName)) throw new UsageError(`--presets: unknown preset "${p}" (expected ${PRESET_NAMES.join(", ")})`);
  return presets as PresetName[];
}
