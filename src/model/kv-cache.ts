// KV cache: per layer, preallocated keys and values (B, capacity, NKV, HS) holding post-RoPE keys,
// a fill length per row and layer (token-pruning reducers leave later layers with fewer entries),
// and the next position id per row. Inference only: writes are raw copies, outside autograd.
// Reference: gpt-fast KVCache (preallocated, update(pos, k, v)); here rows may differ in length.
import { OpError } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

export class LayerKV {
  readonly k: Float32Array;
  readonly v: Float32Array;
  /** (B) filled entries per row. */
  readonly len: Int32Array;
  /**
   * (B) first cache entry a later token of each row may see: what the row's last cached token saw.
   * 0 for causal prompts; after a VoCo-masked prefill, the first VoCo entry, so decoded tokens stay
   * blocked from the vision K/V exactly as the prompt's text was.
   */
  readonly visibleFrom: Int32Array;
  /** (B, capacity) additive key bias of each cached entry (token merging's log size), allocated at the
   * first append that brings one; null while every entry's bias is 0. */
  bias: Float32Array | null = null;

  constructor(readonly B: number, readonly capacity: number, readonly NKV: number, readonly HS: number) {
    this.k = new Float32Array(B * capacity * NKV * HS);
    this.v = new Float32Array(B * capacity * NKV * HS);
    this.len = new Int32Array(B);
    this.visibleFrom = new Int32Array(B);
  }

  /**
   * Appends the first rowLen[b] tokens of k, v (B, T, NKV, HS) to each row b, with their key bias
   * (B, T) if given (else 0). Returns the row lengths before the append (the offset of the chunk in the cache).
   */
  append(k: Tensor, v: Tensor, rowLen: Int32Array, bias?: Tensor): Int32Array {
    const [B, T, NKV, HS] = k.shape;
    if (B !== this.B || NKV !== this.NKV || HS !== this.HS) {
      throw new OpError("KVCache", `chunk ${k.shape.join("x")} does not fit a cache of B ${this.B}, ${this.NKV} kv heads of ${this.HS}`);
    }
    if (bias !== undefined && bias.shape.join() !== [B, T].join()) {
      throw new OpError("KVCache", `key bias ${bias.shape.join("x")} must be (B, T) = (${B}, ${T}) for the chunk`);
    }
    if (bias !== undefined && this.bias === null) this.bias = new Float32Array(this.B * this.capacity);
    const before = this.len.slice();
    const row = NKV * HS;
    for (let b = 0; b < B; b++) {
      const n = rowLen[b];
      if (this.len[b] + n > this.capacity) {
        throw new OpError("KVCache", `row ${b}: ${this.len[b]} cached + ${n} new tokens exceed capacity ${this.capacity}`);
      }
      const src = b * T * row, dst = (b * this.capacity + this.len[b]) * row;
      this.k.set(k.data.subarray(src, src + n * row), dst);
      this.v.set(v.data.subarray(src, src + n * row), dst);
      if (this.bias !== null) {
        const at = b * this.capacity + this.len[b];
        if (bias === undefined) this.bias.fill(0, at, at + n);
        else this.bias.set(bias.data.subarray(b * T, b * T + n), at);
      }
      this.len[b] += n;
    }
    return before;
  }

  /** The whole buffer as (B, capacity, NKV, HS) tensors and the key bias (B, capacity) if any (views, no copy). */
  views(): { k: Tensor; v: Tensor; bias: Tensor | null } {
    const shape = [this.B, this.capacity, this.NKV, this.HS];
    return { k: new Tensor(this.k, shape), v: new Tensor(this.v, shape), bias: this.bias === null ? null : new Tensor(this.bias, [this.B, this.capacity]) };
  }

  bytes(): number {
    let n = 0;
    for (let b = 0; b < this.B; b++) n += this.len[b];
    return 2 * n * this.NKV * this.HS * 4;
  }
}

export class KVCache {
  readonly layers: LayerKV[];
  /** (B) the position id the next token of each row gets. */
  readonly nextPos: Int32Array;

  constructor(readonly B: number, readonly capacity: number, numLayers: number, NKV: number, HS: number) {
    this.layers = Array.from({ length: numLayers }, () => new LayerKV(B, capacity, NKV, HS));
    this.nextPos = new Int32Array(B);
  }

  /** Bytes of the filled K and V entries over all layers (f32). */
  bytes(): number {
    return this.layers.reduce((s, l) => s + l.bytes(), 0);
  }
}
