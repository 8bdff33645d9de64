// Runs the engine benchmark over the requested sets (our kernel sets and onnxruntime) and formats
// the result as a table or the JSON the issue specifies.
import type { KernelSetName } from "../src/kernels/index.js";
import { availableKernelSets } from "../src/kernels/index.js";
import { benchKernelSet, MATMUL_FORMS, MATMUL_SHAPES, matmulKey, type KernelSetResult } from "./engine.js";
import { benchOnnxruntime, type OrtResult } from "./engine-ort.js";

export type EngineBenchSet = KernelSetName | "onnxruntime";

export interface EngineBenchResult {
  ts?: KernelSetResult | { skipped: string };
  native?: KernelSetResult | { skipped: string };
  onnxruntime?: OrtResult | { skipped: string };
  prefill_ratio_native_vs_onnxruntime: number | null;
  machine: { cpus: number; node: string; date: string };
}

export async function runEngineBench(opts: { sets: EngineBenchSet[]; quick: boolean; log: (l: string) => void }): Promise<EngineBenchResult> {
  const os = await import("node:os");
  const result: EngineBenchResult = {
    prefill_ratio_native_vs_onnxruntime: null,
    machine: { cpus: os.cpus().length, node: process.version, date: new Date().toISOString() },
  };
  const available = availableKernelSets();
  // native and onnxruntime first and back to back: their ratio is the headline, and the slow ts
  // run should not sit between them while the machine's load drifts.
  const order: EngineBenchSet[] = ["native", "onnxruntime", "ts"].filter((s) => opts.sets.includes(s as EngineBenchSet)) as EngineBenchSet[];
  for (const set of order) {
    if (set === "onnxruntime") {
      opts.log("[onnxruntime] matmul and reference-model prefill");
      const r = await benchOnnxruntime({ quick: opts.quick, log: opts.log });
      result.onnxruntime = "error" in r ? { skipped: r.error } : r;
    } else if (!available.includes(set)) {
      result[set] = { skipped: "native kernels are not built or failed to load" };
    } else {
      result[set] = benchKernelSet(set, { quick: opts.quick, log: opts.log });
    }
  }
  const nat = result.native, ort = result.onnxruntime;
  if (nat && ort && !("skipped" in nat) && !("skipped" in ort)) {
    result.prefill_ratio_native_vs_onnxruntime = nat.prefill_tokens_per_s / ort.prefill_tokens_per_s;
  }
  return result;
}

function cell(r: KernelSetResult | OrtResult | { skipped: string } | undefined, get: (x: KernelSetResult | OrtResult) => number | undefined, digits = 1): string {
  if (r === undefined) return "-";
  if ("skipped" in r) return "skipped";
  const v = get(r);
  return v === undefined ? "-" : v.toFixed(digits);
}

export function formatEngineTable(r: EngineBenchResult): string {
  const cols: [string, EngineBenchResult[keyof Pick<EngineBenchResult, "ts" | "native" | "onnxruntime">]][] = [
    ["ts", r.ts], ["native", r.native], ["onnxruntime", r.onnxruntime],
  ];
  const rows: string[][] = [["", ...cols.map(([n]) => n)]];
  for (const [M, Kd, N] of MATMUL_SHAPES) for (const form of MATMUL_FORMS) {
    const key = matmulKey(M, Kd, N, form);
    rows.push([`matmul ${key} GFLOP/s`, ...cols.map(([, c]) => cell(c, (x) => x.matmul_gflops[key]))]);
  }
  rows.push(["attention fwd ms (T 640, 4x64)", ...cols.map(([, c]) => cell(c, (x) => ("attention_ms" in x ? x.attention_ms.forward : undefined), 2))]);
  rows.push(["attention bwd ms", ...cols.map(([, c]) => cell(c, (x) => ("attention_ms" in x ? x.attention_ms.backward : undefined), 2))]);
  rows.push(["train tokens/s (ref model, T 640)", ...cols.map(([, c]) => cell(c, (x) => ("train_tokens_per_s" in x ? x.train_tokens_per_s : undefined), 0))]);
  rows.push(["prefill tokens/s", ...cols.map(([, c]) => cell(c, (x) => x.prefill_tokens_per_s, 0))]);
  const widths = rows[0].map((_, j) => Math.max(...rows.map((row) => row[j].length)));
  const lines = rows.map((row) => row.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  "));
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  const ratio = r.prefill_ratio_native_vs_onnxruntime;
  lines.push("", `prefill native / onnxruntime: ${ratio === null ? "n/a" : ratio.toFixed(2) + "x"}`);
  const skipped = cols.filter(([, c]) => c !== undefined && "skipped" in c).map(([n, c]) => `${n}: ${(c as { skipped: string }).skipped}`);
  if (skipped.length > 0) lines.push(...skipped.map((s) => `skipped ${s}`));
  return lines.join("\n");
}
