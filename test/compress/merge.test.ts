// Token merging (compress/merge.ts): sizes by hand; FastV with merging equals dropping the same
// tokens plus a log-size key bias computed independently in float64 (and, with ToMe's state merge,
// each kept state replaced by its group's mean); the KV cache carries the bias into decoding; ATP's
// straight-through training with merging runs exactly its hard forward.
import { beforeAll, describe, expect, it } from "vitest";
import { ATP_DEFAULTS, type AtpConfig } from "../../src/compress/atp/config.js";
import { AtpHooks } from "../../src/compress/atp/hooks.js";
import { AtpModules } from "../../src/compress/atp/module.js";
import { fastVHooks } from "../../src/compress/baselines/fastv.js";
import { visionSlots } from "../../src/compress/common.js";
import { DropAtLayer } from "../../src/compress/debug-reducers.js";
import { MergedSizes } from "../../src/compress/merge.js";
import { parsePruneOverride } from "../../src/eval/method.js";
import { availableKernelSets, useKernels } from "../../src/kernels/index.js";
import { decodeOne, prefill } from "../../src/model/generate.js";
import { KVCache } from "../../src/model/kv-cache.js";
import { causalLayout, keepTokens, TokenKind, type TokenLayout } from "../../src/model/layout.js";
import { LlavaForCausalLM, type VlmExample, type VlmHooks } from "../../src/model/vlm.js";
import { vlmConfigFromDict } from "../../src/model/vlm-config.js";
import { atpConfigOf, VLM_DEFAULTS } from "../../src/train/recipes/vlm.js";
import { crossEntropy, noGrad, Rng, Tensor } from "../../src/tensor/index.js";
import { expectAllclose } from "../helpers/allclose.js";
import { randArray } from "../helpers/random.js";

const IMG = 30;
const cfg = vlmConfigFromDict({
  vocab_size: 31, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2,
  initializer_range: 0.3, image_token_index: IMG, voco_token_index: 29,
  vision_config: { hidden_size: 12, intermediate_size: 20, num_hidden_layers: 2, num_attention_heads: 3, image_size: 16, patch_size: 4, initializer_range: 0.2 },
});
const examples: VlmExample[] = [
  { ids: [1, IMG, 5, 6, 7], images: [Float32Array.from(randArray(3 * 256, 1))] },
  { ids: [1, IMG, 8, 9], images: [Float32Array.from(randArray(3 * 256, 2))] },
];

describe("MergedSizes", () => {
  it("counts each dropped vision token into the kept one it most resembles (centred cosine), across two rounds", () => {
    const { text, vision } = TokenKind;
    const L = causalLayout([[text, vision, vision, vision, vision, text]]);
    // vision states sum to zero, so centring changes nothing: slots 1, 2 point one way, 3, 4 the other
    const h = new Tensor(Float32Array.from([9, 9, 2, 0.1, 1.9, -0.1, -2, 0.1, -1.9, -0.1, 5, 5]), [1, 6, 2]);
    const s = new MergedSizes();
    expect(s.bias(L)).toBeNull(); // nothing merged yet
    s.absorb(h, L, [[1, 3]]);
    expect(Array.from(s.bias(L)!.data)).toEqual([0, Math.fround(Math.log(2)), 0, Math.fround(Math.log(2)), 0, 0]);
    const keep = Uint8Array.from([1, 1, 0, 1, 0, 1]);
    const { layout: L2 } = keepTokens(L, keep);
    expect(s.sizeAt(L2, 0, 1)).toBe(2); // slot 1 of the reduced layout is original slot 3
    // second round: of the survivors (original 1 and 3), only 1 stays; 3 and what it carried move to it
    const h2 = new Tensor(Float32Array.from([9, 9, 1, 0, -1, 0, 5, 5]), [1, 4, 2]);
    s.absorb(h2, L2, [[1]]);
    expect(s.sizeAt(L2, 0, 1)).toBe(4);
    expect(s.sizeAt(L2, 0, 2)).toBe(0);
    // ToMe's state merge: size-weighted, 2 and 2 here; text and the merged-away token keep their states
    expect(Array.from(s.mix(h2, L2)!.data)).toEqual([9, 9, 0, 0, -1, 0, 5, 5]);
    expect(s.mix(h2, L2)).toBeNull(); // consumed: the next layer merges nothing new
    s.reset();
    expect(s.bias(L)).toBeNull();
    // unequal sizes weigh the average: slot 1 (size 1) takes slots 2 and 3 (sizes 1 each, one round)
    const h3 = new Tensor(Float32Array.from([0, 0, 3, 0, 2.9, 0.2, -3, 0, -2.9, -0.2, 0, 0]), [1, 6, 2]);
    s.absorb(h3, L, [[1, 3]]);
    const mixed = s.mix(h3, L)!.data;
    expect(mixed[2]).toBeCloseTo((3 + 2.9) / 2, 6);
    expect(mixed[6]).toBeCloseTo((-3 - 2.9) / 2, 6);
    // a neighbourhood rule: slot 2 may join only slot 3 (unlike it), slot 4 nothing (dropped, its size gone)
    s.reset();
    s.absorb(h, L, [[1, 3]], undefined, (_b, from, to) => from === 2 && to === 3);
    expect([1, 2, 3, 4].map((t) => s.sizeAt(L, 0, t))).toEqual([1, 0, 2, 0]);
  });
});

