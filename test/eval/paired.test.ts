// The paired difference and its standard error, against a hand computation.
import { describe, expect, it } from "vitest";
import { pairedDifference } from "../../src/eval/paired.js";

const q = (correct: boolean[], tag = "q") => correct.map((c, i) => ({ question: `${tag}${i}`, answer: "a", correct: c }));

describe("pairedDifference", () => {
  it("gives the mean per-question difference and sd/sqrt(n)", () => {
    // d = [0, 1, 0, -1, 1]: mean 0.2; deviations -0.2, 0.8, -0.2, -1.2, 0.8; squares sum 0.04+0.64+0.04+1.44+0.64 = 2.8;
    // sample variance 2.8/4 = 0.7; se = sqrt(0.7/5)
    const a = q([true, true, false, false, true]), b = q([true, false, false, true, false]);
    const r = pairedDifference(a, b);
    expect(r.difference).toBeCloseTo(0.2, 12);
    expect(r.se).toBeCloseTo(Math.sqrt(0.7 / 5), 12);
    expect(r.n).toBe(5);
    expect(r.disagreements).toBe(3);
    // the same answers: no difference and no noise
    expect(pairedDifference(a, a)).toEqual({ difference: 0, se: 0, n: 5, disagreements: 0 });
  });

  it("refuses answers to different questions, naming the first that differs", () => {
    expect(() => pairedDifference(q([true]), q([true, false]))).toThrow(/1 answers against 2/);
    expect(() => pairedDifference(q([true, true]), [q([true])[0], { question: "other", answer: "a", correct: true }])).toThrow(/question 1 differs/);
  });
});
