// onnxruntime-node as the reference engine for `vlmc bench engine`: builds ONNX graphs for our LLaMA
// decoder (weights as initializers) and for the three matmul forms, runs them in the same process
// and times them. Not a model exporter for deployment: the LLaMA graph is built for one fixed T
// (RoPE tables and the causal mask are initializers for positions 0..T-1) and batch 1.
// onnxruntime-node and onnx-proto are dev dependencies, loaded lazily: without them the bench
// reports the reason and skips this side (loadOrt, loadOnnxProto).
// Two LLaMA graph styles, both checked against the engine in test/bench/onnx-reference.test.ts:
//   "fused" (default, fastest measured): opset 23 RMSNormalization, RotaryEmbedding and Attention
//     (is_causal, kv heads shared natively), i.e. onnxruntime's own fused kernels.
//   "decomposed": opset 17 primitives in the patterns onnxruntime fuses (SimplifiedLayerNormFusion,
//     MatMulTransposeFusion, MatMulScaleFusion, QuickGeluFusion); attention as MatMul/Softmax.
// References: ONNX operator specs (opsets 17, 23); HF transformers modeling_llama.py (rotate_half,
// repeat_kv); onnxruntime graph optimizations (onnxruntime/core/optimizer).
// Legend: T tokens, C hidden, NH heads, NKV kv heads, HS head size, V vocab.
import { createRequire } from "node:module";
import os from "node:os";
import type { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import type { onnx as OnnxNs } from "onnx-proto";
import type { LlamaAttention, LlamaForCausalLM } from "../src/model/llama.js";
import { Rng } from "../src/tensor/random.js";
import { Tensor } from "../src/tensor/tensor.js";
import { timeItAsync, type Timing } from "./timing.js";

export type Ort = typeof import("onnxruntime-node");
type Onnx = typeof OnnxNs;
export type MatmulForm = "nn" | "nt" | "tn";

/** ONNX IR version for each default-domain opset used here (opset 17 -> IR 8, opset 23 -> IR 11). */
const IR_VERSION: Record<number, number> = { 17: 8, 23: 11 };

let ortLoad: Promise<Ort | null> | null = null;
let ortReason = "";

/** Loads onnxruntime-node (and onnx-proto) once; null, with `ortUnavailableReason()`, when either is missing or broken. */
export async function loadOrt(): Promise<Ort | null> {
  ortLoad ??= (async () => {
    try {
      const ort = (await import("onnxruntime-node")) as Ort;
      if (typeof ort.InferenceSession?.create !== "function") throw new Error("InferenceSession missing from the module");
      loadOnnxProto(); // the graphs cannot be built without it, so ORT alone is of no use
      return ort;
    } catch (e) {
      ortReason = `onnxruntime reference unavailable: ${(e as Error).message.split("\n")[0]}`;
      return null;
    }
  })();
  return ortLoad;
}

export function ortUnavailableReason(): string {
  return ortReason;
}

let onnxProto: Onnx | null = null;

/** The protobufjs ONNX classes (onnx-proto is CommonJS, so a synchronous require works here). */
function loadOnnxProto(): Onnx {
  if (onnxProto !== null) return onnxProto;
  try {
    const mod = createRequire(import.meta.url)("onnx-proto") as { onnx: Onnx };
    onnxProto = mod.onnx;
    return onnxProto;
  } catch (e) {
    throw new Error(`building ONNX graphs needs the dev dependency onnx-proto: ${(e as Error).message.split("\n")[0]}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Graph builder: named values, nodes in topological order, float32/int64 initializers.

/** Node attribute: an integer, a list of integers, or `{ f }` for a float (never inferred from the value). */
type Attr = number | number[] | { f: number };

class GraphBuilder {
  readonly nodes: OnnxNs.INodeProto[] = [];
  readonly inits: OnnxNs.ITensorProto[] = [];
  #n = 0;

  /** `eps`: the RMSNorm epsilon every norm of the graph uses. */
  constructor(readonly onnx: Onnx, readonly opset: number, readonly eps = 0) {}

  /** Adds a float32 initializer; data is copied as little-endian raw bytes. */
  f32(name: string, dims: readonly number[], data: Float32Array): string {
    if (this.inits.some((t) => t.name === name)) throw new Error(`duplicate initializer ${name}`);
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.inits.push({ name, dims: [...dims], dataType: this.onnx.TensorProto.DataType.FLOAT, rawData: raw });
    return name;
  }

  /** An int64 vector constant (shapes, axes), named by its values and shared by every user. */
  i64(values: readonly number[]): string {
    const name = `i64_${values.join("_").replaceAll("-", "m")}`;
    if (this.inits.some((t) => t.name === name)) return name;
    const raw = new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
    this.inits.push({ name, dims: [values.length], dataType: this.onnx.TensorProto.DataType.INT64, rawData: raw });
    return name;
  }

  /** Adds a node and returns its output names (`outputs` of them, or the given names). */
  nodeN(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): string[] {
    const id = this.#n++;
    const outs = typeof outputs === "number" ? Array.from({ length: outputs }, (_, i) => `${op}_${id}_${i}`) : outputs;
    const attribute = Object.entries(attrs).map(([name, v]) => this.#attr(name, v));
    this.nodes.push({ name: `${op}_${id}`, opType: op, input: inputs, output: outs, attribute });
    return outs;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.nodeN(op, inputs, attrs, out === undefined ? 1 : [out])[0];
  }

  #attr(name: string, v: Attr): OnnxNs.IAttributeProto {
    const T = this.onnx.AttributeProto.AttributeType;
    if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
    if (typeof v === "number") {
      if (!Number.isInteger(v)) throw new Error(`attribute ${name}=${v}: integers only, write { f: ${v} } for a float`);
      return { name, type: T.INT, i: v };
    }
    return { name, type: T.FLOAT, f: v.f };
  }

  /** Serializes the model; `inputs`/`outputs` are [name, elemType, dims]. */
  finish(name: string, inputs: ValueInfo[], outputs: ValueInfo[]): Uint8Array {
    const o = this.onnx;
    const vi = ([n, type, dims]: ValueInfo): OnnxNs.IValueInfoProto => ({
      name: n,
      type: { tensorType: { elemType: type === "f32" ? o.TensorProto.DataType.FLOAT : o.TensorProto.DataType.INT64, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
    const model = o.ModelProto.create({
      irVersion: IR_VERSION[this.opset],
      producerName: "vlm-compress bench",
      opsetImport: [{ domain: "", version: this.opset }],
      graph: { name, node: this.nodes, initializer: this.inits, input: inputs.map(vi), output: outputs.map(vi) },
    });
    return o.ModelProto.encode(model).finish();
  }
}

type ValueInfo = [string, "f32" | "i64", number[]];

// ---------------------------------------------------------------------------------------------
// LLaMA decoder graph.

/** W (out, in) -> Wᵀ (in, out), so MatMul(x, Wᵀ) needs no Transpose at inference. */
function transposed(w: Tensor): Float32Array {
  const [O, I] = w.shape;
  const t = new Float32Array(O * I);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) t[i * O + o] = w.data[o * I + i];
  return t;
}

/**
 * cos/sin tables for positions 0..T-1, frequency i = theta^(-2i/HS) for i < HS/2. `full`: (T, HS) with
 * the halves repeated (HF layout, multiplied elementwise); else (T, HS/2) (RotaryEmbedding's cache).
 */
function ropeTables(T: number, HS: number, theta: number, full: boolean): { cos: Float32Array; sin: Float32Array } {
  const half = HS / 2, W = full ? HS : half, cos = new Float32Array(T * W), sin = new Float32Array(T * W);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const ang = t * Math.pow(theta, (-2 * i) / HS); // in float64, like the engine's kernel
      cos[t * W + i] = Math.cos(ang);
      sin[t * W + i] = Math.sin(ang);
      if (full) { cos[t * W + i + half] = cos[t * W + i]; sin[t * W + i + half] = sin[t * W + i]; }
    }
  }
  return { cos, sin };
}

/** Additive causal mask (T, T): 0 where key j <= query i, else a large negative. */
function causalMask(T: number): Float32Array {
  const m = new Float32Array(T * T);
  // NOTE: -1e9 rather than -Infinity: exp underflows to exactly 0 either way, and no inf - inf NaN risk.
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return m;
}

/** "fused": opset 23 fused ops (default, fastest); "decomposed": opset 17 primitives. */
export type LlamaOnnxStyle = "fused" | "decomposed";

type Lin = (x: string, name: string, w: Tensor) => string;

/** Per-graph pieces of one style: the norm and the attention block (normed x (1, T, C) -> (1, T, NH*HS)). */
interface Style {
  opset: number;
  constants(g: GraphBuilder, T: number, HS: number, theta: number): void;
  rmsNorm(g: GraphBuilder, x: string, w: string): string;
  attention(g: GraphBuilder, a: LlamaAttention, x: string, T: number, lin: Lin): string;
}

const FUSED: Style = {
  opset: 23,
  constants(g, T, HS, theta) {
    const { cos, sin } = ropeTables(T, HS, theta, false);
    g.f32("rope_cos", [1, T, HS / 2], cos); // (B, T, HS/2): no position_ids input, positions are 0..T-1
    g.f32("rope_sin", [1, T, HS / 2], sin);
  },
  rmsNorm: (g, x, w) => g.node("RMSNormalization", [x, w], { axis: -1, epsilon: { f: g.eps } }),
  attention(g, a, x, _T, lin) {
    const { NH, NKV, HS } = a;
    // 3-D inputs (1, T, heads*HS); interleaved = 0 is HF rotate-half
    const q = g.node("RotaryEmbedding", [lin(x, "q_proj.weightT", a.q_proj.weight), "rope_cos", "rope_sin"], { num_heads: NH, interleaved: 0 });
    const k = g.node("RotaryEmbedding", [lin(x, "k_proj.weightT", a.k_proj.weight), "rope_cos", "rope_sin"], { num_heads: NKV, interleaved: 0 });
    const v = lin(x, "v_proj.weightT", a.v_proj.weight);
    return g.node("Attention", [q, k, v], { is_causal: 1, q_num_heads: NH, kv_num_heads: NKV, scale: { f: 1 / Math.sqrt(HS) } });
  },
};

const DECOMPOSED: Style = {
  opset: 17,
  constants(g, T, HS, theta) {
    const { cos, sin } = ropeTables(T, HS, theta, true);
    g.f32("rope_cos", [T, HS], cos);
    g.f32("rope_sin", [T, HS], sin);
    g.f32("causal_mask", [T, T], causalMask(T));
    g.f32("attn_scale", [], Float32Array.of(1 / Math.sqrt(HS)));
    g.f32("eps", [], Float32Array.of(g.eps));
    g.f32("two", [], Float32Array.of(2));
  },
  // x * w / sqrt(mean(x^2) + eps), the exact node pattern onnxruntime fuses into SimplifiedLayerNormalization
  rmsNorm(g, x, w) {
    const ms = g.node("ReduceMean", [g.node("Pow", [x, "two"])], { axes: [-1], keepdims: 1 });
    return g.node("Mul", [g.node("Div", [x, g.node("Sqrt", [g.node("Add", [ms, "eps"])])]), w]);
  },
  attention(g, a, x, T, lin) {
    const { NH, NKV, HS } = a, rep = NH / NKV;
    const heads = (y: string, n: number) => g.node("Transpose", [g.node("Reshape", [y, g.i64([1, T, n, HS])])], { perm: [0, 2, 1, 3] });
    const q = ropeNode(g, heads(lin(x, "q_proj.weightT", a.q_proj.weight), NH)); // (1, NH, T, HS)
    let k = ropeNode(g, heads(lin(x, "k_proj.weightT", a.k_proj.weight), NKV)); // (1, NKV, T, HS)
    let v = heads(lin(x, "v_proj.weightT", a.v_proj.weight), NKV); // (1, NKV, T, HS)
    if (rep > 1) {
      // repeat_kv: query head h reads kv head floor(h / rep), as in HF and the engine's kernel
      const expandTo = g.i64([1, NKV, rep, T, HS]), flat = g.i64([1, NH, T, HS]);
      const repeat = (y: string) => g.node("Reshape", [g.node("Expand", [g.node("Unsqueeze", [y, g.i64([2])]), expandTo]), flat]);
      k = repeat(k); // (1, NH, T, HS)
      v = repeat(v);
    }
    const kT = g.node("Transpose", [k], { perm: [0, 1, 3, 2] }); // (1, NH, HS, T); fused into the MatMul by ORT
    const scores = g.node("Add", [g.node("Mul", [g.node("MatMul", [q, kT]), "attn_scale"]), "causal_mask"]); // (1, NH, T, T)
    const att = g.node("MatMul", [g.node("Softmax", [scores], { axis: -1 }), v]); // (1, NH, T, HS)
    return g.node("Reshape", [g.node("Transpose", [att], { perm: [0, 2, 1, 3] }), g.i64([1, T, NH * HS])]); // (1, T, C)
  },
};

/** x (1, heads, T, HS) -> x*cos + rotate_half(x)*sin, rotate_half(x) = concat(-x2, x1). */
function ropeNode(g: GraphBuilder, x: string): string {
  const [x1, x2] = g.nodeN("Split", [x], { axis: -1 }, 2); // equal halves (1, heads, T, HS/2)
  const rot = g.node("Concat", [g.node("Neg", [x2]), x1], { axis: -1 });
  return g.node("Add", [g.node("Mul", [x, "rope_cos"]), g.node("Mul", [rot, "rope_sin"])]);
}

/** One decoder layer on h (1, T, C); returns the new residual stream (1, T, C). */
function layerNodes(g: GraphBuilder, style: Style, model: LlamaForCausalLM, l: number, h: string, T: number): string {
  const C = model.cfg.hidden_size, layer = model.model.layers[l], a = layer.self_attn, p = `layers.${l}.`;
  const lin: Lin = (x, name, w) => g.node("MatMul", [x, g.f32(p + name, [w.shape[1], w.shape[0]], transposed(w))]);
  const linA: Lin = (x, name, w) => lin(x, "self_attn." + name, w);

  const x = style.rmsNorm(g, h, g.f32(p + "input_layernorm.weight", [C], layer.input_layernorm.weight.data));
  h = g.node("Add", [h, linA(style.attention(g, a, x, T, linA), "o_proj.weightT", a.o_proj.weight)]);

  const y = style.rmsNorm(g, h, g.f32(p + "post_attention_layernorm.weight", [C], layer.post_attention_layernorm.weight.data));
  const gate = lin(y, "mlp.gate_proj.weightT", layer.mlp.gate_proj.weight); // (1, T, I)
  const up = lin(y, "mlp.up_proj.weightT", layer.mlp.up_proj.weight);
  const act = g.node("Mul", [g.node("Mul", [gate, g.node("Sigmoid", [gate])]), up]); // silu(gate) * up
  return g.node("Add", [h, lin(act, "mlp.down_proj.weightT", layer.mlp.down_proj.weight)]);
}

/**
 * ONNX graph of `model` for one sequence of T tokens: input `input_ids` int64 (1, T) -> `logits`
 * float32 (1, T, V), weights as float32 initializers (linear weights pre-transposed to (in, out)).
 */
export function buildLlamaOnnx(model: LlamaForCausalLM, T: number, style: LlamaOnnxStyle = "fused"): Uint8Array {
  const cfg = model.cfg, HS = cfg.hidden_size / cfg.num_attention_heads;
  if (!Number.isInteger(T) || T < 1) throw new Error(`buildLlamaOnnx: T must be a positive integer, got ${T}`);
  const st = style === "fused" ? FUSED : DECOMPOSED;
  const g = new GraphBuilder(loadOnnxProto(), st.opset, cfg.rms_norm_eps);
  st.constants(g, T, HS, cfg.rope_theta);

  const emb = model.model.embed_tokens.weight;
  let h = g.node("Gather", [g.f32("embed_tokens.weight", [...emb.shape], emb.data), "input_ids"], { axis: 0 }); // (1, T, C)
  for (let l = 0; l < cfg.num_hidden_layers; l++) h = layerNodes(g, st, model, l, h, T);
  h = st.rmsNorm(g, h, g.f32("norm.weight", [cfg.hidden_size], model.model.norm.weight.data));
  const lm = model.lm_head.weight;
  g.node("MatMul", [h, g.f32("lm_head.weightT", [lm.shape[1], lm.shape[0]], transposed(lm))], {}, "logits");
  return g.finish("llama", [["input_ids", "i64", [1, T]]], [["logits", "f32", [1, T, cfg.vocab_size]]]);
}

// ---------------------------------------------------------------------------------------------
// Matmul graphs.

/**
 * How a transposed operand is expressed: Transpose + MatMul, which ORT fuses into one
 * com.microsoft FusedMatMul (no transpose runs), or Gemm with transA/transB. The two measured within
 * noise of each other on every form and shape of the bench, so the default is the plainer MatMul.
 */
export type MatmulOp = "matmul" | "gemm";

/**
 * C (M, N) = A·B with A, B graph inputs in the stored layout of `form`:
 * nn: A (M, K), B (K, N); nt: A (M, K), B (N, K); tn: A (K, M), B (K, N).
 */
export function buildMatmulOnnx(M: number, K: number, N: number, form: MatmulForm, op: MatmulOp = "matmul"): Uint8Array {
  const g = new GraphBuilder(loadOnnxProto(), 17);
  const aDims = form === "tn" ? [K, M] : [M, K], bDims = form === "nt" ? [N, K] : [K, N];
  if (op === "gemm") {
    g.node("Gemm", ["A", "B"], { transA: form === "tn" ? 1 : 0, transB: form === "nt" ? 1 : 0 }, "C");
  } else {
    const a = form === "tn" ? g.node("Transpose", ["A"], { perm: [1, 0] }) : "A";
    const b = form === "nt" ? g.node("Transpose", ["B"], { perm: [1, 0] }) : "B";
    g.node("MatMul", [a, b], {}, "C");
  }
  return g.finish(`matmul_${form}`, [["A", "f32", aDims], ["B", "f32", bDims]], [["C", "f32", [M, N]]]);
}

// ---------------------------------------------------------------------------------------------
// Sessions and timing.

export interface OrtRunnerOptions {
  /** Intra-op threads; default: all cores (os.availableParallelism()). */
  threads?: number;
  /** Extra session options (profiling, optimizedModelFilePath), merged last. */
  session?: InferenceSession.SessionOptions;
}

/** One onnxruntime session on the CPU provider, all graph optimizations, sequential execution. */
export class OrtRunner {
  private constructor(readonly ort: Ort, readonly session: InferenceSession, readonly threads: number) {}

  static async create(ort: Ort, model: Uint8Array, opts: OrtRunnerOptions = {}): Promise<OrtRunner> {
    const threads = opts.threads ?? os.availableParallelism();
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      ...opts.session,
    });
    return new OrtRunner(ort, session, threads);
  }

  async run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> {
    return this.session.run(feeds);
  }

  /** LLaMA graph: ids (T) -> logits (1, T, V) as a flat Float32Array. */
  async logits(ids: Int32Array): Promise<Float32Array> {
    const input = new this.ort.Tensor("int64", BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]);
    return (await this.run({ input_ids: input })).logits.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Float32 feeds for a matmul graph of `form` (A, B in their stored layouts). */
export function matmulFeeds(ort: Ort, M: number, K: number, N: number, form: MatmulForm, a: Float32Array, b: Float32Array): Record<string, OrtTensor> {
  if (a.length !== M * K || b.length !== K * N) throw new Error(`matmulFeeds: A has ${a.length} (want ${M * K}), B has ${b.length} (want ${K * N})`);
  return {
    A: new ort.Tensor("float32", a, form === "tn" ? [K, M] : [M, K]),
    B: new ort.Tensor("float32", b, form === "nt" ? [N, K] : [K, N]),
  };
}

// ---------------------------------------------------------------------------------------------
// One-call measurements for the bench: build, create a session, time, release.

export interface OrtBenchOptions {
  threads?: number;
  warmup?: number;
  runs?: number;
}

export type OrtMeasurement<T> = ({ ok: true } & Timing & T) | { ok: false; reason: string };

/** Prefill of `ids` (T tokens, batch 1) through the ORT graph of `model`: median ms and tokens/s. */
export async function benchOrtPrefill(model: LlamaForCausalLM, ids: Int32Array, opts: OrtBenchOptions & { style?: LlamaOnnxStyle } = {}): Promise<OrtMeasurement<{ tokensPerS: number; threads: number }>> {
  const ort = await loadOrt();
  if (ort === null) return { ok: false, reason: ortUnavailableReason() };
  const r = await OrtRunner.create(ort, buildLlamaOnnx(model, ids.length, opts.style), { threads: opts.threads });
  try {
    const t = await timeItAsync(() => r.logits(ids), opts);
    return { ok: true, ...t, tokensPerS: (ids.length * 1000) / t.medianMs, threads: r.threads };
  } finally {
    await r.release();
  }
}

/** C (M, N) = A·B in the stored layout of `form`, on seeded inputs: median ms and GFLOP/s (2MKN flops). */
export async function benchOrtMatmul(M: number, K: number, N: number, form: MatmulForm, opts: OrtBenchOptions & { op?: MatmulOp } = {}): Promise<OrtMeasurement<{ gflops: number; threads: number }>> {
  const ort = await loadOrt();
  if (ort === null) return { ok: false, reason: ortUnavailableReason() };
  const r = await OrtRunner.create(ort, buildMatmulOnnx(M, K, N, form, opts.op), { threads: opts.threads });
  try {
    const rng = new Rng(1);
    const fill = (n: number) => Float32Array.from({ length: n }, () => rng.uniform() - 0.5);
    const feeds = matmulFeeds(ort, M, K, N, form, fill(M * K), fill(K * N));
    const t = await timeItAsync(() => r.run(feeds), opts);
    return { ok: true, ...t, gflops: (2 * M * K * N) / (t.medianMs * 1e6), threads: r.threads };
  } finally {
    await r.release();
  }
}
