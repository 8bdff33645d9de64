import { describe, expect, it } from "vitest";
import { answerKl } from "../../src/train/answer-kl.js";
import { IGNORE_INDEX, klDivergence } from "../../src/tensor/ops/loss.js";
import { Tensor } from "../../src/tensor/tensor.js";

const V = 5;
function randLogits(rows: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: rows * V }, () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s / 2 ** 32) * 4 - 2; });
}
/** KL(p_t || p_s) of one row in float64, by hand. */
function klRow(s: ArrayLike<number>, t: ArrayLike<number>, tau: number): number {
  const lsm = (x: ArrayLike<number>) => { const m = Math.max(...Array.from(x)); const z = Math.log(Array.from(x).reduce((a, v) => a + Math.exp((v - m) / tau), 0)); return Array.from(x, (v) => (v - m) / tau - z); };
  const ls = lsm(s), lt = lsm(t);
  return lt.reduce((a, l, i) => a + Math.exp(l) * (l - ls[i]), 0) * tau * tau;
}

describe("answerKl", () => {
  const I = IGNORE_INDEX;
  it("equals the row-masked KL when both models lay the batch out alike", () => {
    const targets = Int32Array.from([I, 3, I, 1, 4, I]);
    const s = new Tensor(randLogits(6, 1), [6, V]), t = new Tensor(randLogits(6, 2), [6, V]);
    const mask = Uint8Array.from(targets, (x) => (x === I ? 0 : 1));
    expect(answerKl(s, targets, t, targets, 2).item()).toBeCloseTo(klDivergence(s, t, 2, mask).item(), 6);
  });

  it("matches rows by answer token when the teacher's sequence is shorter (no <voco> tokens)", () => {
    const st = Int32Array.from([I, I, I, 3, 1, I, I, I, 4]); // two samples of T = 4.5: student has two extra prefix rows
    const tt = Int32Array.from([I, 3, 1, I, 4, I]);
    const sd = randLogits(st.length, 3), td = randLogits(tt.length, 4);
    const pairs = [[3, 1], [4, 2], [8, 4]];
    const want = pairs.reduce((a, [i, j]) => a + klRow(sd.subarray(i * V, (i + 1) * V), td.subarray(j * V, (j + 1) * V), 1.5), 0) / pairs.length;
    const got = answerKl(new Tensor(sd, [st.length, V]), st, new Tensor(td, [tt.length, V]), tt, 1.5);
    expect(got.item()).toBeCloseTo(want, 5);
  });

  it("refuses batches whose answers differ, naming the mismatch", () => {
    const s = new Tensor(randLogits(3, 5), [3, V]);
    expect(() => answerKl(s, [I, 3, 1], s, [I, 3, I], 1)).toThrow(/2 answer tokens against the teacher's 1/);
    expect(() => answerKl(s, [I, 3, 1], s, [I, 3, 2], 1)).toThrow(/answer token 1 differs \(1 against 2\)/);
  });
});
