// safetensors: files assembled byte by byte here (independent of the writer), the reference
// implementation's own serialization examples, f16/bf16 rounding against a float64 reference written
// from the IEEE definitions, corrupted and truncated files, atomic file writes, checkpoint folders.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  loadCheckpointDir, loadSafetensorsFile, readSafetensors, saveCheckpointDir, saveSafetensorsFile, writeSafetensors,
} from "../../src/model/safetensors.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { randArray } from "../helpers/random.js";

const tmp = mkdtempSync(join(tmpdir(), "vlmc-st-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---- helpers written from the format description, not from the implementation ----------------

const utf8 = (s: string) => new TextEncoder().encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function u64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  for (let i = 0; i < 8; i++) b[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return b;
}

/** 8-byte size + header + data; `size` overrides the declared header size. */
function assemble(header: string, data: Uint8Array = new Uint8Array(0), size?: bigint): Uint8Array {
  const h = utf8(header);
  return concat(u64le(size ?? BigInt(h.length)), h, data);
}

function bytesOf(kind: "f32" | "f64" | "u16" | "i64" | "i32", values: (number | bigint)[]): Uint8Array {
  const size = { f32: 4, f64: 8, u16: 2, i64: 8, i32: 4 }[kind];
  const dv = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) => {
    if (kind === "f32") dv.setFloat32(i * 4, Number(v), true);
    else if (kind === "f64") dv.setFloat64(i * 8, Number(v), true);
    else if (kind === "u16") dv.setUint16(i * 2, Number(v), true);
    else if (kind === "i64") dv.setBigInt64(i * 8, BigInt(v), true);
    else dv.setInt32(i * 4, Number(v), true);
  });
  return new Uint8Array(dv.buffer);
}

/** IEEE binary16 / bfloat16 bits -> value, from the definitions. */
function refDecode(bits: number, expBits: number, mantBits: number): number {
  const bias = 2 ** (expBits - 1) - 1, expMax = 2 ** expBits - 1;
  const sign = bits >> (expBits + mantBits) ? -1 : 1;
  const e = (bits >> mantBits) & expMax, m = bits & (2 ** mantBits - 1);
  if (e === expMax) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * m * 2 ** (1 - bias - mantBits);
  return sign * (1 + m / 2 ** mantBits) * 2 ** (e - bias);
}
const f16 = (b: number) => refDecode(b, 5, 10);
const bf16 = (b: number) => refDecode(b, 8, 7);

/** x rounded to a float format with `mantBits` stored bits and min normal exponent `emin`, ties to even. */
function refRound(x: number, mantBits: number, emin: number, emax: number): number {
  if (Number.isNaN(x) || x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--; // log2 may be off by one next to powers of two
  while (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, emin) - mantBits);
  const q = a / ulp; // exact: ulp is a power of two
  let r = Math.floor(q);
  if (q - r > 0.5 || (q - r === 0.5 && r % 2 === 1)) r++;
  const v = r * ulp;
  return Math.sign(x) * (v >= 2 ** (emax + 1) ? Infinity : v);
}
const roundF16 = (x: number) => refRound(x, 10, -14, 15);
const roundBf16 = (x: number) => refRound(x, 7, -126, 127);

function storedBits(bytes: Uint8Array, name: string): Uint16Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
  const [b, e] = header[name].data_offsets;
  return new Uint16Array(bytes.slice(8 + n + b, 8 + n + e).buffer);
}

/** Interesting f32 values: specials, boundaries of both formats, ties, and random magnitudes. */
function probeValues(): number[] {
  const v = [0, -0, Infinity, -Infinity, NaN, 1, -1, 65504, 65519, 65520, 65536, 1e5, -1e5, 6.1e-5, 2 ** -14, 2 ** -24, 2 ** -25,
    3 * 2 ** -25, 2 ** -26, 1.5 * 2 ** -24, 1e-8, 1e-30, 1e-40, 1e-45, 3.4e38, -3.4e38, 2 ** -126, 2 ** -133, 2 ** -134, 3 * 2 ** -134];
  for (const base of [1, 2 ** -14, 2 ** -20, 2 ** -126, 2 ** 100]) {
    for (const m of [10, 7]) for (const k of [1, 3, 5]) v.push(base * (1 + k * 2 ** -(m + 1)), -base * (1 + k * 2 ** -(m + 1))); // ties
  }
  const r = randArray(3000, 7, -1, 1);
  for (let i = 0; i < r.length; i++) v.push(Math.fround(r[i] * 2 ** Math.round(r[(i + 1) % r.length] * 40)));
  return v.map(Math.fround);
}

