// `vlmc eval` and `vlmc ask`: thin wrappers over eval/.
import type { Command } from "commander";
import { existsSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatDemo, keptNote, runDemo } from "../eval/demo.js";
import { readImage, writePng } from "../data/image-io.js";
import { showAtp } from "../eval/show-atp.js";
import { colourAttention } from "../eval/diagnose.js";
import type { AtpHooks } from "../compress/atp/hooks.js";
import type { VlmHooks } from "../model/vlm.js";
import { isSplit, SPLITS, type Split } from "../data/splits.js";
import { makeExample } from "../data/stream.js";
import { askImage } from "../eval/ask.js";
import { formatEvalReport, formatTemplates, runEvalReport, type Baseline } from "../eval/report.js";
import { describeKernels } from "../kernels/index.js";
import type { WriteDtype } from "../model/safetensors.js";
import { averageVlmDirs } from "../train/average.js";
import { exportVlmDir } from "../train/export.js";
import { loadVlmDir, methodOf } from "../train/model-dir.js";
import { describeMethod, hooksFor, hooksWithOverride, parsePruneOverride, type PruneOverride } from "../eval/method.js";
import { parsePositiveInt, UsageError } from "./errors.js";

export function registerEvalCommands(program: Command): void {
  program
    .command("eval")
    .description("accuracy per question type (with the blind baseline), FLOPs, prefill/decode time and KV-cache bytes")
    .requiredOption("--model <dir>", "model folder")
    .option("--split <split>", `one of ${SPLITS.join(", ")}`, "test")
    .option("--n <n>", "number of images (each with several questions)", "200")
    .option("--seed <s>", "dataset seed: evaluate fresh examples generated from this seed", "0")
    .option("--json", "print the results JSON on stdout")
    .option("--by-template", "also print accuracy and the most frequent answer per question template")
    .option("--out <file>", "also write the results JSON to this file")
    .option("--kind <kind>", "image or video (default: what the model was trained on)")
    .option("--voco-mask <on|off>", "override the VoCo mask of a model with <voco> tokens (off on a VoCo model: its upper bound; on for an upper-bound model: its lower bound)")
    .option("--against <dir>", "also evaluate this model folder on the same questions (with its own method) and print the difference with its paired standard error")
    .option("--prune <spec>", "override the pruning: none (an ATP model with its modules off) or fastv:LAYER:RATIO[:merge|:merge-avg] (FastV after 0-based LAYER dropping RATIO of the vision tokens; :merge counts each dropped token into its most similar kept one, weighting keys by log size; :merge-avg also averages the merged states, as ToMe)")
    .action((opts: { model: string; split: string; n: string; seed: string; json?: boolean; byTemplate?: boolean; out?: string; vocoMask?: string; kind?: string; prune?: string; against?: string }) => {
      if (!isSplit(opts.split)) throw new UsageError(`--split: "${opts.split}" is not one of ${SPLITS.join(", ")}`);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got "${opts.seed}"`);
      const { model, vocab, info } = loadVlmDir(opts.model);
      const method = methodOf(info);
      if (opts.vocoMask !== undefined) {
        if (opts.vocoMask !== "on" && opts.vocoMask !== "off") throw new UsageError(`--voco-mask must be on or off, got "${opts.vocoMask}"`);
        if (method.vocoTokens === 0) throw new UsageError(`--voco-mask: ${opts.model} has no <voco> tokens`);
        method.vocoMask = opts.vocoMask === "on";
      }
      const kind = opts.kind ?? (method.video ? "video" : "image");
      if (kind !== "image" && kind !== "video") throw new UsageError(`--kind must be image or video, got "${opts.kind}"`);
      if (opts.prune !== undefined && kind === "video") throw new UsageError("--prune applies to image evaluation");
      let prune: PruneOverride | null = null, hooks: VlmHooks | undefined;
      try {
        if (opts.prune !== undefined) prune = parsePruneOverride(opts.prune, model.cfg.num_hidden_layers);
        hooks = kind === "video" ? undefined : hooksWithOverride(method, model, opts.model, prune);
      } catch (e) {
        if (opts.prune === undefined) throw e; // a loading error of the model itself, not of the override
        throw new UsageError((e as Error).message);
      }
      const videoVoco = kind === "video" && method.vocoMask ? method.vocoTokens : 0;
      const described = prune === null ? describeMethod(method) : prune.kind === "none" ? "full vision tokens (--prune none)" : `FastV after layer ${prune.afterLayer} dropping ${(100 * prune.ratio).toFixed(1)}% (--prune)`;
      console.error(`${describeKernels()}; method: ${described}${kind === "video" ? " (video)" : ""}`);
      const against = opts.against === undefined ? undefined : baselineFor(opts.against, kind);
      const r = runEvalReport(model, vocab, {
        split: opts.split as Split, examples: parsePositiveInt("--n", opts.n), seed, hooks, vocoTokens: kind === "video" ? 0 : method.vocoTokens, kind, videoVocoTokens: videoVoco,
        onProgress: evalProgress(), against,
      });
      if (process.stderr.isTTY) process.stderr.write("\n");
      if (opts.out !== undefined) writeFileSync(opts.out, JSON.stringify(r, null, 2) + "\n");
      console.log(opts.json ? JSON.stringify(r, null, 2) : formatEvalReport(r) + (opts.byTemplate ? "\n\n" + formatTemplates(r) : ""));
    });

  program
    .command("ask")
    .description("answer a question about an image (PNG/JPEG file, or a generated scene)")
    .requiredOption("--model <dir>", "model folder")
    .option("--image <file>", "image file")
    .option("--scene-seed <n>", "generate a test scene from this index instead of reading a file")
    .option("--resize", "resize an image of another size to the model's input size")
    .option("--json", "print JSON")
    .argument("<question>", "the question")
    .action((question: string, opts: { model: string; image?: string; sceneSeed?: string; resize?: boolean; json?: boolean }) => {
      if ((opts.image === undefined) === (opts.sceneSeed === undefined)) throw new UsageError("give exactly one of --image FILE or --scene-seed N");
      const { model, vocab, info } = loadVlmDir(opts.model);
      const method = methodOf(info);
      const S = model.vcfg.vision.image_size;
      let img;
      if (opts.image !== undefined) img = readImage(opts.image);
      else {
        const ex = makeExample("image", Number(opts.sceneSeed), { split: "test", size: S, questions: 4 });
        img = { width: S, height: S, data: ex.frames[0] };
        if (!opts.json) console.error(`scene ${opts.sceneSeed}: ${ex.qa.map((q) => `${q.question} -> ${q.answer}`).join(" | ")}`);
      }
      let r;
      try {
        r = askImage(model, vocab, img, question, { resize: opts.resize, hooks: hooksFor(method, model, opts.model), vocoTokens: method.vocoTokens });
      } catch (e) {
        throw new UsageError(`${opts.image ?? "scene"}: ${(e as Error).message}`);
      }
      if (opts.json) { console.log(JSON.stringify(r, null, 2)); return; }
      console.log(r.answer === "" ? "(no answer: the model ended its reply at once)" : r.answer);
      const z = r.compression;
      const tokens = z === undefined ? `${r.tokens.vision} vision${keptNote(r.vision_per_layer, r.tokens.vision)}` : `image compressed into ${z.voco_tokens} VoCo token(s) (${(z.flops / 1e9).toFixed(3)} GFLOPs, ${z.ms.toFixed(0)} ms, cache ${r.kv_cache_bytes} bytes)`;
      console.error(`tokens: ${tokens}, ${r.tokens.prompt} prompt, ${r.tokens.generated} generated | ${(r.flops / 1e9).toFixed(3)} GFLOPs | ${r.ms.total.toFixed(0)} ms (prefill ${r.ms.prefill.toFixed(0)}, decode ${r.ms.decode.toFixed(0)}) | ${describeKernels()}`);
    });

  program
    .command("demo")
    .description("answer questions about a few generated scenes with the shipped models, with correctness and cost")
    .option("--models <dirs>", `comma-separated model folders (default: the shipped ${DEFAULT_DEMO_MODELS.join(", ")})`)
    .option("--scenes <n>", "number of scenes", "6")
    .option("--first <n>", "first test scene index", "0")
    .option("--json", "print JSON")
    .action((opts: { models?: string; scenes: string; first: string; json?: boolean }) => {
      // the shipped set: whichever of them this checkout has (the full model at least)
      const dirs = opts.models !== undefined ? opts.models.split(",").map((d) => d.trim()).filter((d) => d !== "")
        : DEFAULT_DEMO_MODELS.filter((d, i) => i === 0 || existsSync(resolveModelDir(d)));
      const models = dirs.map((dir) => {
        const { model, vocab, info } = loadVlmDir(resolveModelDir(dir));
        const method = methodOf(info);
        return { name: dir.split("/").filter(Boolean).pop() ?? dir, model, vocab, hooks: hooksFor(method, model, resolveModelDir(dir)), vocoTokens: method.vocoTokens };
      });
      console.error(describeKernels());
      const rows = runDemo(models, parsePositiveInt("--scenes", opts.scenes), Number(opts.first));
      console.log(opts.json ? JSON.stringify(rows.map((r) => ({ ...r, answers: r.answers.map((a) => ({ model: a.model, correct: a.correct, ...a.result })) })), null, 2) : formatDemo(rows));
    });
  program
    .command("show")
    .description("visualise a method: `show atp` writes a PNG of the tokens ATP keeps at each pruning layer")
    .argument("<what>", "atp")
    .argument("<question>", "the question")
    .requiredOption("--model <dir>", "an ATP model folder")
    .option("--scene-seed <n>", "test scene index", "0")
    .option("--image <file>", "an image file instead of a generated scene")
    .option("--out <file>", "PNG to write", "atp.png")
    .action((what: string, question: string, opts: { model: string; sceneSeed: string; image?: string; out: string }) => {
      if (what !== "atp") throw new UsageError(`show: unknown "${what}" (expected atp)`);
      const { model, vocab, info } = loadVlmDir(opts.model);
      const method = methodOf(info);
      if (method.atp === null) throw new UsageError(`${opts.model} has no ATP modules (train one with vlmc train atp)`);
      const hooks = hooksFor(method, model, opts.model) as AtpHooks;
      const S = model.vcfg.vision.image_size;
      const img = opts.image !== undefined ? readImage(opts.image)
        : { width: S, height: S, data: makeExample("image", Number(opts.sceneSeed), { split: "test", size: S }).frames[0] };
      if (img.width !== S || img.height !== S) throw new UsageError(`${opts.image}: the image is ${img.width}x${img.height}, the model expects ${S}x${S}`);
      const v = showAtp(model, vocab, hooks, img, question);
      writePng(opts.out, v.image);
      console.log(`${question} -> ${v.answer}; kept after each ATP layer: ${v.keptPerLayer.join(", ")} of ${(S / model.vcfg.vision.patch_size) ** 2}; wrote ${opts.out}`);
    });
  program
    .command("export")
    .description("copy a model folder compactly for shipping: f16/bf16 weights, no training state, ATP modules kept")
    .requiredOption("--model <dir>", "model folder (a training output)")
    .requiredOption("--out <dir>", "folder to write")
    .option("--dtype <dtype>", "bf16, f16 or f32", "bf16")
    .option("--json", "print JSON")
    .action((opts: { model: string; out: string; dtype: string; json?: boolean }) => {
      const dtype = parseDtype(opts.dtype);
      // the source folder's name only: a shipped config must not carry a path of the machine it was made on
      const r = exportVlmDir(opts.model, opts.out, dtype, { exported_from: basename(resolve(opts.model)) });
      if (opts.json) { console.log(JSON.stringify(r, null, 2)); return; }
      console.log(`wrote ${r.files.length} files, ${(r.bytes / 1e6).toFixed(1)} MB, to ${opts.out}`);
    });
  program
    .command("average")
    .description("average the weights of fine-tunes of one model (a model soup): same architecture, tokenizer and method")
    .requiredOption("--models <dirs>", "comma-separated model folders, at least two")
    .requiredOption("--out <dir>", "folder to write")
    .option("--dtype <dtype>", "bf16, f16 or f32", "f32")
    .option("--json", "print JSON")
    .action((opts: { models: string; out: string; dtype: string; json?: boolean }) => {
      const dtype = parseDtype(opts.dtype);
      const dirs = opts.models.split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (dirs.length < 2) throw new UsageError(`--models needs at least two comma-separated folders, got "${opts.models}"`);
      const r = averageVlmDirs(dirs, opts.out, dtype);
      if (opts.json) { console.log(JSON.stringify(r, null, 2)); return; }
      console.log(`averaged ${dirs.length} models: wrote ${r.files.length} files, ${(r.bytes / 1e6).toFixed(1)} MB, to ${opts.out}`);
    });
  program
    .command("diagnose")
    .description("where a model looks: attention on the asked colour's patches for existence questions, per layer")
    .requiredOption("--model <dir>", "model folder")
    .option("--images <n>", "validation images", "20")
    .option("--json", "print JSON")
    .action((opts: { model: string; images: string; json?: boolean }) => {
      const { model, vocab } = loadVlmDir(opts.model);
      const r = colourAttention(model, vocab, parsePositiveInt("--images", opts.images));
      if (opts.json) { console.log(JSON.stringify(r, null, 2)); return; }
      console.log(`attention on the asked colour's patches relative to their share (1 = no preference), ${r.images} images, layers 0-${r.colourWord.length - 1}`);
      console.log(`  colour word: ${r.colourWord.map((x) => x.toFixed(2)).join(" ")}`);
      console.log(`  last token:  ${r.lastToken.map((x) => x.toFixed(2)).join(" ")}`);
    });
}

