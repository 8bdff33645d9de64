// The LLaMA decoder against an independent float64 implementation; the KV cache (prefill + decode
// equals one full forward, also for batches of unequal rows); greedy generation; and the reducer
// hook (dropping tokens after layer k equals removing their keys from layer k+1 on).
import { beforeAll, describe, expect, it } from "vitest";
import { DropAtLayer, KeepAll } from "../../src/compress/debug-reducers.js";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import { llamaConfigFromDict } from "../../src/model/config.js";
import { decodeOne, generate, prefill } from "../../src/model/generate.js";
import { KVCache } from "../../src/model/kv-cache.js";
import { causalLayout, TokenKind } from "../../src/model/layout.js";
import { LlamaForCausalLM } from "../../src/model/llama.js";
import { noGrad, reshape, Tensor } from "../../src/tensor/index.js";
import { expectAllclose } from "../helpers/allclose.js";
import { llama64 } from "../helpers/llama64.js";

const cfg = llamaConfigFromDict({
  vocab_size: 23, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2,
  rope_theta: 100, initializer_range: 0.3, // large init so that attention patterns are far from uniform
});
const TOL = { rtol: 1e-4, atol: 1e-5 };

function model(): LlamaForCausalLM {
  const m = new LlamaForCausalLM(cfg, 5);
  // non-trivial norm weights, so the test would notice a norm weight being ignored
  m.namedParameters().filter(([n]) => n.endsWith("norm.weight")).forEach(([, p], i) => p.data.forEach((_, j) => { p.data[j] = 0.7 + 0.05 * ((i + j) % 7); }));
  return m;
}

function embeds(m: LlamaForCausalLM, ids: number[][]): { h: Tensor; flat: Int32Array; T: number } {
  const T = Math.max(...ids.map((r) => r.length));
  const flat = new Int32Array(ids.length * T);
  ids.forEach((r, b) => flat.set(r, b * T));
  return { h: reshape(m.model.embed_tokens.forward(flat), [ids.length, T, cfg.hidden_size]), flat, T };
}

const text = (n: number) => new Uint8Array(n).fill(TokenKind.text);

