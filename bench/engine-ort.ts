// onnxruntime's side of `vlmc bench engine`: the same matmuls and the same reference-model prefill
// (same weights, same ids) through onnxruntime-node, a dev dependency loaded only if present.
import { MATMUL_FORMS, MATMUL_SHAPES, matmulKey, referenceModel } from "./engine.js";
import { benchOrtMatmul, benchOrtPrefill } from "./onnx-reference.js";

export interface OrtResult {
  matmul_gflops: Record<string, number>;
  prefill_tokens_per_s: number;
  threads: number;
}

export async function benchOnnxruntime(opts: { quick: boolean; log: (l: string) => void }): Promise<OrtResult | { error: string }> {
  const timing = opts.quick ? { warmup: 1, runs: 3 } : { warmup: 2, runs: 9 };
  const matmul_gflops: Record<string, number> = {};
  let threads = 0;
  for (const [M, Kd, N] of MATMUL_SHAPES) for (const form of MATMUL_FORMS) {
    const r = await benchOrtMatmul(M, Kd, N, form, timing);
    if (!r.ok) return { error: r.reason };
    matmul_gflops[matmulKey(M, Kd, N, form)] = r.gflops;
    threads = r.threads;
    opts.log(`  matmul ${matmulKey(M, Kd, N, form).padEnd(18)} ${r.gflops.toFixed(1)} GFLOP/s`);
  }
  const { model, ids } = referenceModel();
  const p = await benchOrtPrefill(model, ids, timing);
  if (!p.ok) return { error: p.reason };
  opts.log(`  prefill ${p.tokensPerS.toFixed(0)} tok/s (${p.medianMs.toFixed(1)} ms)`);
  return { matmul_gflops, prefill_tokens_per_s: p.tokensPerS, threads };
}
