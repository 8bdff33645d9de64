// `vlmc bench voco`'s VoCo-against-pooling differences: paired per question, only where both folders exist.
import { describe, expect, it } from "vitest";
import { formatVocoTable, minusAvgPool, type VocoBenchResult } from "../../bench/voco.js";
import type { QuestionResult } from "../../src/eval/vqa.js";

const answers = (correct: boolean[]): QuestionResult[] =>
  correct.map((c, i) => ({ type: "count", template: "t", question: `q${i}`, answer: "2", predicted: c ? "2" : "3", correct: c }));

describe("bench voco: VoCo minus average pooling", () => {
  const results = {
    "voco-1": answers([true, true, false, true]),
    "pool-1": answers([true, false, false, false]),
    "voco-pool-1": answers([true, true, true, true]),
    "voco-8": answers([true, true, true, true]), // no pool-8: nothing to compare with
  };

  it("pairs each VoCo folder with pool-N on the same questions", () => {
    // voco-1 - pool-1: d = [0, 1, 0, 1], mean 0.5, sample variance 1/3, se sqrt(1/12)
    expect(minusAvgPool(results, "voco")).toEqual({ "1": { difference: 0.5, se: Math.sqrt(1 / 12), n: 4, disagreements: 2 } });
    // voco-pool-1 - pool-1: d = [0, 1, 1, 1], mean 0.75, sample variance 0.25, se 0.25
    expect(minusAvgPool(results, "voco-pool")).toEqual({ "1": { difference: 0.75, se: 0.25, n: 4, disagreements: 3 } });
  });

  it("prints the differences beside the accuracy table", () => {
    const r: VocoBenchResult = {
      accuracy: { upper: 1, lower: 0, voco: { "1": 0.75 }, avgpool: { "1": 0.25 }, voco_pool: { "1": 1 } },
      retention: { "1": 0.75 }, avgpool_retention: { "1": 0.25 }, voco_pool_retention: { "1": 1 },
      cached_inference: {}, n_questions: 4, video: { accuracy: {}, frames_in_context: {} },
      voco_minus_avgpool: minusAvgPool(results, "voco"), voco_pool_minus_avgpool: minusAvgPool(results, "voco-pool"),
    };
    expect(formatVocoTable(r)).toContain("N = 1: VoCo minus average pooling 50.0 ± 28.9 points; pooled-start VoCo minus average pooling 75.0 ± 25.0 points");
  });
});
