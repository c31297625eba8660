/**
 * Seeded, splittable random number generator.
 *
 * xoshiro128** on four 32-bit words: fast in JS (pure 32-bit integer math), good statistical quality,
 * and its whole state fits in a checkpoint. Streams are split by hashing (parent seed, label) through
 * SplitMix32, so `rng.split('env')` gives the same numbers no matter how many draws the parent made —
 * adding a draw in one component never shifts the numbers of another.
 */

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function hashString(s: string): number {
  // FNV-1a, enough to turn a stream label into 32 bits.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export type RngState = [number, number, number, number];

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** The 32-bit key this stream was derived from; children hash from it, not from the live state. */
  readonly key: number;
  private spareNormal: number | null = null;

  constructor(seed: number | string = 0) {
    if (typeof seed === 'number' && !Number.isFinite(seed)) {
      throw new Error(`Rng seed must be a finite number or a string, got ${seed}`);
    }
    this.key = 0;
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.reseed(typeof seed === 'string' ? hashString(seed) : mixNumber(seed));
  }

  /** A child stream, independent of how many numbers this one has drawn. */
  split(label: string | number): Rng {
    const child = new Rng(0);
    const k = splitmix32(this.key ^ (typeof label === 'string' ? hashString(label) : mixNumber(label)));
    return child.reseed(k);
  }

  private reseed(key: number): Rng {
    (this as { key: number }).key = key;
    let x = key;
    this.s0 = x = splitmix32(x);
    this.s1 = x = splitmix32(x);
    this.s2 = x = splitmix32(x);
    this.s3 = splitmix32(x);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spareNormal = null;
    return this;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). Rejection sampling, so no modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new Error(`Rng.int(n) needs an integer n in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Fill an array with uniform values in [lo, hi). */
  fillUniform(out: Float32Array | Float64Array, lo = 0, hi = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fisher-Yates in place. */
  shuffle<T>(arr: T[] | Int32Array | Uint32Array): typeof arr {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** k distinct indices from [0, n) (k <= n). */
  sampleWithoutReplacement(n: number, k: number): Int32Array {
    if (k > n) throw new Error(`cannot draw ${k} distinct indices from ${n}`);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx.slice(0, k);
  }

  getState(): { s: RngState; key: number; spare: number | null } {
    return { s: [this.s0, this.s1, this.s2, this.s3], key: this.key, spare: this.spareNormal };
  }

  static fromState(state: { s: RngState; key: number; spare: number | null }): Rng {
    const r = new Rng(0).reseed(state.key);
    [r.s0, r.s1, r.s2, r.s3] = state.s;
    r.spareNormal = state.spare;
    return r;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Integers (including beyond 2^32 and negatives) to 32 bits without collisions for small seeds. */
function mixNumber(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return splitmix32(lo ^ splitmix32(hi ^ (Number.isInteger(seed) ? 0 : hashString(String(seed)))));
}
