// Reference rotary position embedding, Hugging Face "rotate_half" convention (LlamaRotaryEmbedding):
// the pairs are (i, i + HS/2), not interleaved (2i, 2i+1) as in the original RoFormer / Meta code.

export function rope(out: Float32Array, x: Float32Array, pos: Int32Array, BT: number, NH: number, HS: number,
  theta: number, inverse: boolean): void {
  const half = HS >> 1;
  const sign = inverse ? -1 : 1;
  for (let t = 0; t < BT; t++) {
    const p = pos[t];
    for (let i = 0; i < half; i++) {
      const ang = p * Math.pow(theta, (-2 * i) / HS);
      const c = Math.cos(ang), s = sign * Math.sin(ang);
      for (let h = 0; h < NH; h++) {
        const off = (t * NH + h) * HS;
        const x1 = x[off + i], x2 = x[off + i + half];
        out[off + i] = x1 * c - x2 * s;
        out[off + i + half] = x2 * c + x1 * s;
      }
    }
  }
}
