// `vlmc data ...`: look at, measure, write and check datasets (thin wrappers over src/data).
import type { Command } from "commander";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { contactSheet } from "../data/contact-sheet.js";
import { writePng } from "../data/image-io.js";
import { formatRecordError, loadLlavaJson, LlavaFormatError, writeLlavaDataset } from "../data/llava-json.js";
import { DIFFICULTIES, SPLITS, isDifficultyName, isSplit, type ExampleKind, type Split } from "../data/splits.js";
import { collectStats, type DatasetStats } from "../data/stats.js";
import { streamExamples, type ExampleOptions } from "../data/stream.js";
import { saveVocabFile } from "../train/model-dir.js";
import { buildVocab } from "../train/format.js";
import { UsageError } from "./errors.js";

interface GenFlags {
  split: string;
  seed: string;
  difficulty: string;
  size?: string;
  questions: string;
  start: string;
  video?: boolean;
}

/** File-system failures (missing folder, permissions) are the user's to fix: report them as usage errors. */
function userErrors<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (!(e instanceof UsageError) && typeof err.code === "string")
        throw new UsageError(`${err.path ?? ""}${err.path ? ": " : ""}${err.code} (${err.message})`);
      throw e;
    }
  };
}

function int(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function split(v: string): Split {
  if (!isSplit(v)) throw new UsageError(`--split must be one of ${SPLITS.join(", ")}, got "${v}"`);
  return v;
}

function exampleOptions(f: GenFlags, splitName: Split, render: boolean, size = 192): ExampleOptions & { start: number } {
  if (!isDifficultyName(f.difficulty))
    throw new UsageError(`--difficulty must be one of ${Object.keys(DIFFICULTIES).join(", ")}, got "${f.difficulty}"`);
  return {
    split: splitName,
    seed: int("--seed", f.seed, 0),
    difficulty: DIFFICULTIES[f.difficulty],
    size: f.size === undefined ? size : int("--size", f.size, 8),
    questions: int("--questions", f.questions, 1),
    start: int("--start", f.start, 0),
    render,
  };
}

function genOptions(cmd: Command, defaultSplit = "train"): Command {
  return cmd
    .option("--split <name>", `one of ${SPLITS.join(", ")}`, defaultSplit)
    .option("--seed <n>", "dataset seed", "0")
    .option("--difficulty <name>", `one of ${Object.keys(DIFFICULTIES).join(", ")}`, "medium")
    .option("--size <px>", "image side in pixels (default 192)")
    .option("--questions <n>", "questions per image or clip", "4")
    .option("--start <i>", "index of the first example", "0")
    .option("--video", "video clips (ShapesVideoQA) instead of images");
}

export function registerDataCommands(program: Command): void {
  const data = program.command("data").description("the generated ShapesQA / ShapesVideoQA data and LLaVA JSON files");
  registerShow(data);
  registerStats(data);
  registerWrite(data);
  registerCheck(data);
  registerVocab(data);
}

function registerShow(data: Command): void {
  genOptions(data.command("show").description("write a contact sheet PNG of examples with their questions and answers"))
    .option("--n <count>", "number of examples", "16")
    .option("--out <file>", "PNG file to write", "samples.png")
    .option("--columns <n>", "image cells per row", "2")
    .action(
      userErrors((f: GenFlags & { n: string; out: string; columns: string }) => {
        const kind: ExampleKind = f.video ? "video" : "image";
        // Clips show every frame side by side, so their frames default to half size.
        const opts = exampleOptions(f, split(f.split), true, f.video ? 96 : 192);
        const examples = [...streamExamples(kind, { ...opts, count: int("--n", f.n, 1) })];
        const title = `Shapes${f.video ? "Video" : ""}QA  split=${opts.split} seed=${opts.seed} difficulty=${f.difficulty} from #${opts.start}`;
        const sheet = contactSheet(examples, { columns: int("--columns", f.columns, 1), title });
        writePng(f.out, sheet);
        console.log(`wrote ${f.out} (${examples.length} ${kind}s, ${sheet.width}x${sheet.height})`);
      }),
    );
}

function registerStats(data: Command): void {
  genOptions(data.command("stats").description("count question types and answers per split (all splits by default)"), "all")
    .option("--n <count>", "examples per split and kind", "2000")
    .option("--kind <kind>", "image, video or both", "both")
    .option("--json", "print JSON: {split: {image: stats, video: stats}}")
    .action(
      userErrors((f: GenFlags & { n: string; kind: string; json?: boolean }) => {
        const splits = f.split === "all" ? [...SPLITS] : [split(f.split)];
        if (!["image", "video", "both"].includes(f.kind)) throw new UsageError(`--kind must be image, video or both, got "${f.kind}"`);
        const kinds: ExampleKind[] = f.kind === "both" ? ["image", "video"] : [f.kind as ExampleKind];
        const n = int("--n", f.n, 1);
        const out: Record<string, Partial<Record<ExampleKind, DatasetStats>>> = {};
        for (const s of splits) {
          out[s] = {};
          for (const k of kinds) out[s][k] = collectStats(streamExamples(k, { ...exampleOptions(f, s, false), count: n }));
        }
        console.log(f.json ? JSON.stringify(out, null, 2) : formatStats(out));
      }),
    );
}

function registerWrite(data: Command): void {
  genOptions(data.command("write").description("write examples as LLaVA JSON + PNG files (and the vocabulary as tokenizer.json)"))
    .requiredOption("--out <dir>", "output folder (created if missing)")
    .option("--n <count>", "number of examples", "100")
    .action(
      userErrors((f: GenFlags & { n: string; out: string }) => {
        const opts = exampleOptions(f, split(f.split), true);
        const kind: ExampleKind = f.video ? "video" : "image";
        const name = `${opts.split}${f.video ? "-video" : ""}`;
        const t0 = performance.now();
        const r = writeLlavaDataset(f.out, name, streamExamples(kind, { ...opts, count: int("--n", f.n, 1) }));
        const secs = (performance.now() - t0) / 1000;
        saveVocabFile(f.out, buildVocab()); // the vocabulary the models train with, as a HF tokenizer.json
        console.log(
          `wrote ${join(f.out, `${name}.json`)}: ${r.records} records, ${r.images} PNG files, tokenizer.json ` +
            `(${secs.toFixed(1)} s, ${(r.records / secs).toFixed(0)} examples/s)`,
        );
      }),
    );
}

function registerCheck(data: Command): void {
  data
    .command("check")
    .description("validate a LLaVA JSON/JSONL file and report malformed records")
    .argument("<file>", "LLaVA JSON (array) or JSONL file")
    .option("--image-root <dir>", "folder image paths are relative to (default: the file's folder)")
    .option("--no-images", "do not check that image files exist")
    .option("--strict", "exit with code 2 if any record is malformed")
    .action(
      userErrors((file: string, f: { imageRoot?: string; images: boolean; strict?: boolean }) => {
        let r;
        try {
          r = loadLlavaJson(file, { onError: "skip", checkImages: f.images, imageRoot: f.imageRoot });
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        for (const e of r.errors) console.error(`${file}: ${formatRecordError(e)}`);
        const bad = new Set(r.errors.map((e) => e.index)).size;
        console.log(`${file}: ${r.total} records, ${r.records.length} valid, ${bad} malformed`);
        if (f.strict && r.errors.length > 0) throw new UsageError(new LlavaFormatError(file, r.errors).message);
      }),
    );
}

function registerVocab(data: Command): void {
  data
    .command("vocab")
    .description("write the word-level vocabulary the models use as a Hugging Face tokenizer.json")
    .option("--out <dir>", "folder to write tokenizer.json (+ tokenizer_config.json, special_tokens_map.json) into", "tokenizer")
    .action(
      userErrors((f: { out: string }) => {
        const v = buildVocab();
        mkdirSync(f.out, { recursive: true });
        saveVocabFile(f.out, v);
        console.log(`wrote ${join(f.out, "tokenizer.json")} (${v.size} tokens)`);
      }),
    );
}

/** A plain-text table: per split and kind, per type, question count, top answer and its share. */
function formatStats(all: Record<string, Partial<Record<ExampleKind, DatasetStats>>>): string {
  const lines: string[] = [];
  for (const [s, byKind] of Object.entries(all)) {
    for (const [k, st] of Object.entries(byKind)) {
      lines.push(`${s} ${k}: ${st.examples} examples, ${st.questions} questions`);
      lines.push(`  ${"type".padEnd(16)} ${"questions".padStart(9)}  ${"answers".padStart(7)}  top answer (share)`);
      for (const [t, a] of Object.entries(st.types))
        lines.push(
          `  ${t.padEnd(16)} ${String(a.questions).padStart(9)}  ${String(Object.keys(a.answers).length).padStart(7)}  ` +
            `${a.top} (${(100 * a.maxShare).toFixed(1)}%)`,
        );
    }
  }
  return lines.join("\n");
}
