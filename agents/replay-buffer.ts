/**
 * Replay buffer on flat typed arrays: no per-transition objects, so a 1M-transition buffer is a few
 * large allocations and sampling a batch is a tight copy loop. Rewards can be relabelled in place from
 * a learned reward model (PEBBLE relabels the whole buffer after every reward update).
 */
import { Rng } from '../core/rng.js';
import { BinArray, readBinFile, writeBinFile } from '../core/serialize.js';

export interface Batch {
  size: number;
  obs: Float32Array; // size * obsDim
  actions: Float32Array; // size * actDim
  rewards: Float32Array; // size
  nextObs: Float32Array; // size * obsDim
  /** 1 where the episode truly terminated (not a time-limit truncation: those bootstrap). */
  dones: Float32Array;
}

export function allocBatch(size: number, obsDim: number, actDim: number): Batch {
  return {
    size,
    obs: new Float32Array(size * obsDim),
    actions: new Float32Array(size * actDim),
    rewards: new Float32Array(size),
    nextObs: new Float32Array(size * obsDim),
    dones: new Float32Array(size),
  };
}

/** Maps (obs, actions) of n transitions to n rewards. */
export type RewardFn = (obs: Float32Array, actions: Float32Array, n: number) => Float32Array;

export class ReplayBuffer {
  readonly capacity: number;
  readonly obsDim: number;
  readonly actDim: number;
  private obsBuf: Float32Array;
  private actBuf: Float32Array;
  private rewBuf: Float32Array;
  private nextObsBuf: Float32Array;
  private doneBuf: Float32Array;
  /** The environment's own reward, kept beside the (possibly learned) training reward for analysis. */
  private trueRewBuf: Float32Array;
  private next = 0;
  private count = 0;