// ---- reading hand-assembled files ------------------------------------------------------------

describe("safetensors read", () => {
  it("reads a hand-assembled file with every float dtype, integers, metadata, any key order and padding", () => {
    const w = bytesOf("f32", [1.5, -2, 3.25, 1e-45, Infinity, -0]);
    const h = bytesOf("u16", [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x8000, 0x7e00]);
    const b = bytesOf("u16", [0x3f80, 0x4049, 0xff80, 0x0001, 0x7fc0]);
    const ids = bytesOf("i64", [0n, 1n, 575n, -3n]);
    const d = bytesOf("f64", [0.1, -1e300]);
    const data = concat(w, h, b, new Uint8Array(2) /* e: 0 bytes */, ids, d).subarray(0);
    let at = 0;
    const off = (n: number) => { const r = `[${at},${at + n}]`; at += n; return r; };
    // keys deliberately not in offset order; the empty tensor sits between two others
    const header = `{"w":{"dtype":"F32","shape":[2,3],"data_offsets":${off(24)}},` +
      `"h":{"dtype":"F16","shape":[9],"data_offsets":${off(18)}},` +
      `"b":{"dtype":"BF16","shape":[5],"data_offsets":${off(10)}},` +
      `"pad":{"dtype":"U8","shape":[2],"data_offsets":${off(2)}},` +
      `"ids":{"dtype":"I64","shape":[1,4],"data_offsets":${off(32)}},` +
      `"__metadata__":{"format":"pt","note":"hand made"},` +
      `"e":{"dtype":"F32","shape":[0,4],"data_offsets":[${at},${at}]},` +
      `"d":{"dtype":"F64","shape":[2],"data_offsets":${off(16)}}}   `;
    const { tensors, metadata, dtypes } = readSafetensors(assemble(header, data), "hand.safetensors");
    expect(metadata).toEqual({ format: "pt", note: "hand made" });
    expect(tensors.get("w")!.shape).toEqual([2, 3]);
    expect(tensors.get("w")!.toArray()).toEqual([1.5, -2, 3.25, Math.fround(1e-45), Infinity, -0]);
    expect(Object.is(tensors.get("w")!.data[5], -0)).toBe(true);
    const hv = tensors.get("h")!.toArray();
    expect(hv.slice(0, 8)).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity, -0]);
    expect(Object.is(hv[7], -0) && Number.isNaN(hv[8])).toBe(true);
    const bv = tensors.get("b")!.toArray();
    expect(bv.slice(0, 4)).toEqual([1, 3.140625, -Infinity, 2 ** -133]);
    expect(Number.isNaN(bv[4])).toBe(true);
    expect(tensors.get("ids")!.toArray()).toEqual([0, 1, 575, -3]);
    expect(tensors.get("e")!.shape).toEqual([0, 4]);
    expect(tensors.get("d")!.toArray()).toEqual([Math.fround(0.1), -Infinity]);
    expect(Object.fromEntries(dtypes)).toEqual({ w: "F32", h: "F16", b: "BF16", pad: "U8", e: "F32", ids: "I64", d: "F64" });
  });

  it("decodes every f16 and bf16 bit pattern as IEEE defines it", () => {
    const all = Array.from({ length: 65536 }, (_, i) => i);
    const data = bytesOf("u16", all);
    const header = `{"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]},"b":{"dtype":"BF16","shape":[65536],"data_offsets":[131072,262144]}}`;
    const { tensors } = readSafetensors(assemble(header, concat(data, data)));
    const h = tensors.get("h")!.data, b = tensors.get("b")!.data;
    const bad = all.filter((i) => !Object.is(h[i], f16(i)) || !Object.is(b[i], Math.fround(bf16(i))));
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it("handles a file held at an odd offset inside a larger buffer", () => {
    const file = assemble(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, bytesOf("f32", [7, 8]));
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    expect(readSafetensors(big.subarray(3)).tensors.get("x")!.toArray()).toEqual([7, 8]);
  });
});

// ---- writing ---------------------------------------------------------------------------------

