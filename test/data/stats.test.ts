import { expect, test } from "vitest";
import { collectStats } from "../../src/data/stats.js";
import type { Example } from "../../src/data/stream.js";

test("top answer and share are right for digit answers too (integer-like keys reorder objects)", () => {
  const qa = (answer: string) => ({ type: "count" as const, template: "count/total" as const, question: "q", answer });
  const ex = {
    id: "x", split: "train", kind: "image", width: 1, height: 1, frames: [], conversations: [],
    scene: { objects: [], background: { grey: 0, gradient: 0, noise: 0, strokes: 0, seed: 0 } },
    qa: [qa("0"), qa("3"), qa("3"), qa("3"), qa("1")],
  } as Example;
  const s = collectStats([ex]);
  expect(s.types.count.top).toBe("3");
  expect(s.types.count.maxShare).toBeCloseTo(0.6);
  expect(s.types.count.answers).toEqual({ "0": 1, "1": 1, "3": 3 });
  expect(s.questions).toBe(5);
});
