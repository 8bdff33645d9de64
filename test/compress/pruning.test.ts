// Token-pruning reducers inside the LLM: FastV and PyramidDrop keep the tokens the last prompt token
// attends to most; ATP's hard mode with nothing pruned equals no pruning and with everything pruned
// equals dropping every vision token; its soft mode trains the threshold MLP through the attention
// bias and the budget loss; SAP scores by hand.
import { beforeAll, describe, expect, it } from "vitest";
import { ATP_DEFAULTS, sapScore, type AtpConfig } from "../../src/compress/atp/config.js";
import { AtpHooks, thresholdInput } from "../../src/compress/atp/hooks.js";
import { AtpModules, poolTo } from "../../src/compress/atp/module.js";
import { fastVHooks } from "../../src/compress/baselines/fastv.js";
import { pdropHooks } from "../../src/compress/baselines/pdrop.js";
import { receivedAttention, topK, visionSlots } from "../../src/compress/common.js";
import { DropAtLayer } from "../../src/compress/debug-reducers.js";
import { hooksWithOverride, parsePruneOverride } from "../../src/eval/method.js";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import type { TokenLayout } from "../../src/model/layout.js";
import { LlavaForCausalLM, type VlmExample, type VlmHooks } from "../../src/model/vlm.js";
import { decoderFlops } from "../../src/model/flops.js";
import { decodeOne, prefill } from "../../src/model/generate.js";
import { KVCache } from "../../src/model/kv-cache.js";
import { vlmConfigFromDict } from "../../src/model/vlm-config.js";
import { crossEntropy, noGrad, Rng, Tensor, add } from "../../src/tensor/index.js";
import { expectAllclose } from "../helpers/allclose.js";
import { randArray } from "../helpers/random.js";

const IMG = 30;
const cfg = vlmConfigFromDict({
  vocab_size: 31, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2,
  initializer_range: 0.3, image_token_index: IMG, voco_token_index: 29,
  vision_config: { hidden_size: 12, intermediate_size: 20, num_hidden_layers: 2, num_attention_heads: 3, image_size: 16, patch_size: 4, initializer_range: 0.2 },
});
const G = 4;
const examples: VlmExample[] = [
  { ids: [1, IMG, 5, 6, 7], images: [Float32Array.from(randArray(3 * 256, 1))] },
  { ids: [1, IMG, 8, 9], images: [Float32Array.from(randArray(3 * 256, 2))] },
];
const atpCfg: AtpConfig = { ...ATP_DEFAULTS, layers: [0, 1] };

/** Logits of the real (non-padding) slots only: padding outputs are meaningless. */
function realLogits(out: { logits: Tensor; layout: TokenLayout }): number[] {
  const V = out.logits.shape[2], L = out.layout, r: number[] = [];
  for (let b = 0; b < L.B; b++) for (let t = 0; t < L.length[b]; t++) r.push(...out.logits.data.subarray((b * L.T + t) * V, (b * L.T + t + 1) * V));
  return r;
}

/** The vision slots FastV should keep, from the layer's probabilities captured independently. */
function expectedKeep(m: LlavaForCausalLM, layer: number, ratio: number): number[][] {
  let captured: { L: TokenLayout; probs: Tensor } | null = null;
  noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: { wantsProbs: (l) => l === layer, afterLayer: (l, _h, L, p) => { if (l === layer && p) captured = { L, probs: p }; return null; } } }));
  const { L, probs } = captured!;
  return [0, 1].map((b) => {
    const vis = visionSlots(L, b);
    const last = L.length[b] - 1;
    const [, NH, T] = probs.shape;
    const scores = vis.map((j) => { let s = 0; for (let h = 0; h < NH; h++) s += probs.data[((b * NH + h) * T + last) * T + j]; return s; });
    return vis.filter((j) => scores.filter((x) => x > scores[vis.indexOf(j)]).length < Math.round(vis.length * (1 - ratio)));
  });
}

