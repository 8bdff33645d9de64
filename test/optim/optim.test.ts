// AdamW against a float64 hand implementation, the LR schedule against hand values, clipping.
import { describe, expect, it } from "vitest";
import { AdamW } from "../../src/optim/adamw.js";
import { clipGradNorm, clipGradNormByGroup, clipGroups } from "../../src/optim/clip.js";
import { lrAt } from "../../src/optim/schedule.js";
import { parameter } from "../../src/nn/module.js";
import { Tensor } from "../../src/tensor/index.js";
import { expectAllclose } from "../helpers/allclose.js";
import { randArray } from "../helpers/random.js";

describe("optim", () => {
  it("AdamW matches a float64 reference over several steps (decoupled decay, bias correction)", () => {
    const n = 37, lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.95, eps = 1e-8;
    const p = parameter(Tensor.from(randArray(n, 1)));
    const opt = new AdamW([{ params: [["p", p]], weightDecay: wd }], { beta1: b1, beta2: b2, eps });
    const ref = Float64Array.from(p.data), m = new Float64Array(n), v = new Float64Array(n);
    for (let step = 1; step <= 5; step++) {
      const g = randArray(n, 10 + step, -2, 2);
      p.grad = Tensor.from(g);
      opt.update(lr);
      const gf = Float64Array.from(Float32Array.from(g));
      for (let i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * gf[i];
        v[i] = b2 * v[i] + (1 - b2) * gf[i] ** 2;
        const mh = m[i] / (1 - b1 ** step), vh = v[i] / (1 - b2 ** step);
        ref[i] = ref[i] - lr * wd * ref[i] - (lr * mh) / (Math.sqrt(vh) + eps);
      }
    }
    expectAllclose(p.data, ref, { rtol: 1e-5, atol: 1e-6 }, "adamw");
  });

  it("AdamW skips parameters without gradients and honours lrScale", () => {
    const a = parameter(Tensor.from([1, 2])), b = parameter(Tensor.from([3, 4]));
    const opt = new AdamW([{ params: [["a", a]], weightDecay: 0 }, { params: [["b", b]], weightDecay: 0, lrScale: 0 }]);
    b.grad = Tensor.from([1, 1]);
    opt.update(0.1);
    expect(a.toArray()).toEqual([1, 2]);
    expect(b.toArray()).toEqual([3, 4]);
  });

  it("cosine schedule with warmup hits its hand-computed values", () => {
    const s = { maxLr: 1, minLr: 0.1, warmupSteps: 10, totalSteps: 110 };
    expect(lrAt(0, s)).toBeCloseTo(0.1, 12);
    expect(lrAt(9, s)).toBeCloseTo(1, 12);
    expect(lrAt(10, s)).toBeCloseTo(1, 12);
    expect(lrAt(60, s)).toBeCloseTo(0.55, 12); // halfway: min + 0.5 (max - min)
    expect(lrAt(110, s)).toBe(0.1);
    expect(lrAt(1000, s)).toBe(0.1);
  });

  it("clips the global gradient norm and reports the norm before clipping", () => {
    const a = parameter(Tensor.from([3, 0])), b = parameter(Tensor.from([4]));
    a.grad = Tensor.from([3, 0]); b.grad = Tensor.from([4]);
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 6);
    expect(a.grad.data[0]).toBeCloseTo(0.6, 5);
    expect(b.grad.data[0]).toBeCloseTo(0.8, 5);
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 5); // under the limit: untouched
    expect(a.grad.data[0]).toBeCloseTo(0.6, 5);
  });

  it("clipping by group clips each group to the limit on its own (by hand)", () => {
    const a = parameter(Tensor.from([3, 0])), b = parameter(Tensor.from([4])), c = parameter(Tensor.from([0.3, 0.4]));
    a.grad = Tensor.from([30, 0]); b.grad = Tensor.from([40]); c.grad = Tensor.from([0.3, 0.4]);
    const groups = clipGroups([["atp.a", a], ["vlm.c", c], ["atp.b", b]], (n) => n.split(".")[0]);
    expect(groups).toEqual([[a, b], [c]]);
    const norm = clipGradNormByGroup(groups, 1);
    expect(norm).toBeCloseTo(Math.sqrt(50 * 50 + 0.5 * 0.5), 4); // the norm before clipping, all groups together
    expect(a.grad.data[0]).toBeCloseTo(0.6, 5); // atp: norm 50 -> 1
    expect(b.grad.data[0]).toBeCloseTo(0.8, 5);
    expect(c.grad.data[0]).toBeCloseTo(0.3, 5); // vlm: norm 0.5, under the limit, untouched (global clipping: 0.006)
    expect(c.grad.data[1]).toBeCloseTo(0.4, 5);
  });
});
