// Reference reductions over one axis of a tensor viewed as (outer, dim, inner), softmax over rows,
// and the squared norm used by gradient clipping.

export function sumAxis(out: Float32Array, x: Float32Array, outer: number, dim: number, inner: number,
  scale: number): void {
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let d = 0; d < dim; d++) {
      const base = (o * dim + d) * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[base + i];
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i] * scale;
  }
}

export function maxAxis(out: Float32Array, arg: Int32Array, x: Float32Array, outer: number, dim: number,
  inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity, bestD = 0;
      for (let d = 0; d < dim; d++) {
        const v = x[(o * dim + d) * inner + i];
        if (v > best || Number.isNaN(v)) { best = v; bestD = d; if (Number.isNaN(v)) break; }
      }
      out[o * inner + i] = best;
      arg[o * inner + i] = bestD;
    }
  }
}

export function softmaxForward(y: Float32Array, x: Float32Array, N: number, C: number, log: boolean): void {
  for (let n = 0; n < N; n++) {
    const off = n * C;
    let mx = -Infinity;
    for (let c = 0; c < C; c++) if (x[off + c] > mx) mx = x[off + c];
    if (mx === -Infinity) { // nothing visible: softmax 0, log-softmax -inf
      for (let c = 0; c < C; c++) y[off + c] = log ? -Infinity : 0;
      continue;
    }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(x[off + c] - mx);
    if (log) {
      const lse = mx + Math.log(sum);
      for (let c = 0; c < C; c++) y[off + c] = x[off + c] - lse;
    } else {
      const inv = 1 / sum;
      for (let c = 0; c < C; c++) y[off + c] = Math.exp(x[off + c] - mx) * inv;
    }
  }
}

// softmax: dx = y (dy - <dy, y>);  log-softmax: dx = dy - exp(y) sum(dy)
export function softmaxBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, N: number, C: number,
  log: boolean): void {
  for (let n = 0; n < N; n++) {
    const off = n * C;
    let s = 0;
    if (log) {
      for (let c = 0; c < C; c++) s += dy[off + c];
      for (let c = 0; c < C; c++) {
        const p = Math.exp(y[off + c]); // exp(-inf) = 0 for hidden entries
        dx[off + c] += dy[off + c] - p * s;
      }
    } else {
      for (let c = 0; c < C; c++) s += dy[off + c] * y[off + c];
      for (let c = 0; c < C; c++) dx[off + c] += y[off + c] * (dy[off + c] - s);
    }
  }
}

export function sumSquares(x: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}
