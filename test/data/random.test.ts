import { describe, expect, test } from "vitest";
import { Rng, hashInts } from "../../src/data/random.js";

describe("Rng", () => {
  test("same keys, same stream; different keys, different streams", () => {
    const a = Rng.from(1, 2, 3), b = Rng.from(1, 2, 3), c = Rng.from(1, 2, 4), d = Rng.from(3, 2, 1);
    const xs = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.u32())).not.toEqual(xs);
    expect(Array.from({ length: 8 }, () => d.u32())).not.toEqual(xs);
    expect(hashInts(0, 1)).not.toBe(hashInts(1, 0));
  });

  test("state() copies and restores a stream", () => {
    const a = Rng.from(7);
    a.u32();
    const b = new Rng(a.state());
    expect(b.u32()).toBe(a.u32());
  });

  test("int is uniform (chi-square) and in range; float in [0, 1)", () => {
    const r = Rng.from(42), n = 7, counts = new Array(n).fill(0);
    for (let i = 0; i < 70000; i++) counts[r.int(n)]++;
    const chi2 = counts.reduce((s, c) => s + (c - 10000) ** 2 / 10000, 0);
    expect(chi2).toBeLessThan(22.5); // p = 0.001 at 6 degrees of freedom
    for (let i = 0; i < 10000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  test("helpers: range, pick, shuffled, sample, weighted, noise moments", () => {
    const r = Rng.from(5);
    for (let i = 0; i < 1000; i++) {
      const v = r.range(-2, 3);
      expect(v >= -2 && v <= 3 && Number.isInteger(v)).toBe(true);
    }
    expect(r.shuffled([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(r.sample([1, 2, 3, 4, 5], 3)).size).toBe(3);
    expect(() => r.pick([])).toThrow();
    const w = [0, 0, 0];
    for (let i = 0; i < 3000; i++) w[r.weighted([1, 0, 2])]++;
    expect(w[1]).toBe(0);
    expect(w[2] / w[0]).toBeGreaterThan(1.6);
    let s = 0, s2 = 0;
    for (let i = 0; i < 100000; i++) {
      const x = r.noise();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / 1e5)).toBeLessThan(0.02);
    expect(Math.abs(s2 / 1e5 - 1)).toBeLessThan(0.03);
  });
});
