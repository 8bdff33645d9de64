// Shape helpers shared by the ops: sizes, strides, broadcasting, and the error messages that name
// the op and the shapes involved.

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

export function fmt(shape: Shape): string {
  return `(${shape.join(", ")})`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** An error from an op, naming it: `matmul: inner dimensions differ: a (2, 3), b (4, 5)`. */
export class OpError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = "OpError";
  }
}

/** Numpy broadcasting of two shapes; throws naming the op when they are incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new OpError(op, `shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast (axis ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides to read `shape` (right-aligned) as if it had `target` shape: 0 on broadcast axes. */
export function broadcastStrides(shape: Shape, target: Shape): Int32Array {
  const s = stridesOf(shape);
  const out = new Int32Array(target.length);
  const off = target.length - shape.length;
  for (let i = 0; i < target.length; i++) {
    const j = i - off;
    out[i] = j < 0 || shape[j] === 1 ? 0 : s[j];
  }
  return out;
}

/** Normalises a possibly negative axis; throws naming the op if it is out of range. */
export function normAxis(op: string, axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) throw new OpError(op, `axis ${axis} out of range for ${ndim}-d tensor`);
  return a;
}

/** Index arrays must be Int32Array: a Float32Array or plain array of ids would be silently misread. */
export function checkIndexDtype(op: string, idx: Int32Array): void {
  if (!(idx instanceof Int32Array)) {
    throw new OpError(op, `indices must be an Int32Array, got ${(idx as object)?.constructor?.name ?? typeof idx}`);
  }
}

/** Int32Array indices, each in [0, limit). */
export function checkIndices(op: string, idx: Int32Array, limit: number): void {
  checkIndexDtype(op, idx);
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v < 0 || v >= limit) throw new OpError(op, `index ${v} at position ${i} out of range [0, ${limit})`);
  }
}
