// LLaVA conversation-format datasets: a validating loader and a writer (Node only).
//
// Format (LLaVA-1.5 `llava_v1_5_mix665k.json` style): a JSON array (or JSONL, one record per line) of
//   {"id": "...", "image": "path.png", "conversations": [{"from": "human", "value": "<image>\n..."},
//                                                       {"from": "gpt", "value": "..."}, ...]}
// `image` may be omitted (text-only record) or be a list of paths: a clip's frames in time order
// under one <image> placeholder (this project's video convention), or several images with one
// <image> each (LLaVA-OneVision's multi-image convention). Paths are relative to the image root
// (default: the JSON file's folder) and must be PNG or JPEG.
// Every malformed record is reported with its index, id and field; the caller chooses to skip them
// (and gets the list) or to reject the file. Nothing is dropped silently.
// Not here: decoding pixels (image-io.ts), generating examples (stream.ts).

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { readImage, writePng } from "./image-io.js";
import type { RgbImage } from "./image.js";
import type { Example, Turn } from "./stream.js";

export interface LlavaRecord {
  id: string;
  /** Image path(s) relative to the image root; absent for text-only records. */
  image?: string | string[];
  conversations: Turn[];
  /** Question type tags, present in datasets written by this project. */
  types?: string[];
}

export interface RecordError {
  /** 0-based position in the array (JSONL: 0-based index among the non-empty lines). */
  index: number;
  id?: string;
  /** Path of the offending field, e.g. "conversations[2].from". */
  field: string;
  message: string;
}

export interface LoadOptions {
  /** "skip" (default): drop malformed records and return them in `errors`; "reject": throw. */
  onError?: "skip" | "reject";
  /** Check that every image file exists (default true for files, false for parseLlava). */
  checkImages?: boolean;
  /** Folder image paths are relative to (default: the JSON file's folder). */
  imageRoot?: string;
}

export interface LoadResult {
  records: LlavaRecord[];
  /** Original index of each kept record. */
  indices: number[];
  errors: RecordError[];
  /** Number of records in the file, kept or not. */
  total: number;
}

export class LlavaFormatError extends Error {
  constructor(
    readonly source: string,
    readonly errors: RecordError[],
  ) {
    super(`${source}: ${errors.length} malformed record(s); first: ${formatRecordError(errors[0])}`);
    this.name = "LlavaFormatError";
  }
}

export function formatRecordError(e: RecordError): string {
  return `record ${e.index}${e.id !== undefined ? ` (id ${e.id})` : ""}: ${e.field}: ${e.message}`;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Validate one raw record; returns the normalised record or the list of problems. */
export function validateRecord(raw: unknown, index: number): { record?: LlavaRecord; errors: RecordError[] } {
  const errors: RecordError[] = [];
  if (raw instanceof Unparsable) return { errors: [{ index, field: "(record)", message: `invalid JSON line: ${raw.line.slice(0, 60)}` }] };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { errors: [{ index, field: "(record)", message: "not a JSON object" }] };
  const r = raw as Record<string, unknown>;
  const id = typeof r.id === "string" && r.id !== "" ? r.id : typeof r.id === "number" ? String(r.id) : undefined;
  const err = (field: string, message: string) => errors.push({ index, id, field, message });
  if (id === undefined) err("id", r.id === undefined ? "missing" : "must be a non-empty string or a number");

  let images: string[] = [];
  if (r.image !== undefined) {
    images = typeof r.image === "string" ? [r.image] : Array.isArray(r.image) ? (r.image as unknown[]).map(String) : [];
    if (!(typeof r.image === "string" || (Array.isArray(r.image) && r.image.length > 0 && r.image.every((p) => typeof p === "string"))))
      err("image", "must be a path or a non-empty list of paths");
    else for (const p of images) if (!IMAGE_EXT.test(p)) err("image", `"${p}" is not a .png/.jpg/.jpeg file`);
  }

  const conv = r.conversations;
  if (!Array.isArray(conv) || conv.length === 0) err("conversations", "must be a non-empty list of turns");
  else {
    conv.forEach((t: unknown, i: number) => {
      const f = `conversations[${i}]`;
      if (typeof t !== "object" || t === null) return err(f, "not an object");
      const turn = t as Record<string, unknown>;
      const want = i % 2 === 0 ? "human" : "gpt";
      if (turn.from !== want) err(`${f}.from`, `expected "${want}" (turns alternate, human first), got ${JSON.stringify(turn.from)}`);
      if (typeof turn.value !== "string") err(`${f}.value`, "must be a string");
    });
    if (conv.length % 2 !== 0) err("conversations", "ends with a human turn (no answer)");
    const tags = conv.map((t) => String((t as { value?: unknown })?.value ?? "").split("<image>").length - 1);
    const total = tags.reduce((a, b) => a + b, 0);
    if (images.length === 0 && total > 0) err("conversations", `has ${total} <image> placeholder(s) but no image`);
    if (images.length > 0 && tags[0] === 0) err("conversations[0].value", "the first human turn must contain <image>");
    if (images.length > 0 && tags[0] > 0 && total !== 1 && total !== images.length)
      err("conversations", `${total} <image> placeholders for ${images.length} image(s) (expected 1 or one per image)`);
  }
  let types: string[] | undefined;
  if (r.types !== undefined) {
    if (Array.isArray(r.types) && r.types.every((t) => typeof t === "string")) types = r.types as string[];
    else err("types", "must be a list of strings");
  }
  if (errors.length > 0) return { errors };
  const record: LlavaRecord = { id: id!, conversations: (conv as Turn[]).map((t) => ({ from: t.from, value: t.value })) };
  if (r.image !== undefined) record.image = typeof r.image === "string" ? r.image : images;
  if (types) record.types = types;
  return { record, errors };
}

/** Parse and validate LLaVA JSON (or JSONL) text. `source` names the input in messages. */
export function parseLlava(text: string, source: string, opts: LoadOptions = {}): LoadResult {
  const raws = parseRecords(text, source);
  const out: LoadResult = { records: [], indices: [], errors: [], total: raws.length };
  const seen = new Map<string, number>();
  raws.forEach((raw, index) => {
    const { record, errors } = validateRecord(raw, index);
    if (record && seen.has(record.id))
      errors.push({ index, id: record.id, field: "id", message: `duplicate of record ${seen.get(record.id)}` });
    if (record && opts.checkImages) {
      const root = opts.imageRoot ?? ".";
      for (const p of [record.image ?? []].flat())
        if (!existsSync(resolve(root, p))) errors.push({ index, id: record.id, field: "image", message: `file not found: ${p}` });
    }
    if (errors.length > 0 || !record) out.errors.push(...errors);
    else {
      seen.set(record.id, index);
      out.records.push(record);
      out.indices.push(index);
    }
  });
  if (opts.onError === "reject" && out.errors.length > 0) throw new LlavaFormatError(source, out.errors);
  return out;
}

/** A JSONL line that is not valid JSON (reported as a malformed record, not a fatal error). */
class Unparsable {
  constructor(readonly line: string) {}
}

function parseRecords(text: string, source: string): unknown[] {
  const lines = text.split("\n");
  const nonEmpty = lines.filter((l) => l.trim() !== "");
  let whole: unknown;
  let wholeError: Error | undefined;
  try {
    whole = JSON.parse(text);
  } catch (e) {
    wholeError = e as Error;
  }
  if (Array.isArray(whole)) return whole;
  if (whole !== undefined && nonEmpty.length > 1)
    throw new Error(`${source}: the top level must be a JSON array of records (or JSONL, one record per line)`);
  if (whole !== undefined) return [whole]; // a one-line JSONL file
  if (text.trimStart().startsWith("[")) throw new Error(`${source}: invalid JSON (${wholeError!.message})`);
  // JSONL: one record per non-empty line; a line that does not parse becomes a malformed record.
  const records = nonEmpty.map((line) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      return new Unparsable(line);
    }
  });
  if (records.every((r) => r instanceof Unparsable)) throw new Error(`${source}: neither a JSON array nor JSONL`);
  return records;
}

