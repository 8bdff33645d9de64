// Element-wise ops: broadcast binary arithmetic, unary functions, scale/shift, where, dropout, SwiGLU.
// Broadcast gradients are returned in the output's shape; autograd sums them back to each input.
import type { BinaryOp, UnaryOp } from "../../kernels/kernel.js";
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import type { Rng } from "../random.js";
import { broadcastShapes, broadcastStrides, fmt, OpError, sameShape } from "../shape.js";
import { Tensor } from "../tensor.js";

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = Tensor.zeros(shape);
  if (out.size === 0) return out;
  if (shape.length === 0) { // scalars: give the kernel a 1-d view
    K().binary(op, out.data, a.data, b.data, Int32Array.of(1), Int32Array.of(0), Int32Array.of(0));
    return out;
  }
  K().binary(op, out.data, a.data, b.data, Int32Array.from(shape), broadcastStrides(a.shape, shape),
    broadcastStrides(b.shape, shape));
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  return record(binaryForward("add", a, b), "add", [a, b], (g) => [g, g]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binaryForward("sub", a, b), "sub", [a, b], (g) => [g, b.requiresGrad ? scaleRaw(g, -1) : null]);
}

// d(a*b) = (g*b, g*a)
export function mul(a: Tensor, b: Tensor): Tensor {
  return record(binaryForward("mul", a, b), "mul", [a, b], (g) => [
    a.requiresGrad ? binaryForward("mul", g, b) : null,
    b.requiresGrad ? binaryForward("mul", g, a) : null,
  ]);
}

// d(a/b) = (g/b, -g*a/b^2)
export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryForward("div", a, b);
  return record(out, "div", [a, b], (g) => [
    a.requiresGrad ? binaryForward("div", g, b) : null,
    b.requiresGrad ? scaleRaw(binaryForward("div", binaryForward("mul", g, out), b), -1) : null,
  ]);
}

/** Element-wise maximum; the gradient goes to a where a >= b, else to b. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  const out = binaryForward("max", a, b);
  return record(out, "maximum", [a, b], (g) => {
    const ae = Tensor.zeros(out.shape), be = Tensor.zeros(out.shape);
    const ab = binaryForward("sub", a, b); // sign of a - b, broadcast to the output
    for (let i = 0; i < out.size; i++) {
      if (ab.data[i] >= 0) ae.data[i] = g.data[i]; else be.data[i] = g.data[i];
    }
    return [ae, be];
  });
}

function scaleRaw(x: Tensor, s: number, t = 0): Tensor {
  const out = Tensor.zeros(x.shape);
  K().affine(out.data, x.data, x.size, s, t);
  return out;
}

/** x * s + t for scalars s, t. */
export function affine(x: Tensor, s: number, t = 0): Tensor {
  return record(scaleRaw(x, s, t), "affine", [x], (g) => [scaleRaw(g, s)]);
}

export function scale(x: Tensor, s: number): Tensor {
  return affine(x, s, 0);
}

export function addScalar(x: Tensor, t: number): Tensor {
  return affine(x, 1, t);
}

export function neg(x: Tensor): Tensor {
  return affine(x, -1, 0);
}

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const y = Tensor.zeros(x.shape);
  K().unary(op, y.data, x.data, x.size);
  return record(y, op, [x], (g) => {
    const dx = Tensor.zeros(x.shape);
    K().unaryBackward(op, dx.data, g.data, x.data, y.data, x.size);
    return [dx];
  });
}

export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
export const log = (x: Tensor): Tensor => unaryOp("log", x);
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
export const rsqrt = (x: Tensor): Tensor => unaryOp("rsqrt", x);
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
export const silu = (x: Tensor): Tensor => unaryOp("silu", x);
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
export const square = (x: Tensor): Tensor => unaryOp("square", x);

/** GELU; "tanh" is the approximation GPT-2/CLIP use (gelu_pytorch_tanh / quick variants differ), "erf" the exact one. */
export function gelu(x: Tensor, approximate: "tanh" | "erf" = "tanh"): Tensor {
  return unaryOp(approximate === "tanh" ? "geluTanh" : "geluErf", x);
}

/** silu(gate) * up, fused (LLaMA's MLP). */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  if (!sameShape(gate.shape, up.shape)) throw new OpError("swiglu", `gate ${fmt(gate.shape)} != up ${fmt(up.shape)}`);
  const out = Tensor.zeros(gate.shape);
  K().swigluForward(out.data, gate.data, up.data, out.size);
  return record(out, "swiglu", [gate, up], (g) => {
    const dg = Tensor.zeros(gate.shape), du = Tensor.zeros(up.shape);
    K().swigluBackward(dg.data, du.data, g.data, gate.data, up.data, out.size);
    return [dg, du];
  });
}

/** cond ? a : b element-wise; cond is a non-differentiable mask of the output's size (no broadcasting). */
export function where(cond: Uint8Array, a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape) || cond.length !== a.size) {
    throw new OpError("where", `cond has ${cond.length} elements, a ${fmt(a.shape)}, b ${fmt(b.shape)}: all must match`);
  }
  const out = Tensor.zeros(a.shape);
  for (let i = 0; i < out.size; i++) out.data[i] = cond[i] ? a.data[i] : b.data[i];
  return record(out, "where", [a, b], (g) => {
    const da = Tensor.zeros(a.shape), db = Tensor.zeros(b.shape);
    for (let i = 0; i < g.size; i++) (cond[i] ? da : db).data[i] = g.data[i];
    return [da, db];
  });
}

/** Inverted dropout: zero with probability p, scale survivors by 1/(1-p). Identity when p = 0. */
export function dropout(x: Tensor, p: number, rng: Rng): Tensor {
  if (p < 0 || p >= 1) throw new OpError("dropout", `p must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const keep = new Float32Array(x.size);
  const s = 1 / (1 - p);
  for (let i = 0; i < keep.length; i++) keep[i] = rng.uniform() >= p ? s : 0;
  const mask = new Tensor(keep, x.shape);
  return mul(x, mask);
}
