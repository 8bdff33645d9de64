// safetensors: read and write the Hugging Face tensor file format, and whole checkpoint directories
// (`model.safetensors`, or shards listed by `model.safetensors.index.json`, plus `config.json`).
// Format (huggingface/safetensors README, safetensors/src/tensor.rs):
//   8 bytes   N, little-endian u64
//   N bytes   UTF-8 JSON: {"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets": [b, e]}, ...}
//             (the writer pads it with spaces to a multiple of 8 so every tensor starts aligned)
//   rest      the byte buffer; offsets are relative to its start, row-major, little-endian, and the
//             tensors must tile it exactly: no gaps, no overlaps, nothing after the last one.
// Everything is converted to f32 on read (our Tensor is f32). Read: F32, F16, BF16, F64, and the
// integer/bool types (I64/I32/I16/I8/U64/U32/U16/U8/BOOL) whose values must be exactly representable
// in f32 (|v| <= 2^24), else it is an error rather than a silent rounding. FP8 is rejected.
// Write: F32 (bit-exact), F16 and BF16 (round to nearest, ties to even; NaN stays NaN, overflow -> inf).
// Not here: tensor renaming between checkpoint layouts (checkpoint-names.ts).
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fmt, numel } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

export type WriteDtype = "F32" | "F16" | "BF16";

/** Bytes per element of every dtype the format defines (FP8 is known but not read). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
const MAX_HEADER_BYTES = 100_000_000; // the reference implementation's limit (100 MB)
const F32_EXACT_INT = 2 ** 24; // integers above this are not all representable in f32

export class SafetensorsError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = "SafetensorsError";
  }
}

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range in the data buffer: [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  /** The stored dtype of each tensor (the tensors themselves are f32). */
  dtypes: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------
// f16 / bf16 <-> f32