/** Load a LLaVA JSON/JSONL file; image paths are checked against `imageRoot` (default: its folder). */
export function loadLlavaJson(path: string, opts: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseLlava(text, path, { ...opts, checkImages: opts.checkImages ?? true, imageRoot: opts.imageRoot ?? dirname(path) });
}

/** Absolute paths of a record's images, in order. */
export function recordImagePaths(record: LlavaRecord, imageRoot: string): string[] {
  return [record.image ?? []].flat().map((p) => resolve(imageRoot, p));
}

/** Decode a record's images (PNG, or JPEG with jpeg-js), in order; errors name the record and file. */
export function loadRecordImages(record: LlavaRecord, imageRoot: string): RgbImage[] {
  return recordImagePaths(record, imageRoot).map((p) => {
    try {
      return readImage(p);
    } catch (e) {
      throw new Error(`record ${record.id}: ${(e as Error).message}`);
    }
  });
}

/**
 * Write rendered examples as `<dir>/<name>.json` plus PNGs under `<dir>/images/` (a clip's frames
 * under `images/<id>/`). Records are streamed to the file, so any count fits in memory.
 */
export function writeLlavaDataset(dir: string, name: string, examples: Iterable<Example>): { records: number; images: number } {
  mkdirSync(join(dir, "images"), { recursive: true });
  const fd = openSync(join(dir, `${name}.json`), "w");
  let records = 0, images = 0;
  try {
    writeSync(fd, "[\n");
    for (const ex of examples) {
      if (ex.frames.length === 0) throw new Error(`example ${ex.id} has no pixels (render: false?)`);
      const paths = ex.kind === "image" ? [`images/${ex.id}.png`] : ex.frames.map((_, f) => `images/${ex.id}/f${String(f + 1).padStart(2, "0")}.png`);
      if (ex.kind === "video") mkdirSync(join(dir, "images", ex.id), { recursive: true });
      paths.forEach((p, f) => writePng(join(dir, p), { width: ex.width, height: ex.height, data: ex.frames[f] }));
      images += paths.length;
      const rec: LlavaRecord = { id: ex.id, image: ex.kind === "image" ? paths[0] : paths, conversations: ex.conversations, types: ex.qa.map((q) => q.type) };
      writeSync(fd, (records > 0 ? ",\n" : "") + JSON.stringify(rec));
      records++;
    }
    writeSync(fd, "\n]\n");
  } finally {
    closeSync(fd);
  }
  return { records, images };
}