  constructor(capacity: number, obsDim: number, actDim: number) {
    for (const [k, v] of Object.entries({ capacity, obsDim, actDim })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`ReplayBuffer: ${k} must be a positive integer, got ${v}`);
    }
    this.capacity = capacity;
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.obsBuf = new Float32Array(capacity * obsDim);
    this.actBuf = new Float32Array(capacity * actDim);
    this.rewBuf = new Float32Array(capacity);
    this.nextObsBuf = new Float32Array(capacity * obsDim);
    this.doneBuf = new Float32Array(capacity);
    this.trueRewBuf = new Float32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  add(obs: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextObs: ArrayLike<number>, terminated: boolean, trueReward = reward): void {
    if (obs.length !== this.obsDim || nextObs.length !== this.obsDim) {
      throw new Error(`ReplayBuffer.add: observation length ${obs.length}/${nextObs.length}, expected ${this.obsDim}`);
    }
    if (action.length !== this.actDim) throw new Error(`ReplayBuffer.add: action length ${action.length}, expected ${this.actDim}`);
    if (!Number.isFinite(reward)) throw new Error(`ReplayBuffer.add: reward is ${reward}`);
    const i = this.next;
    this.obsBuf.set(obs, i * this.obsDim);
    this.actBuf.set(action, i * this.actDim);
    this.nextObsBuf.set(nextObs, i * this.obsDim);
    this.rewBuf[i] = reward;
    this.trueRewBuf[i] = trueReward;
    this.doneBuf[i] = terminated ? 1 : 0;
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Uniform sample with replacement into `out` (reused across calls to avoid allocation). */
  sample(rng: Rng, out: Batch): Batch {
    if (this.count === 0) throw new Error('ReplayBuffer.sample: the buffer is empty');
    for (let b = 0; b < out.size; b++) {
      this.copyRow(rng.int(this.count), out, b);
    }
    return out;
  }

  /** Slot i of the buffer into row b of a batch. */
  private copyRow(i: number, out: Batch, b: number): void {
    const { obsDim: od, actDim: ad } = this;
    out.obs.set(this.obsBuf.subarray(i * od, (i + 1) * od), b * od);
    out.nextObs.set(this.nextObsBuf.subarray(i * od, (i + 1) * od), b * od);
    out.actions.set(this.actBuf.subarray(i * ad, (i + 1) * ad), b * ad);
    out.rewards[b] = this.rewBuf[i];
    out.dones[b] = this.doneBuf[i];
  }

  /**
   * Overwrites rows [from, from + count) of `out` with a uniform sample (with replacement) of the newest
   * `window` transitions (QPA's hybrid replay draws part of each batch from recent policy data).
   */
  sampleRecent(rng: Rng, out: Batch, from: number, count: number, window: number): Batch {
    if (this.count === 0) throw new Error('ReplayBuffer.sampleRecent: the buffer is empty');
    if (!Number.isInteger(window) || window < 1) throw new Error(`ReplayBuffer.sampleRecent: window must be an integer >= 1, got ${window}`);
    if (!Number.isInteger(from) || !Number.isInteger(count) || from < 0 || count < 0 || from + count > out.size) {
      throw new Error(`ReplayBuffer.sampleRecent: rows [${from}, ${from + count}) do not fit a batch of ${out.size}`);
    }
    const w = Math.min(window, this.count);
    for (let b = from; b < from + count; b++) {
      // The newest slot is next - 1; u steps back from it, wrapping around the ring.
      const u = rng.int(w);
      this.copyRow((this.next - 1 - u + 2 * this.capacity) % this.capacity, out, b);
    }
    return out;
  }

  /** Replace every stored training reward with rewardFn's, in chunks of `chunk` transitions. */
  relabel(rewardFn: RewardFn, chunk = 10_000): void {
    for (let start = 0; start < this.count; start += chunk) {
      const n = Math.min(chunk, this.count - start);
      const r = rewardFn(
        this.obsBuf.subarray(start * this.obsDim, (start + n) * this.obsDim),
        this.actBuf.subarray(start * this.actDim, (start + n) * this.actDim),
        n,
      );
      if (r.length !== n) throw new Error(`relabel: reward function returned ${r.length} rewards for ${n} transitions`);
      this.rewBuf.set(r, start);
    }
  }

  /** Views of the stored data in insertion-slot order (not chronological once wrapped). */
  view(): { obs: Float32Array; actions: Float32Array; rewards: Float32Array; trueRewards: Float32Array; nextObs: Float32Array; size: number } {
    const n = this.count;
    return {
      obs: this.obsBuf.subarray(0, n * this.obsDim),
      actions: this.actBuf.subarray(0, n * this.actDim),
      rewards: this.rewBuf.subarray(0, n),
      trueRewards: this.trueRewBuf.subarray(0, n),
      nextObs: this.nextObsBuf.subarray(0, n * this.obsDim),
      size: n,
    };
  }

  /**
   * A copy with another capacity, transitions kept in chronological order (the newest ones if it
   * shrinks). A resumed run whose step budget grew needs a larger buffer than it saved.
   */
  withCapacity(capacity: number): ReplayBuffer {
    const out = new ReplayBuffer(capacity, this.obsDim, this.actDim);
    const n = Math.min(this.count, capacity);
    const oldest = this.count < this.capacity ? 0 : this.next;
    for (let k = this.count - n; k < this.count; k++) {
      const i = (oldest + k) % this.capacity;
      out.add(
        this.obsBuf.subarray(i * this.obsDim, (i + 1) * this.obsDim), this.actBuf.subarray(i * this.actDim, (i + 1) * this.actDim),
        this.rewBuf[i], this.nextObsBuf.subarray(i * this.obsDim, (i + 1) * this.obsDim), this.doneBuf[i] === 1, this.trueRewBuf[i],
      );
    }
    return out;
  }

  save(path: string): void {
    const n = this.count;
    const arrays: Record<string, BinArray> = {
      obs: this.obsBuf.subarray(0, n * this.obsDim),
      actions: this.actBuf.subarray(0, n * this.actDim),
      rewards: this.rewBuf.subarray(0, n),
      trueRewards: this.trueRewBuf.subarray(0, n),
      nextObs: this.nextObsBuf.subarray(0, n * this.obsDim),
      dones: this.doneBuf.subarray(0, n),
    };
    writeBinFile(path, { kind: 'replay-buffer', capacity: this.capacity, obsDim: this.obsDim, actDim: this.actDim, count: n, next: this.next }, arrays);
  }

  static load(path: string): ReplayBuffer {
    const { header, arrays } = readBinFile(path);
    if (header.kind !== 'replay-buffer') throw new Error(`${path}: not a replay buffer file (kind ${String(header.kind)})`);
    const buf = new ReplayBuffer(Number(header.capacity), Number(header.obsDim), Number(header.actDim));
    const n = Number(header.count);
    const expect = (name: string, len: number) => {
      const a = arrays[name];
      if (!a || a.length !== len) throw new Error(`${path}: array ${name} has ${a?.length} values, expected ${len}`);
      return a as Float32Array;
    };
    buf.obsBuf.set(expect('obs', n * buf.obsDim));
    buf.actBuf.set(expect('actions', n * buf.actDim));
    buf.rewBuf.set(expect('rewards', n));
    buf.trueRewBuf.set(expect('trueRewards', n));
    buf.nextObsBuf.set(expect('nextObs', n * buf.obsDim));
    buf.doneBuf.set(expect('dones', n));
    buf.count = n;
    buf.next = Number(header.next);
    return buf;
  }
}
