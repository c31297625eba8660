/** Gymnasium-style Box space: a fixed-shape float vector with per-dimension bounds. */
import { Rng } from './rng.js';

export class Box {
  readonly low: Float32Array;
  readonly high: Float32Array;
  readonly shape: readonly number[];

  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape?: number[]) {
    const n = shape ? shape.reduce((a, b) => a * b, 1) : typeof low === 'number' ? (typeof high === 'number' ? 1 : high.length) : low.length;
    this.shape = shape ?? [n];
    this.low = typeof low === 'number' ? new Float32Array(n).fill(low) : Float32Array.from(low);
    this.high = typeof high === 'number' ? new Float32Array(n).fill(high) : Float32Array.from(high);
    if (this.low.length !== n || this.high.length !== n) {
      throw new Error(`Box bounds have ${this.low.length}/${this.high.length} entries, shape ${this.shape} needs ${n}`);
    }
    for (let i = 0; i < n; i++) {
      if (!(this.low[i] <= this.high[i])) throw new Error(`Box bound ${i}: low ${this.low[i]} > high ${this.high[i]}`);
    }
  }

  get size(): number {
    return this.low.length;
  }

  contains(x: ArrayLike<number>, tol = 0): boolean {
    if (x.length !== this.size) return false;
    for (let i = 0; i < x.length; i++) {
      if (!(x[i] >= this.low[i] - tol && x[i] <= this.high[i] + tol)) return false;
    }
    return true;
  }

  /** Uniform sample; unbounded dimensions draw from a standard normal, as Gymnasium does. */
  sample(rng: Rng, out = new Float32Array(this.size)): Float32Array {
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i];
      const hi = this.high[i];
      out[i] = Number.isFinite(lo) && Number.isFinite(hi) ? rng.range(lo, hi) : rng.normal();
    }
    return out;
  }

  clip(x: ArrayLike<number>, out = new Float32Array(this.size)): Float32Array {
    for (let i = 0; i < this.size; i++) out[i] = Math.min(this.high[i], Math.max(this.low[i], x[i]));
    return out;
  }

  /**
   * Checks length and finiteness; throws a message naming the field and the expected size.
   * Out-of-range values are the caller's business (Meta-World clips actions, it does not reject them).
   */
  assertValid(x: ArrayLike<number>, what = 'value'): void {
    if (x == null || typeof x.length !== 'number') throw new Error(`${what} must be an array of ${this.size} numbers`);
    if (x.length !== this.size) throw new Error(`${what} has length ${x.length}, expected ${this.size}`);
    for (let i = 0; i < x.length; i++) {
      if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) {
        throw new Error(`${what}[${i}] is ${x[i]}; expected a finite number in [${this.low[i]}, ${this.high[i]}]`);
      }
    }
  }

  toJSON(): { low: number[]; high: number[]; shape: number[] } {
    return { low: Array.from(this.low, finiteOr), high: Array.from(this.high, finiteOr), shape: [...this.shape] };
  }
}

/** JSON has no Infinity; encode it as null and read it back with `boxFromJSON`. */
function finiteOr(x: number): number {
  return Number.isFinite(x) ? x : (null as unknown as number);
}

export function boxFromJSON(j: { low: (number | null)[]; high: (number | null)[]; shape?: number[] }): Box {
  return new Box(
    j.low.map((x) => (x === null ? -Infinity : x)),
    j.high.map((x) => (x === null ? Infinity : x)),
    j.shape,
  );
}
