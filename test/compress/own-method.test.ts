// The README's "Writing your own method" example, through the public entry point: a training-free
// reducer that keeps, after layer 0, the k vision tokens whose hidden state has the largest norm.
// Checked against the norms read from an unpruned forward (layer 0's output does not depend on what
// is pruned after it) and through the layer statistics evaluation reports.
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateVqa, keepMask, noGrad, pairedDifference, topK, visionSlots, type VlmHooks } from "../../src/index.js";
import { trainTinyVlm } from "../helpers/tiny-vlm.js";
import type { LoadedVlm } from "../../src/train/model-dir.js";
import { makeExample } from "../../src/data/stream.js";
import { toVlmExample } from "../../src/train/format.js";

// -- the README's example, verbatim --
function normHooks(k: number): VlmHooks {
  return {
    afterLayer(layer, h, L) {
      if (layer !== 0) return null; // keep everything elsewhere
      const C = h.shape[2];
      const kept = Array.from({ length: L.B }, (_, b) => {
        const slots = visionSlots(L, b);
        const norms = slots.map((t) => {
          let s = 0;
          for (let c = 0; c < C; c++) s += h.data[(b * L.T + t) * C + c] ** 2;
          return s;
        });
        return topK(slots, norms, k);
      });
      return keepMask(L, kept); // 1 = goes on to layer 1; dropped tokens' K/V vanish from later layers
    },
  };
}
// -- end of the example --

let tiny: LoadedVlm;
beforeAll(async () => { tiny = await trainTinyVlm(); });

describe("a reducer of one's own through the public API", () => {
  it("keeps the k highest-norm vision tokens after layer 0, as an unpruned forward ranks them", () => {
    const { model, vocab } = tiny;
    const ex = makeExample("image", 3, { split: "val", size: model.vcfg.vision.image_size });
    const input = toVlmExample({ ...ex, conversations: ex.conversations.slice(0, 2) }, vocab, { mean: model.vcfg.image_mean, std: model.vcfg.image_std });
    // the norms after layer 0 without pruning, by a hook that only looks
    let expected: number[] = [];
    const look: VlmHooks = {
      afterLayer(layer, h, L) {
        if (layer !== 0) return null;
        const C = h.shape[2], slots = visionSlots(L, 0);
        const norms = slots.map((t) => h.data.subarray(t * C, (t + 1) * C).reduce((s, x) => s + x * x, 0));
        expected = slots.map((t, i) => [t, norms[i]] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3).map(([t]) => t).sort((a, b) => a - b);
        return null;
      },
    };
    noGrad(() => model.forwardBatch(model.buildBatch([input], look), { hooks: look }));
    expect(expected).toHaveLength(3);
    let chosen: number[] = [];
    const hooks = normHooks(3), after = hooks.afterLayer!.bind(hooks);
    hooks.afterLayer = (layer, h, L, probs) => {
      const keep = after(layer, h, L, probs);
      if (keep !== null) chosen = visionSlots(L, 0).filter((t) => keep[t] === 1);
      return keep;
    };
    const out = noGrad(() => model.forwardBatch(model.buildBatch([input], hooks), { hooks }));
    expect(chosen).toEqual(expected);
    const P = (model.vcfg.vision.image_size / model.vcfg.vision.patch_size) ** 2;
    expect(out.stats.map((s) => s.vision[0])).toEqual([P, 3]); // tiny has 2 layers: all tokens, then the 3 kept
  });

  it("evaluates like any method and compares with the full model, paired", () => {
    const { model, vocab } = tiny;
    const full = evaluateVqa(model, vocab, { split: "test", n: 3 });
    const mine = evaluateVqa(model, vocab, { split: "test", n: 3, hooks: normHooks(2) });
    for (const forward of mine.stats) expect(Array.from(forward[1].vision).every((v) => v === 2)).toBe(true); // layer 1 of every batch
    const d = pairedDifference(mine.results, full.results);
    expect(d.n).toBe(full.n);
    expect(d.difference).toBeCloseTo(mine.accuracy - full.accuracy, 12);
  });
});
