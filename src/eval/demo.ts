// `vlmc demo`: a few generated test scenes, one question each, answered by the shipped model(s) by
// generation, with correctness and cost (tokens, FLOPs, time). Each extra model (a VoCo or ATP
// variant) answers the same questions beside it.
import { makeExample } from "../data/stream.js";
import type { Vocab } from "../data/vocab.js";
import type { LlavaForCausalLM, VlmHooks } from "../model/vlm.js";
import { modelFingerprint } from "../compress/voco/cache.js";
import { askImage, type AskResult } from "./ask.js";

export interface DemoModel {
  name: string;
  model: LlavaForCausalLM;
  vocab: Vocab;
  hooks?: VlmHooks;
  vocoTokens?: number;
}

export interface DemoRow {
  scene: number;
  question: string;
  expected: string;
  answers: { model: string; answer: string; correct: boolean; result: AskResult }[];
}

export function runDemo(models: readonly DemoModel[], scenes: number, first = 0): DemoRow[] {
  const S = models[0].model.vcfg.vision.image_size;
  const rows: DemoRow[] = [];
  const ids = models.map((m) => ((m.vocoTokens ?? 0) > 0 ? modelFingerprint(m.model) : undefined)); // once, not per question
  for (let i = 0; i < scenes; i++) {
    const ex = makeExample("image", first + i, { split: "test", size: S, questions: 4 });
    const qa = ex.qa[i % ex.qa.length];
    const img = { width: S, height: S, data: ex.frames[0] };
    rows.push({
      scene: first + i, question: qa.question, expected: qa.answer,
      answers: models.map((m, j) => {
        const result = askImage(m.model, m.vocab, img, qa.question, { hooks: m.hooks, vocoTokens: m.vocoTokens, maxNewTokens: 4, modelId: ids[j] });
        return { model: m.name, answer: result.answer, correct: result.answer === qa.answer, result };
      }),
    });
  }
  return rows;
}

const kib = (b: number): string => `${(b / 1024).toFixed(b < 10240 ? 1 : 0)} KiB`;
const mflops = (f: number): string => `${(f / 1e6).toFixed(f < 1e7 ? 1 : 0)} MFLOPs`;

/** " (kept per layer: 144 36 36 ...)" when some layer saw fewer vision tokens than the image has. */
export const keptNote = (perLayer: readonly number[], all: number): string =>
  perLayer.some((n) => n < all) ? ` (kept per layer: ${perLayer.join(" ")})` : "";

export function formatDemo(rows: readonly DemoRow[]): string {
  const lines: string[] = [];
  const width = Math.max(14, ...rows.flatMap((r) => r.answers.map((a) => a.model.length)));
  for (const r of rows) {
    lines.push(`scene ${r.scene}: ${r.question}  (expected: ${r.expected})`);
    for (const a of r.answers) {
      const x = a.result;
      const head = `  ${a.model.padEnd(width)} ${(a.answer || "(none)").padEnd(10)} ${a.correct ? "✓" : "✗"}  `;
      const z = x.compression;
      lines.push(head + (z === undefined
        ? `${x.tokens.vision} vision${keptNote(x.vision_per_layer, x.tokens.vision)} + ${x.tokens.prompt - x.tokens.vision} text tokens, KV cache ${kib(x.kv_cache_bytes)}, ${mflops(x.flops)}, ${x.ms.total.toFixed(0)} ms`
        : `${z.voco_tokens} VoCo + ${x.tokens.prompt - z.voco_tokens} text tokens, VoCo cache ${kib(x.kv_cache_bytes)}, ` +
          `${mflops(x.flops - z.flops)} + ${mflops(z.flops)} once to compress, ${(x.ms.total - z.ms).toFixed(0)} + ${z.ms.toFixed(0)} ms`));
    }
  }
  const byModel = new Map<string, number[]>();
  for (const r of rows) for (const a of r.answers) byModel.set(a.model, [...(byModel.get(a.model) ?? []), a.correct ? 1 : 0]);
  lines.push("", [...byModel].map(([m, c]) => `${m}: ${c.reduce((s, x) => s + x, 0)}/${c.length} correct`).join(", "));
  return lines.join("\n");
}