describe("safetensors write", () => {
  it("matches the reference implementation's serialization byte for byte", () => {
    const six = Tensor.from([0, 1, 2, 3, 4, 5], [1, 2, 3]);
    // safetensors tensor.rs test_serialization: 64-byte header, no padding needed
    expect(writeSafetensors(new Map([["attn.0", six]]))).toEqual(
      assemble(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, bytesOf("f32", [0, 1, 2, 3, 4, 5])));
    // test_serialization_forced_alignement: 65-byte JSON padded with 7 spaces to 72
    expect(writeSafetensors([["attn0", Tensor.from([0, 1, 2, 3, 4, 5], [1, 1, 2, 3])]])).toEqual(
      assemble(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `, bytesOf("f32", [0, 1, 2, 3, 4, 5])));
    // test_empty, with and without metadata
    expect(writeSafetensors([])).toEqual(assemble("{}      "));
    expect(writeSafetensors([], { metadata: { framework: "pt" } })).toEqual(assemble(`{"__metadata__":{"framework":"pt"}}     `));
  });

  it("writes tensors in sorted name order, contiguous, header padded to 8 bytes", () => {
    const bytes = writeSafetensors(new Map([["b", Tensor.from([1])], ["a.10", Tensor.from([2, 3])], ["a.2", Tensor.from([4])], ["0", Tensor.from([5])]]));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(`{"0":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a.10":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},` +
      `"a.2":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}`);
    expect(bytes.length).toBe(8 + n + 20);
  });

  it("round-trips F32 bit for bit, including NaN payloads, -0 and subnormals", () => {
    const v = probeValues();
    const t = new Tensor(Float32Array.from(v), [v.length]);
    new Uint32Array(t.data.buffer)[4] = 0x7fa00001; // a signalling NaN with a payload
    const back = readSafetensors(writeSafetensors([["x", t], ["s", Tensor.scalar(-0)]])).tensors;
    expect(Array.from(new Uint32Array(back.get("x")!.data.buffer))).toEqual(Array.from(new Uint32Array(t.data.buffer)));
    expect(back.get("s")!.shape).toEqual([]);
    expect(Object.is(back.get("s")!.item(), -0)).toBe(true);
  });

  for (const [dtype, round, decodeRef] of [["F16", roundF16, f16], ["BF16", roundBf16, bf16]] as const) {
    it(`rounds f32 to ${dtype} to nearest even (subnormals, ties, overflow, NaN) like the float64 reference`, () => {
      const v = probeValues();
      const bytes = writeSafetensors([["x", new Tensor(Float32Array.from(v), [v.length])]], { dtype });
      const bits = storedBits(bytes, "x");
      const wrong = v.map((x, i) => [x, decodeRef(bits[i]), round(x)]).filter(([, got, want]) => !Object.is(got, want));
      expect(wrong.slice(0, 5)).toEqual([]);
      // what the reader returns is what was stored
      const back = readSafetensors(bytes).tensors.get("x")!.data;
      expect(v.every((_, i) => Object.is(back[i], Math.fround(decodeRef(bits[i]))))).toBe(true);
    });

    it(`${dtype}: every representable value survives write + read exactly`, () => {
      const vals = Array.from({ length: 65536 }, (_, i) => decodeRef(i)).filter((x) => !Number.isNaN(x));
      const bytes = writeSafetensors([["x", new Tensor(Float32Array.from(vals), [vals.length])]], { dtype });
      const back = readSafetensors(bytes).tensors.get("x")!.data;
      expect(vals.filter((x, i) => !Object.is(back[i], Math.fround(x))).slice(0, 5)).toEqual([]);
    });
  }

  it("names the spec's tie cases explicitly", () => {
    const ties = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -25, 65520, 65519.99];
    const bits = storedBits(writeSafetensors([["x", Tensor.from(ties)]], { dtype: "F16" }), "x");
    expect(Array.from(bits)).toEqual([0x3c00, 0x3c02, 0x0000, 0x0002, 0x7c00, 0x7bff]);
    const bb = storedBits(writeSafetensors([["x", Tensor.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, NaN, -Infinity])]], { dtype: "BF16" }), "x");
    expect(Array.from(bb)).toEqual([0x3f80, 0x3f82, 0x7fc0, 0xff80]);
  });

  it("rejects duplicate and reserved tensor names", () => {
    expect(() => writeSafetensors([["a", Tensor.from([1])], ["a", Tensor.from([2])]])).toThrow(/duplicate tensor name "a"/);
    expect(() => writeSafetensors([["__metadata__", Tensor.from([1])]])).toThrow(/cannot be a tensor name/);
  });
});

