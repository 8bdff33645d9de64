// Seeded random inputs for tests.
import { Rng } from "../../src/tensor/random.js";
import { Tensor } from "../../src/tensor/tensor.js";

export function randArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const r = new Rng(seed);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.uniform();
  return a;
}

export function randTensor(shape: number[], seed: number, lo = -1, hi = 1, requiresGrad = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from(randArray(n, seed, lo, hi)), shape, requiresGrad);
}
