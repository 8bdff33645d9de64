// Reference cross-entropy over rows of logits with an ignore index, and the AdamW update.

export function crossEntropyForward(loss: Float32Array, lse: Float32Array, logits: Float32Array,
  targets: Int32Array, N: number, V: number, ignoreIndex: number): void {
  for (let n = 0; n < N; n++) {
    const off = n * V;
    let mx = -Infinity;
    for (let v = 0; v < V; v++) if (logits[off + v] > mx) mx = logits[off + v];
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[off + v] - mx);
    const l = mx + Math.log(s);
    lse[n] = l;
    const t = targets[n];
    loss[n] = t === ignoreIndex ? 0 : l - logits[off + t];
  }
}

// dlogits = dloss (softmax - onehot)
export function crossEntropyBackward(dlogits: Float32Array, dloss: Float32Array, logits: Float32Array,
  lse: Float32Array, targets: Int32Array, N: number, V: number, ignoreIndex: number): void {
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (t === ignoreIndex) continue;
    const off = n * V, g = dloss[n], l = lse[n];
    for (let v = 0; v < V; v++) dlogits[off + v] += g * Math.exp(logits[off + v] - l);
    dlogits[off + t] -= g;
  }
}

export function adamwStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
  lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number): void {
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    const mhat = m[i] / bc1, vhat = v[i] / bc2;
    p[i] -= lr * (mhat / (Math.sqrt(vhat) + eps) + wd * p[i]);
  }
}
