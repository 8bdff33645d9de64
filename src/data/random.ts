// Seeded pseudo-random numbers for the data generators: xoshiro128** seeded through splitmix32.
//
// Every random choice in src/data goes through an `Rng` so that a dataset is a pure function of its
// seeds (Math.random is never used). `Rng.from(a, b, c, ...)` mixes several integers (dataset seed,
// split id, example index, purpose tag) into one 128-bit state, so streams keyed by different tuples
// are independent and an example can be regenerated from its key alone.
//
// Not here: tensor initialisation RNG (src/tensor), cryptographic randomness.
// Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (xoshiro128**);
// splitmix32 is the 32-bit variant of Steele et al.'s SplitMix mixer.

/** One splitmix32 step on `x`: a well-mixed 32-bit hash of a 32-bit input. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Hash a tuple of integers (each taken mod 2^32) into one 32-bit value; order matters. */
export function hashInts(...keys: number[]): number {
  let h = 0x811c9dc5;
  for (const k of keys) h = mix32(h ^ mix32(k >>> 0));
  return h;
}

/** Hash a string into 32 bits (FNV-1a then mixed), for tagging sub-streams by name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

export class Rng {
  #s: Uint32Array;

  /** Build from a tuple of integer keys; equal tuples give equal streams. */
  static from(...keys: number[]): Rng {
    const h = hashInts(...keys);
    const s = new Uint32Array(4);
    // Four successive splitmix32 outputs; xoshiro needs a state that is not all zero.
    for (let i = 0; i < 4; i++) s[i] = mix32(h + Math.imul(i + 1, 0x9e3779b9));
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    return new Rng(s);
  }

  constructor(state: Uint32Array) {
    if (state.length !== 4) throw new Error(`Rng state must have 4 words, got ${state.length}`);
    this.#s = Uint32Array.from(state);
  }

  /** A copy of the 128-bit state, e.g. to checkpoint a stream. */
  state(): Uint32Array {
    return Uint32Array.from(this.#s);
  }

  /** A new independent generator keyed by this one's next output and `tag`. */
  fork(tag: string | number): Rng {
    const t = typeof tag === "string" ? hashString(tag) : tag;
    return Rng.from(this.u32(), t);
  }

  /** Next raw 32-bit output (xoshiro128**). */
  u32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n). Uses rejection so there is no modulo bias. */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`Rng.int needs an integer n >= 1, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.u32();
    while (x >= limit) x = this.u32();
    return x % n;
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  range(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`Rng.range: empty range [${lo}, ${hi}]`);
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: empty array");
    return items[this.int(items.length)];
  }

  /** Index chosen with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    if (!(total > 0)) throw new Error("Rng.weighted: weights sum to zero");
    let u = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    return weights.length - 1; // float round-off
  }

  /** Fisher-Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** `k` distinct elements in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new Error(`Rng.sample: k=${k} > ${items.length} items`);
    return this.shuffled(items).slice(0, k);
  }

  /**
   * Cheap zero-mean, unit-variance noise for pixels: the sum of the two 16-bit halves of one output
   * (a triangular distribution on [-sqrt(6), sqrt(6)]), one generator step per pixel.
   */
  noise(): number {
    const x = this.u32();
    return ((x & 0xffff) + (x >>> 16) - 65535) * (2.449489743 / 65536);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