describe("scoring helpers", () => {
  it("topK keeps the highest scores in slot order; receivedAttention averages only visible queries", () => {
    expect(topK([3, 5, 7, 9], [0.1, 0.9, 0.5, 0.9], 2)).toEqual([5, 9]);
    // one row, 3 slots, 1 head: causal probabilities
    const L: TokenLayout = { B: 1, T: 3, pos: Int32Array.of(0, 1, 2), keyLo: Int32Array.of(0, 0, 0), keyHi: Int32Array.of(1, 2, 3),
      kind: Uint8Array.of(2, 2, 1), orig: Int32Array.of(0, 1, 2), length: Int32Array.of(3) };
    const probs = new Tensor(Float32Array.of(1, 0, 0, 0.4, 0.6, 0, 0.2, 0.3, 0.5), [1, 1, 3, 3]);
    // key 0 is seen by queries 0 and 1: (1 + 0.4) / 2; key 1 only by query 1: 0.6
    const r = receivedAttention(probs, L, 0, [0, 1], [0, 1]);
    expect(r[0]).toBeCloseTo(0.7, 6);
    expect(r[1]).toBeCloseTo(0.6, 6);
    expect(Array.from(poolTo([1, 2, 3, 4], 2))).toEqual([1.5, 3.5]);
  });

  it("receivedAttention equals a key-by-key reference under random visible ranges; unordered keys are refused", () => {
    const T = 23, NH = 3, rng = new Rng(5);
    const keyLo = Int32Array.from({ length: T }, () => rng.int(6));
    const keyHi = Int32Array.from({ length: T }, (_, i) => Math.min(T, keyLo[i] + 1 + rng.int(T)));
    const L: TokenLayout = { B: 1, T, pos: Int32Array.from({ length: T }, (_, i) => i), keyLo, keyHi,
      kind: new Uint8Array(T).fill(2), orig: Int32Array.from({ length: T }, (_, i) => i), length: Int32Array.of(T) };
    const probs = new Tensor(Float32Array.from({ length: NH * T * T }, () => rng.uniform()), [1, NH, T, T]);
    const queries = [0, 3, 4, 9, 15, 22], keys = [1, 2, 5, 8, 13, 14, 20];
    const r = receivedAttention(probs, L, 0, queries, keys);
    keys.forEach((j, k) => {
      let sum = 0, n = 0;
      for (const i of queries) if (j >= keyLo[i] && j < keyHi[i]) for (let h = 0; h < NH; h++) { sum += probs.data[(h * T + i) * T + j]; n++; }
      expect(r[k]).toBeCloseTo(n > 0 ? sum / n : 0, 12);
    });
    expect(() => receivedAttention(probs, L, 0, queries, [13, 1, 20])).toThrow(/ascending \(slot 1 after 13\)/);
  });

  it("the threshold MLP reads the scores pooled in token order, or sorted (then blind to where the peaks are)", () => {
    const self = Float64Array.from([0, 1, 0.5, 0.25]), cross = Float64Array.from([0.2, 0, 0.8, 0.4]);
    const pos = { pool: 2, scoreInput: "position" } as const, sorted = { pool: 2, scoreInput: "sorted" } as const;
    expect(Array.from(thresholdInput(self, cross, pos))).toEqual([0.5, 0.375, 0.1, 0.6].map(Math.fround));
    // sorted descending: self 1, 0.5 | 0.25, 0; cross 0.8, 0.4 | 0.2, 0
    expect(Array.from(thresholdInput(self, cross, sorted))).toEqual([0.75, 0.125, 0.6, 0.1].map(Math.fround));
    const perm = [2, 0, 3, 1], pick = (v: Float64Array) => Float64Array.from(perm, (i) => v[i]);
    expect(Array.from(thresholdInput(pick(self), pick(cross), sorted))).toEqual(Array.from(thresholdInput(self, cross, sorted)));
    expect(Array.from(thresholdInput(pick(self), pick(cross), pos))).not.toEqual(Array.from(thresholdInput(self, cross, pos)));
    expect(Array.from(self)).toEqual([0, 1, 0.5, 0.25]); // the caller's scores are not reordered in place
  });

  it("SAP scores nested grids by hand", () => {
    expect(sapScore(0, 0, ATP_DEFAULTS)).toBe(1 - 3 / 4); // on the stride-2 grid
    expect(sapScore(1, 1, ATP_DEFAULTS)).toBe(1 - 3 / 16); // on the stride-4 grid
    expect(sapScore(0, 1, ATP_DEFAULTS)).toBe(-Infinity);
    // a sparser third grid: stride 6 sits at offset 2 (rows/cols 2, 8 of 12), inside the stride-2 grid, and wins there
    const sparse = { ...ATP_DEFAULTS, sapStrides: [2, 4, 6] };
    expect(sapScore(2, 8, sparse)).toBe(1 - 3 / 36);
    expect(sapScore(2, 4, sparse)).toBe(1 - 3 / 4);
    expect(sapScore(5, 5, sparse)).toBe(1 - 3 / 16);
  });
});