const f32Buf = new Float32Array(1);
const u32Buf = new Uint32Array(f32Buf.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** f16 bits -> value: sign * 2^(e-15) * 1.m, subnormals sign * 2^-24 * m, e = 31 is inf/NaN. */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** f32 value -> f16 bits, round to nearest even; overflow -> inf, NaN -> quiet NaN. */
export function numberToF16Bits(x: number): number {
  f32Buf[0] = x;
  const u = u32Buf[0];
  const sign = (u >>> 16) & 0x8000, exp = (u >>> 23) & 0xff, mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15; // rebias
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // f16 subnormal (or zero): value = hm * 2^-24 with hm = m24 * 2^(e-14), so drop 14 - e bits.
    if (e < -10) return sign; // below 2^-25: rounds to (signed) zero
    const m24 = mant | 0x800000, shift = 14 - e;
    const half = 1 << (shift - 1), rem = m24 & ((1 << shift) - 1);
    let hm = m24 >>> shift;
    if (rem > half || (rem === half && (hm & 1) === 1)) hm++; // may carry into the smallest normal: still right
    return sign | hm;
  }
  let h = (e << 10) + (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry may reach 0x7c00 = inf: right
  return sign | h;
}

/** f32 value -> bf16 bits (the top half of the f32), round to nearest even; NaN stays a quiet NaN. */
export function numberToBf16Bits(x: number): number {
  f32Buf[0] = x;
  const u = u32Buf[0];
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

let f16Table: Float32Array | null = null; // all 65536 f16 values, built on first use
function f16Values(): Float32Array {
  if (f16Table === null) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToNumber(h);
  }
  return f16Table;
}

// ---------------------------------------------------------------------------------------------
// Header parsing and validation

function isDims(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/**
 * Parses and checks a header against a data buffer of `dataBytes` bytes. Returns the entries in
 * offset order. Throws naming the file and tensor for any inconsistency.
 */
export function parseHeader(json: Uint8Array, dataBytes: number, source: string): { entries: TensorEntry[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(json);
  } catch {
    throw new SafetensorsError(source, "header is not valid UTF-8");
  }
  if (!text.startsWith("{")) throw new SafetensorsError(source, `header does not start with "{" (got ${JSON.stringify(text.slice(0, 16))}): not a safetensors file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(source, `header is not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new SafetensorsError(source, "header is not a JSON object");
  const metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (info === null || typeof info !== "object" || Array.isArray(info)) throw new SafetensorsError(source, "__metadata__ must be an object of strings");
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SafetensorsError(source, `__metadata__["${k}"] must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(checkEntry(name, info, dataBytes, source));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0, prev = "<start of data>";
  for (const t of entries) {
    if (t.begin < at) throw new SafetensorsError(source, `tensors "${prev}" and "${t.name}" overlap (byte ${t.begin} < ${at})`);
    if (t.begin > at) throw new SafetensorsError(source, `gap in the data buffer between "${prev}" and "${t.name}" (bytes ${at}..${t.begin})`);
    at = t.end;
    prev = t.name;
  }
  if (at !== dataBytes) throw new SafetensorsError(source, `tensors cover ${at} bytes but the data buffer has ${dataBytes}: ${dataBytes - at} unclaimed trailing bytes`);
  return { entries, metadata };
}

function checkEntry(name: string, info: unknown, dataBytes: number, source: string): TensorEntry {
  const where = `tensor "${name}"`;
  if (info === null || typeof info !== "object") throw new SafetensorsError(source, `${where}: entry is not an object`);
  const { dtype, shape, data_offsets: off } = info as Record<string, unknown>;
  if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype)) throw new SafetensorsError(source, `${where}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!isDims(shape)) throw new SafetensorsError(source, `${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!isDims(off) || off.length !== 2 || off[0] > off[1]) throw new SafetensorsError(source, `${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`);
  const [begin, end] = off;
  if (end > dataBytes) throw new SafetensorsError(source, `${where}: data_offsets [${begin}, ${end}] run past the ${dataBytes}-byte data buffer (truncated file?)`);
  const need = numel(shape) * DTYPE_BYTES[dtype];
  if (end - begin !== need) throw new SafetensorsError(source, `${where}: ${dtype} ${fmt(shape)} needs ${need} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
  return { name, dtype, shape, begin, end };
}

/** Reads the 8-byte header size and checks it against the file size. */
function headerSize(first8: Uint8Array, fileBytes: number, source: string): number {
  if (fileBytes < 8) throw new SafetensorsError(source, `file is ${fileBytes} bytes, shorter than the 8-byte header size (truncated or empty)`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(source, `header size ${n} is over the ${MAX_HEADER_BYTES}-byte limit: corrupt or not a safetensors file`);
  if (8n + n > BigInt(fileBytes)) throw new SafetensorsError(source, `header size ${n} runs past the end of the ${fileBytes}-byte file (truncated or not a safetensors file)`);
  return Number(n);
}

// ---------------------------------------------------------------------------------------------
// Decoding one tensor's bytes to f32

/**
 * Raw little-endian bytes of one tensor -> f32 values. `raw` must be a fresh buffer of its own
 * (offset 0, so aligned); an F32 result is a view of it, the other dtypes are converted.
 */
function decode(raw: Uint8Array, e: TensorEntry, source: string): Float32Array {
  if (!LITTLE_ENDIAN) throw new SafetensorsError(source, "big-endian hosts are not supported");
  const n = numel(e.shape), buf = raw.buffer, off = raw.byteOffset;
  switch (e.dtype) {
    case "F32": return new Float32Array(buf, off, n);
    case "F16": {
      const bits = new Uint16Array(buf, off, n), table = f16Values(), out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[bits[i]];
      return out;
    }
    case "BF16": {
      const bits = new Uint16Array(buf, off, n), out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = bits[i] << 16; // bf16 is the top half of an f32: exact
      return new Float32Array(out.buffer);
    }
    case "F64": return Float32Array.from(new Float64Array(buf, off, n)); // rounds to nearest f32
    case "I64": return exactInts(Array.from(new BigInt64Array(buf, off, n), Number), e, source);
    case "U64": return exactInts(Array.from(new BigUint64Array(buf, off, n), Number), e, source);
    case "I32": return exactInts(new Int32Array(buf, off, n), e, source);
    case "U32": return exactInts(new Uint32Array(buf, off, n), e, source);
    case "I16": return Float32Array.from(new Int16Array(buf, off, n));
    case "U16": return Float32Array.from(new Uint16Array(buf, off, n));
    case "I8": return Float32Array.from(new Int8Array(buf, off, n));
    case "U8": case "BOOL": return Float32Array.from(new Uint8Array(buf, off, n));
    default: throw new SafetensorsError(source, `tensor "${e.name}": dtype ${e.dtype} cannot be read (no f32 conversion)`);
  }
}

function exactInts(values: ArrayLike<number>, e: TensorEntry, source: string): Float32Array {
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]) > F32_EXACT_INT) throw new SafetensorsError(source, `tensor "${e.name}": ${e.dtype} value ${values[i]} at [${i}] is not exactly representable in f32`);
  }
  return Float32Array.from(values);
}

/** Copies bytes into a fresh buffer (aligned, and detached from a pooled or shared one). */
function aligned(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  out.set(src);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Parses a whole safetensors file held in memory; every tensor is converted to f32. */
export function readSafetensors(bytes: Uint8Array, source = "<bytes>"): SafetensorsContents {
  const n = headerSize(bytes.subarray(0, 8), bytes.length, source);
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, Tensor>(), dtypes = new Map<string, string>();
  for (const e of entries) {
    tensors.set(e.name, new Tensor(decode(aligned(data.subarray(e.begin, e.end)), e, source), e.shape));
    dtypes.set(e.name, e.dtype);
  }
  return { tensors, metadata, dtypes };
}

/**
 * Reads a safetensors file tensor by tensor (positioned reads, never the whole file at once, so
 * multi-GB shards work). `select` picks which tensors to convert; the header is always fully checked.
 */
export function loadSafetensorsFile(path: string, select: (name: string) => boolean = () => true): SafetensorsContents {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const first8 = new Uint8Array(8);
    readExactly(fd, first8.subarray(0, Math.min(8, size)), 0, path);
    const n = headerSize(first8, size, path);
    const header = new Uint8Array(n);
    readExactly(fd, header, 8, path);
    const { entries, metadata } = parseHeader(header, size - 8 - n, path);
    const tensors = new Map<string, Tensor>(), dtypes = new Map<string, string>();
    for (const e of entries) {
      if (!select(e.name)) continue;
      const raw = new Uint8Array(e.end - e.begin);
      readExactly(fd, raw, 8 + n + e.begin, path);
      tensors.set(e.name, new Tensor(decode(raw, e, path), e.shape));
      dtypes.set(e.name, e.dtype);
    }
    return { tensors, metadata, dtypes };
  } finally {
    closeSync(fd);
  }
}

function readExactly(fd: number, into: Uint8Array, position: number, path: string): void {
  let got = 0;
  while (got < into.length) {
    const k = readSync(fd, into, got, into.length - got, position + got);
    if (k === 0) throw new SafetensorsError(path, `unexpected end of file at byte ${position + got} (file changed while reading?)`);
    got += k;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface WriteOptions {
  /** Storage dtype for every tensor; default F32. */
  dtype?: WriteDtype;
  /** Free-form `__metadata__` strings (HF writes {"format": "pt"}). */
  metadata?: Record<string, string>;
}

type Named = ReadonlyMap<string, Tensor> | readonly (readonly [string, Tensor])[];

/** Entries sorted by name (UTF-16 code units, locale-independent), checking for duplicates. */
function sortedEntries(tensors: Named): [string, Tensor][] {
  const list = [...tensors] as [string, Tensor][];
  const seen = new Set<string>();
  for (const [name] of list) {
    if (name === "__metadata__") throw new SafetensorsError("write", `"__metadata__" cannot be a tensor name`);
    if (seen.has(name)) throw new SafetensorsError("write", `duplicate tensor name "${name}"`);
    seen.add(name);
  }
  return list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The 8-byte size plus the space-padded JSON header, for tensors in the given order. */
function encodeHeader(list: [string, Tensor][], dtype: WriteDtype, metadata: Record<string, string> | undefined): Uint8Array {
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let at = 0;
  for (const [name, t] of list) {
    const nbytes = t.size * DTYPE_BYTES[dtype];
    // Built by hand, not JSON.stringify(object): that would move integer-like names ("0") first.
    parts.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":[${at},${at + nbytes}]}`);
    at += nbytes;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = json.length + ((8 - (json.length % 8)) % 8); // align the data buffer to 8 bytes
  const out = new Uint8Array(8 + padded).fill(0x20, 8); // pad with spaces
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/** One tensor's data in the storage dtype, little-endian. */
function encodeData(t: Tensor, dtype: WriteDtype): Uint8Array {
  if (!LITTLE_ENDIAN) throw new SafetensorsError("write", "big-endian hosts are not supported");
  const x = t.data;
  if (dtype === "F32") return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const bits = new Uint16Array(x.length);
  const conv = dtype === "F16" ? numberToF16Bits : numberToBf16Bits;
  for (let i = 0; i < x.length; i++) bits[i] = conv(x[i]);
  return new Uint8Array(bits.buffer);
}

/** Serializes tensors (written in sorted name order, contiguous) to safetensors bytes. */
export function writeSafetensors(tensors: Named, opts: WriteOptions = {}): Uint8Array {
  const dtype = opts.dtype ?? "F32";
  const list = sortedEntries(tensors);
  const header = encodeHeader(list, dtype, opts.metadata);
  const chunks = list.map(([, t]) => encodeData(t, dtype));
  const out = new Uint8Array(header.length + chunks.reduce((s, c) => s + c.length, 0));
  out.set(header, 0);
  let at = header.length;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/** Writes `path` atomically: a temporary file in the same folder, fsync, then rename over `path`. */
function atomicWrite(path: string, write: (fd: number) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    write(fd);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** Saves tensors to a safetensors file, atomically (a crash leaves the old file or none, never half). */
export function saveSafetensorsFile(path: string, tensors: Named, opts: WriteOptions = {}): void {
  const dtype = opts.dtype ?? "F32";
  const list = sortedEntries(tensors);
  atomicWrite(path, (fd) => {
    writeAll(fd, encodeHeader(list, dtype, opts.metadata));
    for (const [, t] of list) writeAll(fd, encodeData(t, dtype)); // one tensor in memory at a time
  });
}

/** Writes a JSON file atomically, 2-space indented like HF's `config.json`. */
export function saveJsonFile(path: string, value: unknown): void {
  atomicWrite(path, (fd) => writeAll(fd, new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n")));
}

// ---------------------------------------------------------------------------------------------
// Checkpoint directories: HF's `model.safetensors` or sharded `model-0000i-of-0000n.safetensors`

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";
export const CONFIG_FILE = "config.json";

export interface CheckpointDir {
  tensors: Map<string, Tensor>;
  dtypes: Map<string, string>;
  /** Parsed `config.json`, or null when the folder has none. */
  config: Record<string, unknown> | null;
  /** The safetensors files read, in order. */
  files: string[];
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new SafetensorsError(path, `cannot read JSON (${(e as Error).message})`);
  }
}

function jsonObject(path: string): Record<string, unknown> {
  const v = readJson(path);
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new SafetensorsError(path, "expected a JSON object");
  return v as Record<string, unknown>;
}

/** The shard file of every tensor, from `model.safetensors.index.json`'s `weight_map`. */
function weightMap(path: string): Map<string, string[]> {
  const map = jsonObject(path).weight_map;
  if (map === null || typeof map !== "object" || Array.isArray(map)) throw new SafetensorsError(path, `"weight_map" must be an object {tensor name: shard file}`);
  const byFile = new Map<string, string[]>();
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== "string" || file.includes("/") || file.includes("\\")) throw new SafetensorsError(path, `weight_map["${name}"] must be a file name in the same folder, got ${JSON.stringify(file)}`);
    byFile.set(file, [...(byFile.get(file) ?? []), name]);
  }
  return byFile;
}

/**
 * Loads a HF checkpoint folder: `model.safetensors`, or the shards named by
 * `model.safetensors.index.json` (every indexed tensor must be in its shard and nowhere else), plus
 * `config.json` if present.
 */
export function loadCheckpointDir(dir: string): CheckpointDir {
  const single = join(dir, SINGLE_FILE), index = join(dir, INDEX_FILE);
  const config = existsSync(join(dir, CONFIG_FILE)) ? jsonObject(join(dir, CONFIG_FILE)) : null;
  if (existsSync(single) && existsSync(index)) throw new SafetensorsError(dir, `has both ${SINGLE_FILE} and ${INDEX_FILE}: remove the stale one`);
  if (existsSync(single)) {
    const { tensors, dtypes } = loadSafetensorsFile(single);
    return { tensors, dtypes, config, files: [single] };
  }
  if (!existsSync(index)) {
    const pickles = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".bin") || f.endsWith(".pt")) : [];
    const hint = pickles.length > 0 ? ` (found ${pickles.join(", ")}: PyTorch pickles are not read; convert them to safetensors)` : "";
    throw new SafetensorsError(dir, `no ${SINGLE_FILE} or ${INDEX_FILE}${hint}`);
  }
  const tensors = new Map<string, Tensor>(), dtypes = new Map<string, string>(), files: string[] = [];
  for (const [file, names] of weightMap(index)) {
    const path = join(dir, file);
    if (!existsSync(path)) throw new SafetensorsError(index, `shard ${file} (holding ${names[0]} and ${names.length - 1} more) is missing`);
    const shard = loadSafetensorsFile(path);
    const listed = new Set(names);
    const missing = names.filter((n) => !shard.tensors.has(n));
    const extra = [...shard.tensors.keys()].filter((n) => !listed.has(n));
    if (missing.length > 0) throw new SafetensorsError(path, `lacks tensors the index puts there: ${missing.join(", ")}`);
    if (extra.length > 0) throw new SafetensorsError(path, `holds tensors the index does not put there: ${extra.join(", ")}`);
    for (const [name, t] of shard.tensors) { tensors.set(name, t); dtypes.set(name, shard.dtypes.get(name)!); }
    files.push(path);
  }
  return { tensors, dtypes, config, files };
}

export interface SaveCheckpointOptions extends WriteOptions {
  /** Written as `config.json` when given. */
  config?: Record<string, unknown>;
  /** Start a new shard when the next tensor would exceed this many data bytes; default: one file. */
  maxShardBytes?: number;
}

/**
 * Saves a checkpoint folder the way HF does: one `model.safetensors`, or shards
 * `model-00001-of-0000n.safetensors` (filled in the given tensor order) with an index whose
 * `weight_map` names each tensor's shard. Every file is written atomically; the index goes last.
 */
export function saveCheckpointDir(dir: string, tensors: Named, opts: SaveCheckpointOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const dtype = opts.dtype ?? "F32", max = opts.maxShardBytes ?? Infinity;
  const shards: [string, Tensor][][] = [[]];
  let bytes = 0, total = 0;
  sortedEntries(tensors); // rejects duplicate and reserved names before anything is written
  for (const [name, t] of tensors) {
    const nbytes = t.size * DTYPE_BYTES[dtype];
    if (bytes > 0 && bytes + nbytes > max) { shards.push([]); bytes = 0; }
    shards[shards.length - 1].push([name, t]);
    bytes += nbytes;
    total += nbytes;
  }
  if (opts.config !== undefined) saveJsonFile(join(dir, CONFIG_FILE), opts.config);
  const write = { dtype, metadata: opts.metadata ?? { format: "pt" } };
  if (shards.length === 1) {
    saveSafetensorsFile(join(dir, SINGLE_FILE), shards[0], write);
    rmSync(join(dir, INDEX_FILE), { force: true });
    return [SINGLE_FILE];
  }
  const pad = (i: number) => String(i).padStart(5, "0");
  const names = shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
  const map: Record<string, string> = {};
  shards.forEach((shard, i) => {
    saveSafetensorsFile(join(dir, names[i]), shard, write);
    for (const [name] of shard) map[name] = names[i];
  });
  const sortedMap = Object.fromEntries(Object.keys(map).sort().map((k) => [k, map[k]]));
  saveJsonFile(join(dir, INDEX_FILE), { metadata: { total_size: total }, weight_map: sortedMap });
  rmSync(join(dir, SINGLE_FILE), { force: true });
  return names;
}
