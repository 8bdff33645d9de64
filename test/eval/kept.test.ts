// Kept-token accounting and the matched-FLOPs settings of the training-free baselines, by hand.
import { describe, expect, it } from "vitest";
import { fastVRatioFor, pdropLambdaFor } from "../../bench/prune.js";
import { defaultPruneLayers } from "../../src/compress/common.js";
import { keptByType, keptFraction, keptPerLayer } from "../../src/eval/kept.js";
import type { LayerStats } from "../../src/model/llama.js";

const layer = (vision: number[]): LayerStats => ({ tokens: Int32Array.from(vision, (v) => v + 5), vision: Int32Array.from(vision), attnPairs: new Float64Array(vision.length) });

describe("kept tokens", () => {
  it("averages alive/initial over layers and rows", () => {
    // row 0: 16, 8, 4 -> (1 + 0.5 + 0.25) / 3; row 1: 16, 16, 16 -> 1
    const f = [[layer([16, 16]), layer([8, 16]), layer([4, 16])]];
    expect(keptFraction(f)).toBeCloseTo((1.75 / 3 + 1) / 2, 12);
    expect(keptPerLayer(f)).toEqual([16, 12, 10]);
  });

  it("keptByType follows the questions across forwards of different sizes (by hand)", () => {
    // forward 0 scores questions 0, 1; forward 1 scores question 2
    const f = [[layer([16, 16]), layer([8, 4])], [layer([10]), layer([5])]];
    const k = keptByType(f, ["count", "relation", "count"]);
    // count: (1 + 0.5) / 2 = 0.75 and (1 + 0.5) / 2 = 0.75; relation: (1 + 0.25) / 2 = 0.625
    expect(Object.keys(k)).toEqual(["count", "relation"]);
    expect(k.count).toEqual({ mean: 0.75, std: 0, min: 0.75, max: 0.75 });
    expect(k.relation.mean).toBeCloseTo(0.625, 12);
    const g = keptByType([[layer([4, 4]), layer([1, 3])]], ["a", "a"]); // 0.625 and 0.875
    expect(g.a.mean).toBeCloseTo(0.75, 12);
    expect(g.a.std).toBeCloseTo(0.125, 12);
    expect([g.a.min, g.a.max]).toEqual([0.625, 0.875]);
  });

  it("FastV and PyramidDrop settings reproduce a target mean kept fraction", () => {
    // 6 layers, FastV after layer 0 keeping q: (1 + 5q) / 6 = 0.25 -> q = 0.1, R = 0.9
    expect(fastVRatioFor(0.25, 6)).toBeCloseTo(0.9, 12);
    // PyramidDrop, ends 0/2/4: (1 + 2λ + 2λ² + λ³) / 6 = target
    const lam = pdropLambdaFor(0.4, 6, [0, 2, 4]);
    expect((1 + 2 * lam + 2 * lam ** 2 + lam ** 3) / 6).toBeCloseTo(0.4, 6);
    // the bench's stage ends scale with depth: 0/2/4 of 6 as before, 0/4/8 of 12; 12 layers at 25%: (1 + 4λ + 4λ² + 3λ³) / 12
    expect(defaultPruneLayers(6)).toEqual([0, 2, 4]);
    expect(defaultPruneLayers(12)).toEqual([0, 4, 8]);
    const l12 = pdropLambdaFor(0.25, 12, defaultPruneLayers(12));
    expect((1 + 4 * l12 + 4 * l12 ** 2 + 3 * l12 ** 3) / 12).toBeCloseTo(0.25, 6);
  });
});
