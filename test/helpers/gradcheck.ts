// Forward against a float64 reference, and backward against central finite differences of that
// reference: loss = sum(out * dout) with a random dout (never ones), eps = 1e-6 in float64.
import { Tensor } from "../../src/tensor/tensor.js";
import { expectAllclose, type Tol } from "./allclose.js";
import { randArray } from "./random.js";

export interface OpCase {
  label: string;
  /** Input values (float64) and shapes. */
  inputs: { shape: number[]; data: Float64Array; grad?: boolean }[];
  /** The op under test on f32 tensors. */
  op: (xs: Tensor[]) => Tensor;
  /** The float64 reference of the same function. */
  ref: (xs: Float64Array[]) => Float64Array;
  forwardTol?: Tol;
  gradTol?: Tol;
  seed?: number;
}

export function checkOp(c: OpCase): void {
  const xs = c.inputs.map((i) => new Tensor(Float32Array.from(i.data), i.shape, i.grad !== false));
  // The f64 reference sees the f32-rounded inputs, so only the op's arithmetic is compared.
  const x64 = xs.map((t) => Float64Array.from(t.data));
  const out = c.op(xs);
  const ref = c.ref(x64);
  expectAllclose(out.data, ref, c.forwardTol ?? { rtol: 1e-5, atol: 1e-6 }, `${c.label} forward`);

  const dout = randArray(out.size, c.seed ?? 1234);
  out.backward(new Tensor(Float32Array.from(dout), out.shape));
  const h = 1e-6;
  const lossAt = (xsv: Float64Array[]): number => {
    const y = c.ref(xsv);
    let s = 0;
    for (let i = 0; i < y.length; i++) if (dout[i] !== 0 && Number.isFinite(y[i])) s += y[i] * dout[i];
    return s;
  };
  c.inputs.forEach((inp, j) => {
    if (inp.grad === false) return;
    const num = new Float64Array(inp.data.length);
    const xv = x64.map((a) => a.slice());
    for (let i = 0; i < num.length; i++) {
      const orig = xv[j][i];
      xv[j][i] = orig + h; const lp = lossAt(xv);
      xv[j][i] = orig - h; const lm = lossAt(xv);
      xv[j][i] = orig;
      num[i] = (lp - lm) / (2 * h);
    }
    const g = xs[j].grad;
    const analytic = g === null ? new Float32Array(num.length) : g.data;
    expectAllclose(analytic, num, c.gradTol ?? { rtol: 1e-3, atol: 1e-4 }, `${c.label} grad of input ${j}`);
  });
}