/** The --against model with its own recorded method (pruning, VoCo tokens), as `vlmc eval` would run it. */
function baselineFor(dir: string, kind: "image" | "video"): Baseline {
  let loaded;
  try {
    loaded = loadVlmDir(dir);
  } catch (e) {
    throw new UsageError(`--against: ${(e as Error).message}`);
  }
  const { model, vocab, info } = loaded;
  const m = methodOf(info);
  if (kind === "video" && !m.video) throw new UsageError(`--against ${dir}: an image model, and this evaluation is on video`);
  return {
    label: dir, model, vocab, onProgress: evalProgress(`against ${dir}:`),
    hooks: kind === "video" ? undefined : hooksFor(m, model, dir),
    vocoTokens: kind === "video" ? 0 : m.vocoTokens,
    videoVocoTokens: kind === "video" && m.vocoMask ? m.vocoTokens : 0,
  };
}

function parseDtype(text: string): WriteDtype {
  const dtype = ({ bf16: "BF16", f16: "F16", f32: "F32" } as const)[text.toLowerCase() as "bf16" | "f16" | "f32"];
  if (dtype === undefined) throw new UsageError(`--dtype must be bf16, f16 or f32, got "${text}"`);
  return dtype;
}

/** A progress line rewritten in place on a terminal; otherwise a plain line every 10% (logs stay readable). */
function evalProgress(label = "eval"): (done: number, total: number) => void {
  let shown = -1;
  return (d, t) => {
    if (process.stderr.isTTY) { process.stderr.write(`\r${label} ${d}/${t} questions`); return; }
    const tenth = Math.floor((10 * d) / t);
    if (tenth > shown) { shown = tenth; process.stderr.write(`${label} ${d}/${t} questions\n`); }
  };
}

/** The shipped models, relative to the package (checkpoints/). */
const DEFAULT_DEMO_MODELS = ["checkpoints/small-vlm", "checkpoints/small-voco-1", "checkpoints/small-voco-8", "checkpoints/small-voco-pool-1", "checkpoints/small-voco-pool-8", "checkpoints/small-atp-25"];

/** A model folder given relative to the current directory, or else to the package root (shipped checkpoints). */
function resolveModelDir(dir: string): string {
  if (existsSync(dir)) return dir;
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
  const inPackage = join(root, dir);
  return existsSync(inPackage) ? inPackage : dir;
}
