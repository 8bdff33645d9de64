// Reverse-mode autograd over the graph that ops record on their outputs (Tensor.node).
// One place does what every op would otherwise repeat: summing broadcast gradients back to the
// input's shape, checking each gradient's shape, accumulating (+=) and freeing the graph.
import { K } from "../kernels/index.js";
import { fmt, numel, OpError, sameShape, stridesOf } from "./shape.js";
import { Tensor, type GradNode } from "./tensor.js";

let gradEnabled = true;

/** Runs fn without recording gradients (inference). Nested calls are fine. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Attaches a backward function to an op's output if any input needs a gradient. Returns the output.
 * `backward` receives the output's gradient and returns one gradient per input (null = none).
 */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode["backward"]): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

/** Sums g (a broadcast of `shape`) back to `shape`. */
export function sumToShape(op: string, g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const n = g.ndim, off = n - shape.length;
  if (off < 0) throw new OpError(op, `gradient ${fmt(g.shape)} has fewer axes than input ${fmt(shape)}`);
  const inStrides = stridesOf(shape);
  const outStrides = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = i - off;
    if (j >= 0 && shape[j] !== 1 && shape[j] !== g.shape[i]) {
      throw new OpError(op, `gradient ${fmt(g.shape)} does not broadcast from input ${fmt(shape)}`);
    }
    outStrides[i] = j < 0 || shape[j] === 1 ? 0 : inStrides[j];
  }
  const r = Tensor.zeros(shape);
  if (numel(g.shape) > 0) K().accumulateStrided(r.data, g.data, Int32Array.from(g.shape), outStrides);
  return r;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS: deep graphs (long training sequences of ops) must not overflow the stack
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child)) { seen.add(child); stack.push([child, 0]); }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order; // inputs before outputs
}

/** Backpropagates from root. Leaves (no node, requiresGrad) accumulate into .grad; the graph is freed. */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new OpError("backward", "tensor does not require grad (was it computed under noGrad?)");
  if (grad === undefined && root.size !== 1) {
    throw new OpError("backward", `an upstream gradient is needed for non-scalar ${fmt(root.shape)}`);
  }
  const seed = grad?.detach() ?? Tensor.full(root.shape, 1); // a copy: it may be accumulated into
  if (!sameShape(seed.shape, root.shape)) {
    throw new OpError("backward", `upstream gradient ${fmt(seed.shape)} != output ${fmt(root.shape)}`);
  }
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  // Buffers owned by entries of `grads`: a backward may return one buffer for several inputs (add
  // returns dout twice; reshape returns a view), and accumulating into a shared buffer would corrupt
  // the others, so a buffer already owned is copied before it is stored.
  const owned = new Set<Float32Array>([seed.data]);
  const order = topoOrder(root);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      owned.delete(g.data);
      if (t.node === null) { accumulateLeaf(t, g); continue; }
      const node = t.node;
      const gin = node.backward(g);
      if (gin.length !== node.inputs.length) {
        throw new OpError(node.op, `backward returned ${gin.length} gradients for ${node.inputs.length} inputs`);
      }
      node.inputs.forEach((inp, j) => {
        const gj = gin[j];
        if (gj === null || !inp.requiresGrad) return;
        const reduced = sumToShape(node.op, gj, inp.shape);
        const prev = grads.get(inp);
        if (prev !== undefined) { K().axpy(prev.data, reduced.data, prev.size, 1); return; }
        const own = owned.has(reduced.data) ? reduced.detach() : reduced;
        if (!sameShape(own.shape, inp.shape)) throw new OpError(node.op, `gradient ${fmt(own.shape)} != input ${fmt(inp.shape)}`);
        grads.set(inp, own);
        owned.add(own.data);
      });
      t.node = null; // free the graph as we go
    }
  });
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (t.grad === null) t.grad = new Tensor(g.data.slice(), t.shape);
  else K().axpy(t.grad.data, g.data, t.size, 1);
}
