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