describe.each(availableKernelSets())("LLaMA decoder (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });

  it("matches the float64 reference (RoPE, GQA, SwiGLU, RMSNorm) on random weights", () => {
    const m = model();
    const ids = [3, 17, 0, 22, 9, 9, 4];
    const logits = noGrad(() => m.forward(Int32Array.from(ids), 1, ids.length));
    expectAllclose(logits.data, llama64(m, ids), TOL, "logits");
  });

  it("prefill + decode with a KV cache equals one full forward, for rows of unequal length", () => {
    const m = model();
    const rows = [[1, 2, 3, 4, 5], [6, 7, 8]];
    const cont = [[9, 10, 11], [12, 13, 14]];
    const { h } = embeds(m, rows);
    const L = causalLayout(rows.map((r) => text(r.length)));
    const cache = new KVCache(2, 16, cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.hidden_size / cfg.num_attention_heads);
    const p = prefill(m, h, L, cache);
    rows.forEach((r, b) => expectAllclose(p.logits.data.subarray(b * 23, (b + 1) * 23), llama64(m, r).subarray((r.length - 1) * 23), TOL, `prefill row ${b}`));
    for (let s = 0; s < 3; s++) {
      const { logits } = decodeOne(m, Int32Array.from([cont[0][s], cont[1][s]]), cache);
      rows.forEach((r, b) => {
        const full = [...r, ...cont[b].slice(0, s + 1)];
        expectAllclose(logits.data.subarray(b * 23, (b + 1) * 23), llama64(m, full).subarray((full.length - 1) * 23), TOL, `decode step ${s} row ${b}`);
      });
    }
    expect(Array.from(cache.nextPos)).toEqual([8, 6]);
    expect(cache.bytes()).toBe(2 * (8 + 6) * 3 * cfg.num_key_value_heads * 4 * 4);
  });

  it("greedy generation is deterministic and consistent with the cache-free forward", () => {
    const m = model();
    const prompt = [[4, 8, 15, 16]];
    const run = () => { const { h } = embeds(m, prompt); return generate(m, h, causalLayout([text(4)]), { maxNewTokens: 5 }).tokens[0]; };
    const a = run(), b = run();
    expect(a).toEqual(b);
    expect(a.length).toBe(5);
    // each generated token is the argmax of the full forward over prompt + previous tokens
    const seq = [...prompt[0]];
    for (const tok of a) {
      const l = llama64(m, seq).subarray((seq.length - 1) * 23);
      expect(tok).toBe(l.indexOf(Math.max(...l)));
      seq.push(tok);
    }
  });

  it("a block in the prompt (VoCo-style: later tokens see keys from index 3 on) holds for every decoded token", () => {
    const m = model();
    const prompt = [2, 9, 4, 13, 7, 21, 6], cont = [3, 18, 5], full = [...prompt, ...cont];
    // the reference: one cache-free pass over prompt + continuation with the block on every token from 5 on
    const Lfull = causalLayout([text(full.length)]);
    for (let t = 5; t < full.length; t++) Lfull.keyLo[t] = 3;
    const ref = noGrad(() => m.forwardLayout(Int32Array.from(full), Lfull).logits);
    const L = causalLayout([text(prompt.length)]);
    for (let t = 5; t < prompt.length; t++) L.keyLo[t] = 3;
    const { h } = embeds(m, [prompt]);
    const cache = new KVCache(1, 16, cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.hidden_size / cfg.num_attention_heads);
    const p = prefill(m, h, L, cache);
    expectAllclose(p.logits.data, ref.data.subarray((prompt.length - 1) * 23, prompt.length * 23), TOL, "prefill");
    for (let s = 0; s < cont.length; s++) {
      const { logits } = decodeOne(m, Int32Array.of(cont[s]), cache);
      const t = prompt.length + s;
      expectAllclose(logits.data, ref.data.subarray(t * 23, (t + 1) * 23), TOL, `decode step ${s}`);
      // seeing the blocked keys would give the causal logits instead: the block must matter here
      const causal = llama64(m, full.slice(0, t + 1)).subarray(t * 23);
      expect(Math.max(...Array.from(logits.data, (x, j) => Math.abs(x - causal[j])))).toBeGreaterThan(1e-3);
    }
    expect(Array.from(cache.layers.map((l) => l.visibleFrom[0]))).toEqual([3, 3, 3]);
  });

  it("stops a row at EOS", () => {
    const m = model();
    const { h } = embeds(m, [[1, 2, 3]]);
    const first = generate(m, h, causalLayout([text(3)]), { maxNewTokens: 6 }).tokens[0];
    const eos = first[2];
    const { h: h2 } = embeds(m, [[1, 2, 3]]);
    const stopped = generate(m, h2, causalLayout([text(3)]), { maxNewTokens: 6, eosId: eos }).tokens[0];
    expect(stopped).toEqual(first.slice(0, first.indexOf(eos) + 1));
  });

  it("the keep-all reducer changes nothing; dropping tokens after layer k equals removing their keys from layer k+1 on", () => {
    const m = model();
    const rows = [[5, 1, 7, 3, 19, 2, 11], [8, 6, 4, 2, 0]];
    const drop = [[1, 3, 4], [2]];
    const { h, flat } = embeds(m, rows);
    const L = causalLayout(rows.map((r) => text(r.length)));
    const plain = noGrad(() => m.forwardLayout(flat, L).logits);
    const kept = noGrad(() => m.forwardLayout(flat, L, { hooks: new KeepAll() }).logits);
    expect(kept.data).toEqual(plain.data);
    const out = noGrad(() => m.model.forwardEmbeds(h, L, { hooks: new DropAtLayer(0, drop) }));
    const logits = noGrad(() => m.lm_head.forward(out.h));
    expect(Array.from(out.layout.length)).toEqual([4, 4]);
    expect(out.stats.map((s) => Array.from(s.tokens))).toEqual([[7, 5], [4, 4], [4, 4]]);
    rows.forEach((r, b) => {
      const removedFrom = r.map((_, t) => (drop[b].includes(t) ? 1 : Infinity));
      const ref = llama64(m, r, removedFrom);
      const survivors = r.map((_, t) => t).filter((t) => !drop[b].includes(t));
      survivors.forEach((t, j) => {
        expectAllclose(logits.data.subarray((b * out.layout.T + j) * 23, (b * out.layout.T + j + 1) * 23), ref.subarray(t * 23, (t + 1) * 23), TOL, `row ${b} token ${t}`);
        expect(out.layout.pos[b * out.layout.T + j]).toBe(t); // original positions kept
      });
    });
  });

  it("a pruned prefill cache serves decoding: later layers hold only the survivors' K/V", () => {
    const m = model();
    const row = [5, 1, 7, 3, 19, 2];
    const drop = [[1, 2]];
    const { h } = embeds(m, [row]);
    const cache = new KVCache(1, 12, cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.hidden_size / cfg.num_attention_heads);
    prefill(m, h, causalLayout([text(6)]), cache, new DropAtLayer(0, drop));
    expect(cache.layers.map((l) => l.len[0])).toEqual([6, 4, 4]);
    const { logits } = decodeOne(m, Int32Array.of(9), cache);
    const ref = llama64(m, [...row, 9], [Infinity, 1, 1, Infinity, Infinity, Infinity, Infinity]);
    expectAllclose(logits.data, ref.subarray(6 * 23), TOL, "decode after pruning");
  });

  it("rejects a KV cache while recording gradients", () => {
    const m = model();
    const { h } = embeds(m, [[1, 2]]);
    const cache = new KVCache(1, 4, 3, 2, 4);
    expect(() => m.model.forwardEmbeds(h, causalLayout([text(2)]), { cache })).toThrow(/KV cache is for inference/);
  });
});
