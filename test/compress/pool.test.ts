// Average pooling before the LLM: region averages computed by hand.
import { describe, expect, it } from "vitest";
import { avgPoolHooks, gridFactors, poolMatrix } from "../../src/compress/baselines/pool.js";
import { Tensor } from "../../src/tensor/index.js";

describe("average pooling", () => {
  it("factors N into the most square grid", () => {
    expect(gridFactors(1)).toEqual([1, 1]);
    expect(gridFactors(2)).toEqual([1, 2]);
    expect(gridFactors(8)).toEqual([2, 4]);
    expect(gridFactors(16)).toEqual([4, 4]);
    expect(gridFactors(7)).toEqual([1, 7]);
  });

  it("averages rectangles of a 4x4 grid into 2x2 = 4 tokens, and everything into 1", () => {
    const feats = Tensor.from(Array.from({ length: 16 }, (_, i) => i), [16, 1]); // value = patch index
    const hooks = avgPoolHooks(4);
    const out = hooks.reduceVision!(feats, { sample: 0, index: 0, grid: 4 });
    // top-left block: patches 0, 1, 4, 5 -> 2.5; top-right 2, 3, 6, 7 -> 4.5; then 10.5, 12.5
    expect(out.feats.toArray()).toEqual([2.5, 4.5, 10.5, 12.5]);
    expect(Array.from(out.patches)).toEqual([0, 2, 8, 10]);
    const one = avgPoolHooks(1).reduceVision!(feats, { sample: 0, index: 0, grid: 4 });
    expect(one.feats.toArray()).toEqual([7.5]);
    expect(() => poolMatrix(2, 9)).toThrow(/cannot pool a 2x2 grid into 3x3/);
  });
});
