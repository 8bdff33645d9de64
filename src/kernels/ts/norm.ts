// Reference RMSNorm and LayerNorm over the last axis of (N, C), forward and backward.

export function rmsNormForward(y: Float32Array, rstd: Float32Array, x: Float32Array, w: Float32Array, N: number,
  C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const off = n * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[off + c] * x[off + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[n] = r;
    for (let c = 0; c < C; c++) y[off + c] = x[off + c] * r * w[c];
  }
}

// xhat = x r;  dx = r (w dy - xhat mean(w dy xhat));  dw = sum_n dy xhat
export function rmsNormBackward(dx: Float32Array, dw: Float32Array, dy: Float32Array, x: Float32Array,
  w: Float32Array, rstd: Float32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const off = n * C, r = rstd[n];
    let dot = 0;
    for (let c = 0; c < C; c++) dot += w[c] * dy[off + c] * x[off + c] * r;
    const m = dot / C;
    for (let c = 0; c < C; c++) {
      const xhat = x[off + c] * r;
      dx[off + c] += r * (w[c] * dy[off + c] - xhat * m);
      dw[c] += dy[off + c] * xhat;
    }
  }
}

export function layerNormForward(y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array,
  w: Float32Array, b: Float32Array, N: number, C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const off = n * C;
    let s = 0;
    for (let c = 0; c < C; c++) s += x[off + c];
    const mu = s / C;
    let v = 0;
    for (let c = 0; c < C; c++) { const d = x[off + c] - mu; v += d * d; }
    const r = 1 / Math.sqrt(v / C + eps);
    mean[n] = mu; rstd[n] = r;
    for (let c = 0; c < C; c++) y[off + c] = (x[off + c] - mu) * r * w[c] + b[c];
  }
}

// g = w dy;  dx = r (g - mean(g) - xhat mean(g xhat))
export function layerNormBackward(dx: Float32Array, dw: Float32Array, db: Float32Array, dy: Float32Array,
  x: Float32Array, w: Float32Array, mean: Float32Array, rstd: Float32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const off = n * C, mu = mean[n], r = rstd[n];
    let sg = 0, sgx = 0;
    for (let c = 0; c < C; c++) {
      const g = w[c] * dy[off + c], xhat = (x[off + c] - mu) * r;
      sg += g; sgx += g * xhat;
    }
    sg /= C; sgx /= C;
    for (let c = 0; c < C; c++) {
      const xhat = (x[off + c] - mu) * r;
      dx[off + c] += r * (w[c] * dy[off + c] - sg - xhat * sgx);
      dw[c] += dy[off + c] * xhat;
      db[c] += dy[off + c];
    }
  }
}
