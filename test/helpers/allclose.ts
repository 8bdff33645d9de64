// Closeness checks that print where and by how much two arrays differ.
import { expect } from "vitest";

export interface Tol {
  rtol?: number;
  atol?: number;
}

/** max |a - e| / (atol + rtol |e|) over elements; <= 1 means close. Infinities must match exactly. */
export function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol = {}): { worst: number; at: number; maxAbs: number } {
  const rtol = tol.rtol ?? 1e-5, atol = tol.atol ?? 1e-6;
  let worst = 0, at = -1, maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!(a === e || (Number.isNaN(a) && Number.isNaN(e)))) return { worst: Infinity, at: i, maxAbs: Infinity };
      continue;
    }
    const d = Math.abs(a - e);
    maxAbs = Math.max(maxAbs, d);
    const r = d / (atol + rtol * Math.abs(e));
    if (r > worst) { worst = r; at = i; }
  }
  return { worst, at, maxAbs };
}

export function expectAllclose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol = {}, label = ""): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const { worst, at, maxAbs } = closeness(actual, expected, tol);
  const msg = `${label}: worst at [${at}] actual ${actual[at]} expected ${expected[at]} (max abs diff ${maxAbs}, tol ${JSON.stringify(tol)})`;
  expect(worst <= 1, msg).toBe(true);
}
