// The kernel registry: picks the kernel set once (native if it loads, else ts), lets tests and
// the CLI force one (VLMC_KERNELS=ts|native, or useKernels), and remembers why native is absent
// so the CLI can say it once. Ops get their kernels only through K().
import type { Kernels } from "./kernel.js";
import { loadNativeKernels } from "./native.js";
import { tsKernels } from "./ts/index.js";

export type KernelSetName = "ts" | "native";

export interface KernelStatus {
  /** The set in use. */
  name: KernelSetName;
  /** Why native is not in use, when it is not. */
  reason?: string;
  /** SIMD level and thread count of the native set, when loaded. */
  native?: { simd: string; threads: number };
}

let current: Kernels | null = null;
let status: KernelStatus | null = null;
let nativeCache: ReturnType<typeof loadNativeKernels> | null = null;

function native(): ReturnType<typeof loadNativeKernels> {
  nativeCache ??= loadNativeKernels();
  return nativeCache;
}

function envChoice(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.VLMC_KERNELS;
}

function init(): Kernels {
  const forced = envChoice();
  if (forced !== undefined && forced !== "" && forced !== "ts" && forced !== "native") {
    throw new Error(`VLMC_KERNELS=${forced}: expected "ts" or "native"`);
  }
  if (forced === "ts") return select("ts", "VLMC_KERNELS=ts");
  const n = native();
  if ("error" in n) {
    if (forced === "native") throw new Error(`VLMC_KERNELS=native but the native kernels could not load: ${n.error}`);
    return select("ts", n.error);
  }
  return select("native");
}

function select(name: KernelSetName, reason?: string): Kernels {
  if (name === "ts") {
    status = { name, reason };
    return (current = tsKernels);
  }
  const n = native();
  if ("error" in n) throw new Error(`native kernels unavailable: ${n.error}`);
  status = { name, native: n.info };
  return (current = n.kernels);
}

/** The kernel set in use (chosen on first call). */
export function K(): Kernels {
  return current ?? init();
}

/** Forces a kernel set for the rest of the process (tests, benchmarks). Throws if native cannot load. */
export function useKernels(name: KernelSetName): Kernels {
  return select(name, name === "ts" ? "selected explicitly" : undefined);
}

/** Which set is in use and, if it is ts, why. */
export function kernelStatus(): KernelStatus {
  K();
  return status as KernelStatus;
}

/** Every kernel set that can run here, ts first (for describe.each in tests). */
export function availableKernelSets(): KernelSetName[] {
  return "error" in native() ? ["ts"] : ["ts", "native"];
}

/** One line for the CLI: which kernel set is in use and why. */
export function describeKernels(): string {
  const s = kernelStatus();
  if (s.name === "native") return `kernels: native (${s.native?.simd}, ${s.native?.threads} threads)`;
  return `kernels: ts (${s.reason ?? "selected"})`;
}
