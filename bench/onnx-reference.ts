// onnxruntime-node as the reference engine for `vlmc bench engine`: builds ONNX graphs for our LLaMA
// decoder (weights as initializers) and for the three matmul forms, runs them in the same process
// and times them. Not a model exporter for deployment: the LLaMA graph is built for one fixed T
// (RoPE tables and the causal mask are initializers for positions 0..T-1) and batch 1.
// onnxruntime-node and onnx-proto are dev dependencies, loaded lazily: without them the bench
// reports the reason and skips this side (loadOrt, loadOnnxProto).
// References: ONNX operator specs (opset 17); HF transformers modeling_llama.py (rotate_half,
// repeat_kv); onnxruntime graph optimizations (SimplifiedLayerNormFusion, MatMulTransposeFusion,
// MatMulScaleFusion), which the graph below is written to trigger.
// Legend: T tokens, C hidden, NH heads, NKV kv heads, HS head size, I intermediate, V vocab.
import { createRequire } from "node:module";
import os from "node:os";
import type { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import type { onnx as OnnxNs } from "onnx-proto";
import type { LlamaForCausalLM } from "../src/model/llama.js";
import type { Tensor } from "../src/tensor/tensor.js";

export type Ort = typeof import("onnxruntime-node");
type Onnx = typeof OnnxNs;
export type MatmulForm = "nn" | "nt" | "tn";

/** ONNX opset and the IR version that goes with it (opset 17 -> IR 8). */
const OPSET = 17;
const IR_VERSION = 8;

let ortLoad: Promise<Ort | null> | null = null;
let ortReason = "";

/** Loads onnxruntime-node once; null (with `ortUnavailableReason()`) when it is missing or broken. */
export async function loadOrt(): Promise<Ort | null> {
  ortLoad ??= (async () => {
    try {
      const ort = (await import("onnxruntime-node")) as Ort;
      if (typeof ort.InferenceSession?.create !== "function") throw new Error("InferenceSession missing from the module");
      return ort;
    } catch (e) {
      ortReason = `onnxruntime-node did not load: ${(e as Error).message.split("\n")[0]}`;
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

type Attr = number | number[] | string;

class GraphBuilder {
  readonly nodes: OnnxNs.INodeProto[] = [];
  readonly inits: OnnxNs.ITensorProto[] = [];
  #n = 0;

  constructor(readonly onnx: Onnx) {}

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
  nodeN(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1, domain = ""): string[] {
    const id = this.#n++;
    const outs = typeof outputs === "number" ? Array.from({ length: outputs }, (_, i) => `${op}_${id}_${i}`) : outputs;
    const attribute = Object.entries(attrs).map(([name, v]) => this.#attr(name, v));
    this.nodes.push({ name: `${op}_${id}`, opType: op, domain, input: inputs, output: outs, attribute });
    return outs;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.nodeN(op, inputs, attrs, out === undefined ? 1 : [out])[0];
  }

  #attr(name: string, v: Attr): OnnxNs.IAttributeProto {
    const T = this.onnx.AttributeProto.AttributeType;
    if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
    return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  }

  /** Serializes the model; `inputs`/`outputs` are [name, elemType, dims]. */
  finish(name: string, inputs: ValueInfo[], outputs: ValueInfo[], domains: string[] = []): Uint8Array {
    const o = this.onnx;
    const vi = ([n, type, dims]: ValueInfo): OnnxNs.IValueInfoProto => ({
      name: n,
      type: { tensorType: { elemType: type === "f32" ? o.TensorProto.DataType.FLOAT : o.TensorProto.DataType.INT64, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
    const model = o.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: "vlm-compress bench",
      opsetImport: [{ domain: "", version: OPSET }, ...domains.map((d) => ({ domain: d, version: 1 }))],
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

/** cos/sin tables (T, HS) for positions 0..T-1, HF layout: angle for dim d uses frequency d mod HS/2. */
function ropeTables(T: number, HS: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = HS / 2, cos = new Float32Array(T * HS), sin = new Float32Array(T * HS);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const ang = t * Math.pow(theta, (-2 * i) / HS); // in float64, like the engine's kernel
      cos[t * HS + i] = cos[t * HS + i + half] = Math.cos(ang);
      sin[t * HS + i] = sin[t * HS + i + half] = Math.sin(ang);
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

/** x * w / sqrt(mean(x^2) + eps) in the exact node pattern onnxruntime fuses into SimplifiedLayerNormalization. */
function rmsNorm(g: GraphBuilder, x: string, w: string, eps: string, two: string): string {
  const ms = g.node("ReduceMean", [g.node("Pow", [x, two])], { axes: [-1], keepdims: 1 });
  const rms = g.node("Sqrt", [g.node("Add", [ms, eps])]);
  return g.node("Mul", [g.node("Div", [x, rms]), w]);
}

/** x (1, heads, T, HS) -> x*cos + rotate_half(x)*sin, rotate_half(x) = concat(-x2, x1). */
function ropeNode(g: GraphBuilder, x: string): string {
  const [x1, x2] = g.nodeN("Split", [x], { axis: -1 }, 2); // equal halves (1, heads, T, HS/2)
  const rot = g.node("Concat", [g.node("Neg", [x2]), x1], { axis: -1 });
  return g.node("Add", [g.node("Mul", [x, "rope_cos"]), g.node("Mul", [rot, "rope_sin"])]);
}

/** One decoder layer on h (1, T, C); returns the new residual stream (1, T, C). */
function layerNodes(g: GraphBuilder, model: LlamaForCausalLM, l: number, h: string, T: number): string {
  const cfg = model.cfg, layer = model.model.layers[l], a = layer.self_attn, p = `layers.${l}.`;
  const { NH, NKV, HS } = a;
  const C = cfg.hidden_size, rep = NH / NKV;
  const lin = (x: string, name: string, w: Tensor) => g.node("MatMul", [x, g.f32(p + name, [w.shape[1], w.shape[0]], transposed(w))]);

  const x = rmsNorm(g, h, g.f32(p + "input_layernorm.weight", [C], layer.input_layernorm.weight.data), "eps", "two");
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
  const merged = g.node("Reshape", [g.node("Transpose", [att], { perm: [0, 2, 1, 3] }), g.i64([1, T, NH * HS])]); // (1, T, C)
  h = g.node("Add", [h, lin(merged, "o_proj.weightT", a.o_proj.weight)]);

  const y = rmsNorm(g, h, g.f32(p + "post_attention_layernorm.weight", [C], layer.post_attention_layernorm.weight.data), "eps", "two");
  const gate = lin(y, "mlp.gate_proj.weightT", layer.mlp.gate_proj.weight); // (1, T, I)
  const up = lin(y, "mlp.up_proj.weightT", layer.mlp.up_proj.weight);
  const act = g.node("Mul", [g.node("Mul", [gate, g.node("Sigmoid", [gate])]), up]); // silu(gate) * up
  return g.node("Add", [h, lin(act, "mlp.down_proj.weightT", layer.mlp.down_proj.weight)]);
}

/**
 * ONNX graph of `model` for one sequence of T tokens: input `input_ids` int64 (1, T) -> `logits`
 * float32 (1, T, V), weights as float32 initializers (linear weights pre-transposed to (in, out)).
 */
export function buildLlamaOnnx(model: LlamaForCausalLM, T: number): Uint8Array {
  const cfg = model.cfg, { HS } = model.model.layers[0]?.self_attn ?? { HS: cfg.hidden_size / cfg.num_attention_heads };
  if (!Number.isInteger(T) || T < 1) throw new Error(`buildLlamaOnnx: T must be a positive integer, got ${T}`);
  const g = new GraphBuilder(loadOnnxProto());
  const { cos, sin } = ropeTables(T, HS, cfg.rope_theta);
  g.f32("rope_cos", [T, HS], cos);
  g.f32("rope_sin", [T, HS], sin);
  g.f32("causal_mask", [T, T], causalMask(T));
  g.f32("attn_scale", [], Float32Array.of(1 / Math.sqrt(HS)));
  g.f32("eps", [], Float32Array.of(cfg.rms_norm_eps));
  g.f32("two", [], Float32Array.of(2));

  const emb = model.model.embed_tokens.weight;
  let h = g.node("Gather", [g.f32("embed_tokens.weight", [...emb.shape], emb.data), "input_ids"], { axis: 0 }); // (1, T, C)
  for (let l = 0; l < cfg.num_hidden_layers; l++) h = layerNodes(g, model, l, h, T);
  h = rmsNorm(g, h, g.f32("norm.weight", [cfg.hidden_size], model.model.norm.weight.data), "eps", "two");
  const lm = model.lm_head.weight;
  g.node("MatMul", [h, g.f32("lm_head.weightT", [lm.shape[1], lm.shape[0]], transposed(lm))], {}, "logits");
  return g.finish("llama", [["input_ids", "i64", [1, T]]], [["logits", "f32", [1, T, cfg.vocab_size]]]);
}

// ---------------------------------------------------------------------------------------------
// Matmul graphs.

/** How a transposed operand is expressed: Transpose + MatMul (ORT fuses it) or Gemm with transA/transB. */
export type MatmulOp = "matmul" | "gemm";

/**
 * C (M, N) = A·B with A, B graph inputs in the stored layout of `form`:
 * nn: A (M, K), B (K, N); nt: A (M, K), B (N, K); tn: A (K, M), B (K, N).
 */
export function buildMatmulOnnx(M: number, K: number, N: number, form: MatmulForm, op: MatmulOp = "matmul"): Uint8Array {
  const g = new GraphBuilder(loadOnnxProto());
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

export interface Timing {
  /** Median wall time of the timed runs, ms. */
  medianMs: number;
  runsMs: number[];
}

/** Bench convention: `warmup` untimed calls, then the median of `runs` timed ones. */
export async function timeOrt(fn: () => Promise<unknown>, opts: { warmup?: number; runs?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2, runs = opts.runs ?? 5;
  for (let i = 0; i < warmup; i++) await fn();
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    runsMs.push(performance.now() - t0);
  }
  const s = [...runsMs].sort((x, y) => x - y), m = s.length >> 1;
  return { medianMs: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, runsMs };
}