describe.each(availableKernelSets())("pruning reducers (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });

  it("FastV keeps the top tokens by the last token's attention and equals dropping the others", () => {
    const m = new LlavaForCausalLM(cfg, 7);
    const keep = expectedKeep(m, 1, 0.5);
    const out = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: fastVHooks({ afterLayer: 1, ratio: 0.5 }) }));
    expect(out.stats.map((s) => Array.from(s.vision))).toEqual([[16, 16], [16, 16], [8, 8]]);
    const drop = keep.map((k, b) => visionSlots(m.buildBatch(examples).layout, b).filter((t) => !k.includes(t)));
    const ref = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: new DropAtLayer(1, drop) }));
    expectAllclose(realLogits(out), realLogits(ref), { rtol: 1e-5, atol: 1e-6 }, "FastV vs DropAtLayer");
  });

  it("eval --prune: none switches an ATP model's pruning off, fastv:L:R prunes as FastV; bad specs are named", () => {
    expect(parsePruneOverride("none", 3)).toEqual({ kind: "none" });
    expect(parsePruneOverride("fastv:1:0.5", 3)).toEqual({ kind: "fastv", afterLayer: 1, ratio: 0.5, merge: false, mergeStates: false });
    expect(() => parsePruneOverride("fastv:2:0.5", 3)).toThrow(/LAYER must be below 2.*got 2/);
    expect(() => parsePruneOverride("fastv:0:1", 3)).toThrow(/RATIO.*got 1/);
    expect(() => parsePruneOverride("fastv:0", 3)).toThrow(/"fastv:0"/);
    const m = new LlavaForCausalLM(cfg, 7);
    const atpMethod = { vocoTokens: 0, vocoMask: false, poolTokens: 0, atp: atpCfg, video: false };
    // "none" must not read the (absent) ATP modules: the folder does not exist
    expect(hooksWithOverride(atpMethod, m, "/nonexistent", { kind: "none" })).toBeUndefined();
    const fv = hooksWithOverride({ ...atpMethod, atp: null }, m, "/nonexistent", parsePruneOverride("fastv:1:0.5", 3));
    const out = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: fv }));
    expect(out.stats.map((s) => Array.from(s.vision))).toEqual([[16, 16], [16, 16], [8, 8]]);
    expect(() => hooksWithOverride({ ...atpMethod, atp: null, vocoTokens: 2 }, m, "voco-dir", { kind: "none" })).toThrow(/voco-dir uses 2 <voco>/);
  });

  it("PyramidDrop keeps lambda of the alive tokens at each stage end", () => {
    const m = new LlavaForCausalLM(cfg, 8);
    const out = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: pdropHooks({ stageEnds: [0, 1], lambda: 0.5 }) }));
    expect(out.stats.map((s) => Array.from(s.vision))).toEqual([[16, 16], [8, 8], [4, 4]]);
  });

  it("pruning before the MLP: the logits of pruning between layers, the dropped tokens' MLP FLOPs saved, the same decoding with a KV cache", () => {
    const m = new LlavaForCausalLM(cfg, 11);
    const C = cfg.text.hidden_size, I = cfg.text.intermediate_size;
    const variants: [string, (early: boolean) => VlmHooks][] = [
      ["FastV", (e) => fastVHooks({ afterLayer: 0, ratio: 0.5, pruneBeforeMlp: e })],
      ["PyramidDrop", (e) => pdropHooks({ stageEnds: [0, 1], lambda: 0.5, pruneBeforeMlp: e })],
      ["ATP", (e) => new AtpHooks(atpWithBias(0.45, 0.9), atpCfg, "hard", 3, G, e)],
    ];
    for (const [name, make] of variants) {
      const run = (early: boolean) => { const h = make(early); return noGrad(() => m.forwardBatch(m.buildBatch(examples, h), { hooks: h })); };
      const early = run(true), late = run(false);
      expectAllclose(realLogits(early), realLogits(late), { rtol: 1e-5, atol: 1e-6 }, `${name}: early vs between layers`);
      expect(early.stats.map((s) => Array.from(s.tokens))).toEqual(late.stats.map((s) => Array.from(s.tokens)));
      // by hand: every token a layer drops skips that layer's gate, up and down projections (3 matmuls of C x I)
      let dropped = 0;
      for (let l = 0; l + 1 < late.stats.length; l++) for (let b = 0; b < 2; b++) dropped += late.stats[l].tokens[b] - late.stats[l + 1].tokens[b];
      expect(dropped, name).toBeGreaterThan(0);
      expect(dropped, name).toBeLessThan(2 * 16);
      expect(decoderFlops(m.cfg, late.stats, 0) - decoderFlops(m.cfg, early.stats, 0)).toBeCloseTo(dropped * 3 * 2 * C * I, 3);
      // prefill into a KV cache, then three decoded tokens: the same logits either way
      const decode = (early: boolean) => {
        const hooks = make(early), batch = m.buildBatch(examples, hooks);
        const cache = new KVCache(2, batch.layout.T + 4, 3, cfg.text.num_key_value_heads, C / cfg.text.num_attention_heads);
        const first = prefill(m, batch.h, batch.layout, cache, hooks);
        const out = [Array.from(first.logits.data)];
        let tok = Int32Array.of(3, 4);
        for (let i = 0; i < 3; i++) { const r = decodeOne(m, tok, cache); out.push(Array.from(r.logits.data)); tok = Int32Array.of(5 + i, 9 - i); }
        return out.flat();
      };
      expectAllclose(decode(true), decode(false), { rtol: 1e-5, atol: 1e-6 }, `${name}: cached decoding`);
    }
  });

  function atpWithBias(biasR: number, biasS: number): AtpModules {
    const mods = new AtpModules(atpCfg, new Rng(3));
    for (const t of mods.layers) { t.head_r.weight.data.fill(0); t.head_s.weight.data.fill(0); t.head_r.bias!.data.fill(biasR); t.head_s.bias!.data.fill(biasS); }
    return mods;
  }

  it("ATP hard mode: pruning nothing equals no pruning; pruning everything equals dropping every vision token", () => {
    const m = new LlavaForCausalLM(cfg, 9);
    const plain = noGrad(() => m.forwardBatch(m.buildBatch(examples)));
    // a stride-1 SAP grid with score 1 - 0.5 puts every token above theta_s ~ 0: nothing is pruned
    const everyToken = { ...atpCfg, sapStrides: [1], lambdaSample: 0.5 };
    const keepAll = new AtpHooks(atpWithBias(30, -30), everyToken, "hard", 3, G);
    const all = noGrad(() => m.forwardBatch(m.buildBatch(examples, keepAll), { hooks: keepAll }));
    expect(keepAll.kept.map((k) => Array.from(k))).toEqual([[16, 16], [16, 16]]);
    expectAllclose(realLogits(all), realLogits(plain), { rtol: 0, atol: 0 }, "ATP keeping everything vs no pruning");
    const none = new AtpHooks(atpWithBias(30, 30), atpCfg, "hard", 3, G);
    const pruned = noGrad(() => m.forwardBatch(m.buildBatch(examples, none), { hooks: none }));
    expect(none.kept.map((k) => Array.from(k))).toEqual([[0, 0], [0, 0]]);
    const L0 = m.buildBatch(examples).layout;
    const ref = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: new DropAtLayer(0, [0, 1].map((b) => visionSlots(L0, b))) }));
    expectAllclose(realLogits(pruned), realLogits(ref), { rtol: 1e-5, atol: 1e-6 }, "ATP prune-all vs drop-all");
    // with the SAP criterion off and theta_r ~ 0, only the single minimum-scored token per row can fall
    const noSap = { ...atpCfg, useSap: false };
    const keepMost = new AtpHooks(atpWithBias(-30, 30), noSap, "hard", 3, G);
    noGrad(() => m.forwardBatch(m.buildBatch(examples, keepMost), { hooks: keepMost }));
    expect(keepMost.kept[0].every((k) => k >= 15)).toBe(true); // only a token whose S_r is exactly 0 can fall
  });

  it("ATP's budget loss is lambda_atp * depth-weighted kept + lambda_target * |mean kept - target| (by hand, two weightings)", () => {
    for (const [lambdaAtp, lambdaTarget] of [[0.05, 0.2], [0.5, 0.1]]) {
      const c: AtpConfig = { ...atpCfg, lambdaAtp, lambdaTarget, targetFraction: 0.3 };
      const m = new LlavaForCausalLM(cfg, 10);
      const hooks = new AtpHooks(new AtpModules(c, new Rng(4)), c, "soft", 3, G);
      m.forwardBatch(m.buildBatch(examples, hooks), { hooks });
      const budget = hooks.budgetLoss()!;
      // modules after layers 0 and 1 of 3: layer 0 sees everything, layer 1 the first module's kept, layer 2 the second's
      const f = hooks.softFractions.map((t) => (t.data[0] + t.data[1]) / 2);
      const mean = (1 + f[0] + f[1]) / 3;
      const expected = lambdaAtp * (f[0] * (1 / 3) + f[1] * (2 / 3)) + lambdaTarget * Math.abs(mean - 0.3);
      expect(budget.meanFraction).toBeCloseTo(mean, 6);
      expect(budget.loss.item()).toBeCloseTo(expected, 6);
    }
  });

  it("ATP soft mode: the threshold MLP gets gradients through the attention bias and the budget loss", () => {
    const m = new LlavaForCausalLM(cfg, 10);
    const mods = new AtpModules(atpCfg, new Rng(4));
    const hooks = new AtpHooks(mods, atpCfg, "soft", 3, G);
    const ex = examples.map((e) => ({ ...e, labels: e.ids.map((t, i) => (i >= e.ids.length - 2 ? t : -100)) }));
    const batch = m.buildBatch(ex, hooks);
    const out = m.forwardBatch(batch, { hooks });
    expect(out.stats.map((s) => Array.from(s.vision))).toEqual([[16, 16], [16, 16], [16, 16]]); // nothing removed while training
    const budget = hooks.budgetLoss();
    expect(budget).not.toBeNull();
    expect(budget!.meanFraction).toBeGreaterThan(0);
    expect(budget!.meanFraction).toBeLessThanOrEqual(1);
    const loss = add(crossEntropy(out.logits, batch.targets), budget!.loss);
    loss.backward();
    for (const t of mods.layers) {
      expect(t.fc.weight.grad).not.toBeNull();
      expect(t.head_r.bias!.grad!.data[0]).not.toBe(0);
    }
  });

  it("ATP straight-through training runs exactly the hard pruning forward, with gradients from the soft masks", () => {
    const m = new LlavaForCausalLM(cfg, 11);
    const st = { ...atpCfg, straightThrough: true };
    const mods = new AtpModules(st, new Rng(4));
    const last = (out: { logits: Tensor; layout: TokenLayout }) => [0, 1].flatMap((b) => {
      const V = out.logits.shape[2], slot = b * out.layout.T + out.layout.length[b] - 1;
      return Array.from(out.logits.data.subarray(slot * V, (slot + 1) * V));
    });
    const hard = new AtpHooks(mods, st, "hard", 3, G);
    const ref = noGrad(() => m.forwardBatch(m.buildBatch(examples, hard), { hooks: hard }));
    const kept = hard.kept.map((k) => Array.from(k));
    expect(kept.flat().every((k) => k > 0 && k < 16), `kept ${JSON.stringify(kept)}: the test needs partial pruning`).toBe(true);
    expect(kept[1][0] < kept[0][0] || kept[1][1] < kept[0][1]).toBe(true); // the second layer prunes survivors further

    const train = new AtpHooks(mods, st, "soft", 3, G);
    const out = m.forwardBatch(m.buildBatch(examples, train), { hooks: train });
    expectAllclose(last(out), last(ref), { rtol: 1e-4, atol: 1e-4 }, "straight-through soft forward vs hard pruning");
    // the budget reads the hard counts forward: (all 16, then the kept after each module) over 3 layers
    const expected = [0, 1].reduce((a, b) => a + (1 + kept[0][b] / 16 + kept[1][b] / 16) / 3, 0) / 2;
    const budget = train.budgetLoss()!;
    expect(budget.meanFraction).toBeCloseTo(expected, 5);
    // without straight-through the same modules give a different (leaky) forward
    const leaky = new AtpHooks(mods, atpCfg, "soft", 3, G);
    const soft = noGrad(() => m.forwardBatch(m.buildBatch(examples, leaky), { hooks: leaky }));
    expect(Math.max(...last(soft).map((x, i) => Math.abs(x - last(ref)[i])))).toBeGreaterThan(1e-3);
    // the answer loss reaches the thresholds through the soft masks (the hard forward alone has no gradient)
    const L = out.layout, targets = new Int32Array(L.B * L.T).fill(-100);
    for (let b = 0; b < L.B; b++) targets[b * L.T + L.length[b] - 1] = 3;
    crossEntropy(out.logits, targets).backward();
    for (const t of mods.layers) {
      expect(t.head_r.bias!.grad!.data[0]).not.toBe(0);
      expect(t.head_s.bias!.grad!.data[0]).not.toBe(0);
    }
  });
});
