// `vlmc bench model`: for the small and llava576 presets (random weights: speed does not depend on
// them), one image + a 20-token question: ViT time, prefill time, decode ms/token, KV-cache bytes
// and FLOPs. Medians of several runs after warm-up, on the kernel set in use.
import { decoderFlops, visionFlops } from "../src/model/flops.js";
import { decodeOne, prefill } from "../src/model/generate.js";
import { KVCache } from "../src/model/kv-cache.js";
import { presetConfig, type PresetName } from "../src/model/presets.js";
import { LlavaForCausalLM, type VlmExample } from "../src/model/vlm.js";
import { noGrad, Rng } from "../src/tensor/index.js";
import { timeIt } from "./timing.js";

export interface ModelBenchResult {
  preset: PresetName;
  vision_tokens: number;
  prompt_tokens: number;
  vit_ms: number;
  prefill_ms: number;
  decode_ms_per_token: number;
  kv_cache_bytes: number;
  flops: { vision: number; prefill: number; decode_per_token: number; total_20_tokens: number };
  parameters: number;
}

const VOCAB = 512, IMAGE_TOKEN = 3, QUESTION = 20, DECODE = 16;

export function benchModel(preset: PresetName, quick: boolean, log: (l: string) => void): ModelBenchResult {
  const cfg = presetConfig(preset, VOCAB, IMAGE_TOKEN);
  const m = new LlavaForCausalLM(cfg, 0);
  const rng = new Rng(1);
  const S = cfg.vision.image_size;
  const image = Float32Array.from({ length: 3 * S * S }, () => rng.normal());
  const ids = [1, IMAGE_TOKEN, ...Array.from({ length: QUESTION }, () => 10 + rng.int(VOCAB - 10))];
  const ex: VlmExample = { ids, images: [image] };
  const opts = quick ? { warmup: 1, runs: 3 } : { warmup: 2, runs: 7 };
  const C = cfg.text;
  const newCache = (T: number) => new KVCache(1, T + DECODE + 1, C.num_hidden_layers, C.num_key_value_heads, C.hidden_size / C.num_attention_heads);
  log(`[${preset}] ViT`);
  const vit = timeIt(() => noGrad(() => m.encodeImages([image])), opts);
  const batch = noGrad(() => m.buildBatch([ex]));
  const T = batch.layout.length[0];
  log(`[${preset}] prefill of ${T} tokens`);
  const pre = timeIt(() => prefill(m, batch.h, batch.layout, newCache(batch.layout.T)), opts);
  const cache = newCache(batch.layout.T);
  const p = prefill(m, batch.h, batch.layout, cache);
  log(`[${preset}] decode`);
  const times: number[] = [];
  let dStats = p.stats;
  for (let i = 0; i < DECODE; i++) {
    const t0 = performance.now();
    const d = decodeOne(m, Int32Array.of(10 + i), cache);
    times.push(performance.now() - t0);
    if (i === 0) dStats = d.stats;
  }
  times.sort((a, b) => a - b);
  const vision = visionFlops(cfg.vision, C.hidden_size, cfg.mm_vision_select_layer);
  const prefillF = decoderFlops(C, p.stats, 1);
  const decodeF = decoderFlops(C, dStats, 1);
  return {
    preset, vision_tokens: batch.visionTokens[0], prompt_tokens: T,
    vit_ms: vit.medianMs, prefill_ms: pre.medianMs, decode_ms_per_token: times[times.length >> 1],
    kv_cache_bytes: cache.bytes(),
    flops: { vision, prefill: prefillF, decode_per_token: decodeF, total_20_tokens: vision + prefillF + 20 * decodeF },
    parameters: m.numParameters(),
  };
}

export function formatModelTable(rows: readonly ModelBenchResult[]): string {
  const head = ["preset", "vision tok", "prompt tok", "ViT ms", "prefill ms", "decode ms/tok", "KV bytes", "GFLOPs (ViT+prefill)", "params"];
  const body = rows.map((r) => [r.preset, `${r.vision_tokens}`, `${r.prompt_tokens}`, r.vit_ms.toFixed(1), r.prefill_ms.toFixed(1),
    r.decode_ms_per_token.toFixed(2), `${r.kv_cache_bytes}`, ((r.flops.vision + r.flops.prefill) / 1e9).toFixed(3), `${(r.parameters / 1e6).toFixed(2)}M`]);
  const all = [head, ...body];
  const w = head.map((_, j) => Math.max(...all.map((r) => r[j].length)));
  return all.map((r) => r.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join("  ")).join("\n");
}
