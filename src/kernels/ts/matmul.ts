// Reference matmul: plain loops, readable next to the formula. Not fast (~1 GFLOP/s); the native
// set (native/kernels/matmul.cc) is the fast one and is tested against this.

/** See Kernels.matmul. */
export function matmul(
  c: Float32Array, a: Float32Array, b: Float32Array,
  batch: number, M: number, N: number, K: number,
  transA: boolean, transB: boolean, strideA: number, strideB: number,
  alpha: number, beta: number,
): void {
  const row = new Float64Array(N); // one output row, accumulated in f64 to be a good reference
  for (let bi = 0; bi < batch; bi++) {
    if (transB && !transA) { // A·Bᵀ: both operands are read along contiguous rows, as dot products
      dotForm(c, a, b, bi * strideA, bi * strideB, bi * M * N, M, N, K, alpha, beta);
      continue;
    }
    const aOff = bi * strideA, bOff = bi * strideB, cOff = bi * M * N;
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let p = 0; p < K; p++) {
        const aip = transA ? a[aOff + p * M + i] : a[aOff + i * K + p];
        if (aip === 0) continue;
        if (transB) for (let j = 0; j < N; j++) row[j] += aip * b[bOff + j * K + p];
        else {
          const bRow = bOff + p * N;
          for (let j = 0; j < N; j++) row[j] += aip * b[bRow + j];
        }
      }
      const cRow = cOff + i * N;
      if (beta === 0) for (let j = 0; j < N; j++) c[cRow + j] = alpha * row[j];
      else for (let j = 0; j < N; j++) c[cRow + j] = alpha * row[j] + beta * c[cRow + j];
    }
  }
}

function dotForm(c: Float32Array, a: Float32Array, b: Float32Array, aOff: number, bOff: number, cOff: number,
  M: number, N: number, K: number, alpha: number, beta: number): void {
  for (let i = 0; i < M; i++) {
    const aRow = aOff + i * K;
    for (let j = 0; j < N; j++) {
      const bRow = bOff + j * K;
      let s = 0;
      for (let p = 0; p < K; p++) s += a[aRow + p] * b[bRow + p];
      const ci = cOff + i * N + j;
      c[ci] = beta === 0 ? alpha * s : alpha * s + beta * c[ci];
    }
  }
}
