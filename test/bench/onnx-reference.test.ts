// The onnxruntime reference graphs of bench/onnx-reference.ts against our engine (LLaMA logits) and
// a float64 loop (matmul forms). Skipped, with the reason, when onnxruntime-node cannot load.
import { afterAll, describe, expect, it } from "vitest";
import { timeItAsync } from "../../bench/timing.js";
import {
  benchOrtMatmul, benchOrtPrefill, buildLlamaOnnx, buildMatmulOnnx, loadOrt, matmulFeeds, ortUnavailableReason, OrtRunner,
  type LlamaOnnxStyle, type MatmulForm, type MatmulOp,
} from "../../bench/onnx-reference.js";
import { llamaConfigFromDict } from "../../src/model/config.js";
import { LlamaForCausalLM } from "../../src/model/llama.js";
import { noGrad } from "../../src/tensor/index.js";
import { expectAllclose } from "../helpers/allclose.js";
import { randArray } from "../helpers/random.js";

const ort = await loadOrt();
if (ort === null) console.warn(`skipping onnx-reference tests: ${ortUnavailableReason()}`);

// C = A·B in float64 from the stored layouts: A[m,k] = a[m*K+k] (or a[k*M+m] for tn), likewise B.
function matmulRef64(a: Float64Array, b: Float64Array, M: number, K: number, N: number, form: MatmulForm): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (form === "tn" ? a[k * M + m] : a[m * K + k]) * (form === "nt" ? b[n * K + k] : b[k * N + n]);
      c[m * N + n] = s;
    }
  }
  return c;
}

function tinyModel(): LlamaForCausalLM {
  // initializer_range 0.3 (not 0.02) so attention is far from uniform and RoPE/mask errors show
  const cfg = llamaConfigFromDict({
    vocab_size: 37, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, initializer_range: 0.3, rope_theta: 100,
  });
  const model = new LlamaForCausalLM(cfg, 7);
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith("norm.weight")) p.data.set(randArray(p.size, p.size + name.length, 0.5, 1.5)); // not all ones
  }
  return model;
}

it("timeItAsync: warm-up calls untimed, median of the timed runs", async () => {
  let calls = 0;
  const t = await timeItAsync(async () => { calls++; }, { warmup: 3, runs: 4 });
  expect(calls).toBe(7);
  expect(t.runsMs).toHaveLength(4);
  const s = [...t.runsMs].sort((a, b) => a - b);
  expect(t.medianMs).toBeCloseTo((s[1] + s[2]) / 2, 12);
});

describe.skipIf(ort === null)("onnxruntime reference graphs", () => {
  const runners: OrtRunner[] = [];
  afterAll(async () => { for (const r of runners) await r.release(); });
  const session = async (bytes: Uint8Array) => {
    const r = await OrtRunner.create(ort!, bytes);
    runners.push(r);
    return r;
  };

  it.each([["fused"], ["decomposed"]] as [LlamaOnnxStyle][])("LLaMA logits (%s graph) equal the engine's (4 heads, 2 kv heads, 2 layers, T=9)", async (style) => {
    const model = tinyModel(), cfg = model.cfg;
    const T = 9;
    const ids = Int32Array.from({ length: T }, (_, t) => (t * 11 + 3) % cfg.vocab_size);
    const ours = noGrad(() => model.forward(ids, 1, T));
    expect(ours.shape).toEqual([1, T, cfg.vocab_size]);
    const theirs = await (await session(buildLlamaOnnx(model, T, style))).logits(ids);
    expectAllclose(theirs, ours.data, { atol: 1e-4, rtol: 1e-4 }, `ORT (${style}) logits vs engine`);
  });

  it.each([["nn"], ["nt"], ["tn"]] as [MatmulForm][])("matmul form %s equals a float64 loop (MatMul and Gemm)", async (form) => {
    const [M, K, N] = [13, 17, 11];
    const a = randArray(M * K, 1), b = randArray(K * N, 2);
    const want = matmulRef64(a, b, M, K, N, form);
    for (const op of ["matmul", "gemm"] as MatmulOp[]) {
      const r = await session(buildMatmulOnnx(M, K, N, form, op));
      const out = await r.run(matmulFeeds(ort!, M, K, N, form, Float32Array.from(a), Float32Array.from(b)));
      expect(out.C.dims).toEqual([M, N]);
      expectAllclose(out.C.data as Float32Array, want, { atol: 1e-5, rtol: 1e-5 }, `${form} ${op}`);
    }
  });

  it("one-call measurements return timings (behaviour only, no speed assertions)", async () => {
    const p = await benchOrtPrefill(tinyModel(), Int32Array.from([1, 2, 3, 4, 5]), { warmup: 1, runs: 3, threads: 1 });
    expect(p.ok && p.runsMs.length === 3 && p.tokensPerS > 0 && p.threads === 1).toBe(true);
    const m = await benchOrtMatmul(8, 16, 4, "tn", { warmup: 1, runs: 3 });
    expect(m.ok && m.runsMs.length === 3 && m.gflops > 0).toBe(true);
  });
});
