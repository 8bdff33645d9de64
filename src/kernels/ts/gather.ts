// Reference row gather (embedding lookup, token pruning) and scatter-add (their backward).

export function gatherRows(out: Float32Array, x: Float32Array, idx: Int32Array, nIdx: number, C: number): void {
  for (let i = 0; i < nIdx; i++) out.set(x.subarray(idx[i] * C, idx[i] * C + C), i * C);
}

export function scatterAddRows(out: Float32Array, x: Float32Array, idx: Int32Array, nIdx: number, C: number): void {
  for (let i = 0; i < nIdx; i++) {
    const o = idx[i] * C, s = i * C;
    for (let c = 0; c < C; c++) out[o + c] += x[s + c];
  }
}