// ---- rejection of bad files ------------------------------------------------------------------

describe("safetensors rejects bad files with a clear error", () => {
  const ok = `{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`;
  const six = bytesOf("f32", [1, 2, 3, 4, 5, 6]);
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty file", new Uint8Array(0), /f\.st: file is 0 bytes, shorter than the 8-byte header size/],
    ["5-byte file", new Uint8Array(5), /file is 5 bytes/],
    ["header size beyond the file", assemble(ok, six, 4096n), /header size 4096 runs past the end of the \d+-byte file/],
    ["absurd header size", assemble(ok, six, 2n ** 63n), /over the 100000000-byte limit/],
    ["header not UTF-8", concat(u64le(4n), Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)), /not valid UTF-8/],
    ["header not JSON", assemble(`{"w": {"dtype": "F32",`, six), /not valid JSON/],
    ["header not an object", assemble(`[1, 2]`), /does not start with "\{"/],
    ["entry not an object", assemble(`{"w": 5}`), /tensor "w": entry is not an object/],
    ["unknown dtype", assemble(ok.replace("F32", "F12"), six), /tensor "w": unknown dtype "F12"/],
    ["prototype key as dtype", assemble(ok.replace("F32", "constructor"), six), /tensor "w": unknown dtype "constructor"/],
    ["negative shape", assemble(ok.replace("[2,3]", "[2,-3]"), six), /tensor "w": shape must be a list of non-negative integers/],
    ["bad offsets", assemble(ok.replace("[0,24]", "[24,0]"), six), /tensor "w": data_offsets must be \[begin, end\]/],
    ["byte length != numel * size", assemble(ok.replace("[2,3]", "[2,2]"), six), /tensor "w": F32 \(2, 2\) needs 16 bytes, data_offsets \[0, 24\] hold 24/],
    ["offsets past the buffer (truncated)", assemble(ok, six.subarray(0, 20)), /tensor "w": data_offsets \[0, 24\] run past the 20-byte data buffer \(truncated/],
    ["trailing bytes", assemble(ok, concat(six, new Uint8Array(8))), /cover 24 bytes but the data buffer has 32: 8 unclaimed trailing bytes/],
    ["overlap", assemble(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, six), /tensors "a" and "b" overlap/],
    ["gap", assemble(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, six), /gap in the data buffer between "a" and "b" \(bytes 4\.\.8\)/],
    ["buffer not starting at 0", assemble(`{"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, six), /gap in the data buffer between "<start of data>" and "b"/],
    ["metadata not strings", assemble(`{"__metadata__":{"step":3},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`, six), /__metadata__\["step"\] must be a string/],
    ["I64 beyond f32's exact integers", assemble(`{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, bytesOf("i64", [16777217n])), /tensor "i": I64 value 16777217 at \[0\] is not exactly representable in f32/],
    ["FP8", assemble(`{"q":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}`, new Uint8Array(8)), /tensor "q": dtype F8_E4M3 cannot be read/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => expect(() => readSafetensors(bytes, "f.st")).toThrow(message));
  }

  it("every truncation of a valid file is rejected, from memory and from disk, naming the file", () => {
    const good = writeSafetensors([["a", Tensor.from([1, 2, 3])], ["b", Tensor.from([4, 5])]], { dtype: "F16", metadata: { k: "v" } });
    const path = join(tmp, "cut.safetensors");
    for (let len = 0; len < good.length; len++) {
      expect(() => readSafetensors(good.subarray(0, len), "cut")).toThrow(/^cut: /);
      writeFileSync(path, good.subarray(0, len));
      expect(() => loadSafetensorsFile(path)).toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
    }
  });
});

// ---- files and folders -----------------------------------------------------------------------

describe("safetensors files and checkpoint folders", () => {
  const tensors = new Map([
    ["model.embed_tokens.weight", new Tensor(Float32Array.from(randArray(40, 1)), [10, 4])],
    ["model.norm.weight", Tensor.from([1, 1, 1, 1])],
    ["lm_head.weight", new Tensor(Float32Array.from(randArray(40, 2)), [10, 4])],
  ]);

  it("saves atomically (no temporary file left) and loads back, with a tensor filter", () => {
    const path = join(tmp, "m.safetensors");
    saveSafetensorsFile(path, tensors, { metadata: { format: "pt" } });
    saveSafetensorsFile(path, tensors, { dtype: "BF16" }); // overwrite in place
    expect(readdirSync(tmp).filter((f) => f.includes(".tmp"))).toEqual([]);
    const back = loadSafetensorsFile(path);
    expect([...back.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    expect(back.dtypes.get("lm_head.weight")).toBe("BF16");
    const t = tensors.get("lm_head.weight")!;
    expect(back.tensors.get("lm_head.weight")!.toArray()).toEqual(t.toArray().map((x) => Math.fround(roundBf16(x))));
    expect(readSafetensors(readFileSync(path)).tensors.get("model.norm.weight")!.toArray()).toEqual([1, 1, 1, 1]);
    expect([...loadSafetensorsFile(path, (n) => n.startsWith("model.")).tensors.keys()].sort()).toEqual(["model.embed_tokens.weight", "model.norm.weight"]);
  });

  it("saves and loads a single-file and a sharded checkpoint folder with config.json", () => {
    const config = { architectures: ["LlamaForCausalLM"], hidden_size: 4, vocab_size: 10 };
    const one = join(tmp, "one"), sharded = join(tmp, "sharded");
    expect(saveCheckpointDir(one, tensors, { config })).toEqual(["model.safetensors"]);
    const files = saveCheckpointDir(sharded, tensors, { config, maxShardBytes: 200 });
    expect(files).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    const index = JSON.parse(readFileSync(join(sharded, "model.safetensors.index.json"), "utf8"));
    expect(index).toEqual({
      metadata: { total_size: 336 },
      weight_map: { "lm_head.weight": files[1], "model.embed_tokens.weight": files[0], "model.norm.weight": files[0] },
    });
    for (const dir of [one, sharded]) {
      const ck = loadCheckpointDir(dir);
      expect(ck.config).toEqual(config);
      for (const [name, t] of tensors) expect(ck.tensors.get(name)!.toArray()).toEqual(t.toArray());
    }
    // re-saving as one file removes the index, so the folder is never ambiguous
    saveCheckpointDir(sharded, tensors);
    expect(existsSync(join(sharded, "model.safetensors.index.json"))).toBe(false);
    expect(loadCheckpointDir(sharded).files).toEqual([join(sharded, "model.safetensors")]);
  });

  it("rejects inconsistent folders", () => {
    const dir = join(tmp, "bad");
    saveCheckpointDir(dir, tensors, { maxShardBytes: 200 });
    const indexPath = join(dir, "model.safetensors.index.json");
    const index = JSON.parse(readFileSync(indexPath, "utf8"));
    writeFileSync(indexPath, JSON.stringify({ ...index, weight_map: { ...index.weight_map, "model.norm.weight": "model-00002-of-00002.safetensors" } }));
    expect(() => loadCheckpointDir(dir)).toThrow(/model-00002-of-00002\.safetensors: lacks tensors the index puts there: model\.norm\.weight/);
    writeFileSync(indexPath, JSON.stringify({ weight_map: { "model.norm.weight": "model-00001-of-00002.safetensors" } }));
    expect(() => loadCheckpointDir(dir)).toThrow(/holds tensors the index does not put there: model\.embed_tokens\.weight/);
    writeFileSync(indexPath, JSON.stringify({ weight_map: { "x": "model-00009-of-00009.safetensors" } }));
    expect(() => loadCheckpointDir(dir)).toThrow(/shard model-00009-of-00009\.safetensors \(holding x and 0 more\) is missing/);
    writeFileSync(join(dir, "model.safetensors"), writeSafetensors([]));
    expect(() => loadCheckpointDir(dir)).toThrow(/has both model\.safetensors and model\.safetensors\.index\.json/);
    const pickled = join(tmp, "pickled");
    saveCheckpointDir(pickled, []);
    rmSync(join(pickled, "model.safetensors"));
    writeFileSync(join(pickled, "pytorch_model-00001-of-00002.bin"), "x");
    expect(() => loadCheckpointDir(pickled)).toThrow(/no model\.safetensors or model\.safetensors\.index\.json \(found pytorch_model-00001-of-00002\.bin: PyTorch pickles are not read/);
  });
});