/** Hidden states (B, T, C) after `layer` and their layout, from an unpruned forward. */
function captureAfter(m: LlavaForCausalLM, layer: number): { h: Float32Array; L: TokenLayout; probs: Tensor } {
  let got: { h: Float32Array; L: TokenLayout; probs: Tensor } | null = null;
  noGrad(() => m.forwardBatch(m.buildBatch(examples), {
    hooks: { wantsProbs: (l) => l === layer, afterLayer: (l, h, L, p) => { if (l === layer && p) got = { h: Float32Array.from(h.data), L, probs: p }; return null; } },
  }));
  return got!;
}

/** Per row, FastV's kept vision slots and every slot's size after merging, computed here in float64. */
interface RefMerge { kept: number[][]; size: Map<number, number>[]; into: Map<number, number>[] }

function referenceMerge(m: LlavaForCausalLM, layer: number, keepN: number): RefMerge {
  const { h, L, probs } = captureAfter(m, layer);
  const C = cfg.text.hidden_size, [, NH, T] = probs.shape;
  const kept: number[][] = [], size: Map<number, number>[] = [], into: Map<number, number>[] = [];
  for (let b = 0; b < L.B; b++) {
    const vis = visionSlots(L, b), last = L.length[b] - 1;
    const score = (j: number) => { let s = 0; for (let hd = 0; hd < NH; hd++) s += probs.data[((b * NH + hd) * T + last) * T + j]; return s; };
    const k = [...vis].sort((x, y) => score(y) - score(x) || x - y).slice(0, keepN).sort((x, y) => x - y);
    const mean = Array.from({ length: C }, (_, c) => vis.reduce((s, t) => s + h[(b * L.T + t) * C + c], 0) / vis.length);
    const unit = (t: number) => {
      const v = mean.map((mu, c) => h[(b * L.T + t) * C + c] - mu);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const sz = new Map<number, number>(vis.map((t) => [t, 1])), to = new Map<number, number>();
    for (const t of vis) {
      if (k.includes(t)) continue;
      const u = unit(t);
      const sims = k.map((j) => unit(j).reduce((s, x, c) => s + x * u[c], 0));
      const target = k[sims.indexOf(Math.max(...sims))];
      sz.set(target, sz.get(target)! + 1);
      sz.set(t, 0);
      to.set(t, target);
    }
    kept.push(k);
    size.push(sz);
    into.push(to);
  }
  return { kept, size, into };
}

/** Drops the non-kept vision tokens after `layer` and adds log(size) to the kept ones' keys later on;
 * with avg, first replaces each kept state by the mean of its group's (float64, slots = original indices). */
function referenceHooks(layer: number, ref: RefMerge, L0: TokenLayout, avg = false): VlmHooks {
  const drop = ref.kept.map((k, b) => visionSlots(L0, b).filter((t) => !k.includes(t))); // slots = original indices here
  const dropper = new DropAtLayer(layer, drop);
  return {
    afterLayer: (l, h, L) => dropper.afterLayer(l, h, L),
    mixStates: (l, h, L) => {
      if (!avg || l !== layer) return null;
      const C = h.shape[2], out = Float32Array.from(h.data);
      for (let b = 0; b < L.B; b++) for (const k of ref.kept[b]) {
        const group = [k, ...[...ref.into[b]].filter(([, t]) => t === k).map(([f]) => f)];
        for (let c = 0; c < C; c++) out[(b * L.T + k) * C + c] = group.reduce((s, t) => s + h.data[(b * L.T + t) * C + c], 0) / group.length;
      }
      return new Tensor(out, h.shape);
    },
    keyBias: (l, L) => {
      if (l <= layer) return null;
      const bias = new Float32Array(L.B * L.T);
      for (let b = 0; b < L.B; b++) for (let t = 0; t < L.length[b]; t++) {
        const s = ref.size[b].get(L.orig[b * L.T + t]);
        if (s !== undefined && s > 0) bias[b * L.T + t] = Math.log(s);
      }
      return new Tensor(bias, [L.B, L.T]);
    },
  };
}

function lastLogits(logits: Tensor, L: TokenLayout): number[] {
  const V = logits.shape[2];
  return Array.from({ length: L.B }, (_, b) => b * L.T + L.length[b] - 1).flatMap((slot) => Array.from(logits.data.subarray(slot * V, (slot + 1) * V)));
}

describe.each(availableKernelSets())("token merging in the decoder (%s kernels)", (set) => {
  beforeAll(() => { useKernels(set); });

  it("FastV with merging equals dropping the same tokens plus a float64 log-size key bias, and differs from plain FastV", () => {
    const m = new LlavaForCausalLM(cfg, 7);
    const ref = referenceMerge(m, 1, 8);
    expect(ref.size.every((s) => Math.max(...s.values()) > 1)).toBe(true);
    const L0 = m.buildBatch(examples).layout;
    const merged = fastVHooks({ afterLayer: 1, ratio: 0.5, merge: true });
    const out = noGrad(() => m.forwardBatch(m.buildBatch(examples, merged), { hooks: merged }));
    const want = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: referenceHooks(1, ref, L0) }));
    expectAllclose(lastLogits(out.logits, out.layout), lastLogits(want.logits, want.layout), { rtol: 1e-5, atol: 1e-5 }, "FastV merge vs reference");
    const plain = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: fastVHooks({ afterLayer: 1, ratio: 0.5 }) }));
    const diff = lastLogits(out.logits, out.layout).map((x, i) => Math.abs(x - lastLogits(plain.logits, plain.layout)[i]));
    expect(Math.max(...diff)).toBeGreaterThan(1e-3);
    expect(parsePruneOverride("fastv:1:0.5:merge", 3)).toEqual({ kind: "fastv", afterLayer: 1, ratio: 0.5, merge: true, mergeStates: false });
    expect(parsePruneOverride("fastv:1:0.5:merge-avg", 3)).toEqual({ kind: "fastv", afterLayer: 1, ratio: 0.5, merge: true, mergeStates: true });
    expect(() => parsePruneOverride("fastv:1:0.5:mrg", 3)).toThrow(/fastv:LAYER:RATIO\[:merge\|:merge-avg\]/);
  });

  it("FastV with ToMe's state merge equals the reference with each kept state replaced by its group's mean", () => {
    const m = new LlavaForCausalLM(cfg, 7);
    const ref = referenceMerge(m, 1, 8);
    const L0 = m.buildBatch(examples).layout;
    const hooks = fastVHooks({ afterLayer: 1, ratio: 0.5, merge: true, mergeStates: true });
    const out = noGrad(() => m.forwardBatch(m.buildBatch(examples, hooks), { hooks }));
    const want = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: referenceHooks(1, ref, L0, true) }));
    expectAllclose(lastLogits(out.logits, out.layout), lastLogits(want.logits, want.layout), { rtol: 1e-5, atol: 1e-5 }, "FastV merge-avg vs reference");
    const biasOnly = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: referenceHooks(1, ref, L0) }));
    const diff = lastLogits(out.logits, out.layout).map((x, i) => Math.abs(x - lastLogits(biasOnly.logits, biasOnly.layout)[i]));
    expect(Math.max(...diff)).toBeGreaterThan(1e-3);
  });

  it("the KV cache keeps the merged keys' bias: prefill and the next decoded token equal uncached forwards", () => {
    const m = new LlavaForCausalLM(cfg, 7);
    const ref = referenceMerge(m, 1, 8);
    const batch = m.buildBatch(examples);
    const HS = cfg.text.hidden_size / cfg.text.num_attention_heads;
    const cache = new KVCache(2, batch.layout.T + 2, cfg.text.num_hidden_layers, cfg.text.num_key_value_heads, HS);
    const p = prefill(m, batch.h, batch.layout, cache, fastVHooks({ afterLayer: 1, ratio: 0.5, merge: true }));
    const full = noGrad(() => m.forwardBatch(m.buildBatch(examples), { hooks: referenceHooks(1, ref, batch.layout) }));
    expectAllclose(Array.from(p.logits.data), lastLogits(full.logits, full.layout), { rtol: 1e-5, atol: 1e-5 }, "cached prefill vs uncached");
    // the same hooks again, on other rows and without prepare (a plain prefill): no sizes carried over
    const reused = fastVHooks({ afterLayer: 1, ratio: 0.5, merge: true });
    const swapped = m.buildBatch([examples[1], examples[0]]);
    const fresh = () => new KVCache(2, swapped.layout.T + 2, cfg.text.num_hidden_layers, cfg.text.num_key_value_heads, HS);
    prefill(m, batch.h, batch.layout, fresh(), reused);
    const again = prefill(m, swapped.h, swapped.layout, fresh(), reused);
    const once = prefill(m, swapped.h, swapped.layout, fresh(), fastVHooks({ afterLayer: 1, ratio: 0.5, merge: true }));
    expectAllclose(Array.from(again.logits.data), Array.from(once.logits.data), { rtol: 0, atol: 0 }, "reused FastV merge hooks");
    expect(cache.layers[0].bias).toBeNull(); // layers up to the pruning one see no bias
    expect(cache.layers[2].bias).not.toBeNull();
    // decode token 4 after each prompt; the reference runs prompt + token uncached with the same drops and bias
    const d = decodeOne(m, Int32Array.from([4, 4]), cache);
    const ext = examples.map((e) => ({ ...e, ids: [...e.ids, 4] }));
    const extOut = noGrad(() => m.forwardBatch(m.buildBatch(ext), { hooks: referenceHooks(1, ref, batch.layout) }));
    expectAllclose(Array.from(d.logits.data), lastLogits(extOut.logits, extOut.layout), { rtol: 1e-5, atol: 1e-5 }, "decode against a biased cache");
  });

  it("ATP with merging: straight-through training runs its hard forward exactly, and merging changes the answer", () => {
    const m = new LlavaForCausalLM(cfg, 11);
    const st: AtpConfig = { ...ATP_DEFAULTS, layers: [0, 1], straightThrough: true, merge: true };
    const mods = new AtpModules(st, new Rng(4));
    const run = (c: AtpConfig, mode: "hard" | "soft") => {
      const hooks = new AtpHooks(mods, c, mode, 3, 4);
      const out = (mode === "hard" ? noGrad : <T>(f: () => T) => f())(() => m.forwardBatch(m.buildBatch(examples, hooks), { hooks }));
      return { out, hooks, last: lastLogits(out.logits, out.layout) };
    };
    const hard = run(st, "hard");
    const kept = hard.hooks.kept.map((k) => Array.from(k));
    expect(kept.flat().every((k) => k > 0 && k < 16), `kept ${JSON.stringify(kept)}: the test needs partial pruning`).toBe(true);
    const train = run(st, "soft");
    expectAllclose(train.last, hard.last, { rtol: 1e-4, atol: 1e-4 }, "straight-through + merge vs hard + merge");
    const dropOnly = run({ ...st, merge: false }, "hard");
    expect(Math.max(...hard.last.map((x, i) => Math.abs(x - dropOnly.last[i])))).toBeGreaterThan(1e-3);
    const avg = { ...st, mergeStates: true };
    const hardAvg = run(avg, "hard");
    expect(Math.max(...hardAvg.last.map((x, i) => Math.abs(x - hard.last[i])))).toBeGreaterThan(1e-3);
    expectAllclose(run(avg, "soft").last, hardAvg.last, { rtol: 1e-4, atol: 1e-4 }, "straight-through vs hard, states averaged");
    // merges kept between grid neighbours (radius 1 of the 4x4 grid): still the hard forward, and not the unrestricted merge
    const near = { ...st, mergeRadius: 1 };
    const hardNear = run(near, "hard");
    expect(Math.max(...hardNear.last.map((x, i) => Math.abs(x - hard.last[i])))).toBeGreaterThan(1e-4);
    expectAllclose(run(near, "soft").last, hardNear.last, { rtol: 1e-4, atol: 1e-4 }, "straight-through vs hard, radius 1");
    const L = train.out.layout, targets = new Int32Array(L.B * L.T).fill(-100);
    for (let b = 0; b < L.B; b++) targets[b * L.T + L.length[b] - 1] = 3;
    crossEntropy(train.out.logits, targets).backward();
    for (const t of mods.layers) expect(t.head_r.bias!.grad!.data[0]).not.toBe(0);
  });

  it("atp_merge needs straight-through training", () => {
    expect(() => atpConfigOf({ ...VLM_DEFAULTS, atp: true, atp_merge: true }, 6)).toThrow(/atp_merge=true needs atp_straight_through=true/);
    expect(atpConfigOf({ ...VLM_DEFAULTS, atp: true, atp_merge: true, atp_straight_through: true }, 6).merge).toBe(true);
    expect(() => atpConfigOf({ ...VLM_DEFAULTS, atp: true, atp_merge_states: true, atp_straight_through: true }, 6)).toThrow(/atp_merge_states=true needs atp_merge=true/);
    expect(() => atpConfigOf({ ...VLM_DEFAULTS, atp: true, atp_merge: true, atp_straight_through: true, atp_merge_radius: -1 }, 6)).toThrow(/atp_merge_radius must be an integer >= 0.*-1/);
  });
});
