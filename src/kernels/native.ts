// Loads the native kernel set (the C++ N-API addon built from native/ at install time) and wraps it
// as a `Kernels` object. The addon takes the same arguments as kernel.ts, except that unary/binary
// ops travel as their integer codes (UNARY_OPS, BINARY_OPS).
//
// Not here: choosing between the ts and native sets (index.ts does that, once), or building the
// addon (scripts/build-native.mjs). A missing or broken addon is reported as { error }, never thrown.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BINARY_OPS, UNARY_OPS, type Kernels } from "./kernel.js";

/** What the addon reports about itself. */
export interface NativeInfo {
  /** Instruction set in use: "avx512", "avx2" or "scalar". */
  simd: string;
  /** Threads used by the kernels, the calling thread included. */
  threads: number;
}

export type NativeSimd = "avx512" | "avx2" | "scalar";

/** The loaded native set, plus its controls. */
export interface NativeKernels {
  kernels: Kernels;
  info: NativeInfo;
  /** Sets the number of threads (>= 1, the calling thread included); returns the new info. */
  setThreads(n: number): NativeInfo;
  /** Lowers the instruction set (never above the CPU's); returns the new info. For tests and benchmarks. */
  setSimd(level: NativeSimd): NativeInfo;
}

// Kernels whose addon signature is identical to kernel.ts (everything except the op-coded ones).
type PlainKernelName = Exclude<keyof Kernels, "name" | "unary" | "unaryBackward" | "binary">;
type PlainKernels = Pick<Kernels, PlainKernelName>;

interface Addon extends PlainKernels {
  unary(op: number, out: Float32Array, x: Float32Array, n: number): void;
  unaryBackward(op: number, dx: Float32Array, dy: Float32Array, x: Float32Array, y: Float32Array, n: number): void;
  binary(op: number, out: Float32Array, a: Float32Array, b: Float32Array,
    shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  info(): NativeInfo;
  setThreads(n: number): NativeInfo;
  setSimd(level: string): NativeInfo;
}

const PLAIN_KERNELS: readonly PlainKernelName[] = [
  "matmul", "affine", "axpy", "accumulateStrided", "copyStrided", "sumAxis", "maxAxis",
  "softmaxForward", "softmaxBackward", "rmsNormForward", "rmsNormBackward", "layerNormForward", "layerNormBackward",
  "rope", "attentionForward", "attentionBackward", "gatherRows", "scatterAddRows",
  "crossEntropyForward", "crossEntropyBackward", "swigluForward", "swigluBackward", "adamwStep", "sumSquares",
];
const REQUIRED_EXPORTS: readonly string[] = [...PLAIN_KERNELS, "unary", "unaryBackward", "binary", "info", "setThreads",
  "setSimd"];

/**
 * Absolute path of the compiled addon: <package root>/native/build/Release/vlmc_native.node. This file
 * runs as src/kernels/native.ts (tests) and as dist/src/kernels/native.js (the CLI), so the package
 * root is found by walking up to the folder whose native/binding.gyp exists.
 */
export function nativeAddonPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, "native", "binding.gyp"))) break;
    dir = path.dirname(dir);
  }
  return path.join(dir, "native", "build", "Release", "vlmc_native.node");
}

export function loadNativeKernels(): NativeKernels | { error: string } {
  const file = nativeAddonPath();
  if (!existsSync(file)) return { error: "native addon not built (run `npm run build:native`)" };
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(file) as Addon;
  } catch (e) {
    return { error: `native addon failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
  const missing = REQUIRED_EXPORTS.filter((k) => typeof (addon as unknown as Record<string, unknown>)[k] !== "function");
  if (missing.length > 0) {
    return { error: `native addon is out of date (missing ${missing.join(", ")}); rebuild with \`npm run build:native\`` };
  }
  return {
    kernels: wrap(addon),
    info: addon.info(),
    setThreads: (n) => addon.setThreads(n),
    setSimd: (level) => addon.setSimd(level),
  };
}

function wrap(addon: Addon): Kernels {
  const plain = Object.fromEntries(PLAIN_KERNELS.map((k) => [k, addon[k]])) as unknown as PlainKernels;
  return {
    name: "native",
    ...plain,
    unary: (op, out, x, n) => addon.unary(UNARY_OPS[op], out, x, n),
    unaryBackward: (op, dx, dy, x, y, n) => addon.unaryBackward(UNARY_OPS[op], dx, dy, x, y, n),
    binary: (op, out, a, b, shape, aStrides, bStrides) =>
      addon.binary(BINARY_OPS[op], out, a, b, shape, aStrides, bStrides),
  };
}
