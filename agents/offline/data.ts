/**
 * The in-memory form of an offline preference dataset, and the sampler that turns it into training
 * batches. Lives under agents/ (not experiments/datasets, which reads and writes the file) because
 * agents may not import from experiments/.
 *
 * Layout: E episodes of T steps each (Meta-World episodes all end at the time limit), stored whole
 * with T + 1 observations, and N segments given as (episode, start) windows of H steps into them, so a
 * segment's s' of every step is at hand for TD methods and a dense dataset of overlapping windows
 * costs no copies. P labelled pairs refer to segments by index. Labels are P(A preferred): 1, 0 or
 * 0.5 (core/types.ts PreferenceLabel; skipped queries are not stored as pairs).
 */
import { Rng } from '../../core/rng.js';
import type { Batch } from '../replay-buffer.js';

export interface PreferenceData {
  obsDim: number;
  actDim: number;
  /** Episodes E. */
  episodes: number;
  /** Steps per episode T. */
  episodeLength: number;
  /** Segment length H. */
  segmentLength: number;
  /** [E, T + 1, obsDim] */
  obs: Float32Array;
  /** [E, T, actDim] */
  actions: Float32Array;
  /** [E, T] true env rewards (for analysis and baselines; no preference learner reads them). */
  rewards: Float32Array;
  /** [E, T] per-step success flags. */
  success: Uint8Array;
  /** [N] episode of each segment. */
  segEpisode: Int32Array;
  /** [N] first step of each segment in its episode. */
  segStart: Int32Array;
  /** [P] segment index of A and of B. */
  pairA: Int32Array;
  pairB: Int32Array;
  /** [P] P(A preferred). */
  labels: Float32Array;
  /**
   * [N] optional: each segment's rating, 0 (worst) .. ratingClasses - 1 (rating-based RL's single-segment
   * labels, read by rbrl-iql); the pairs are still there for the pairwise learners on the same segments.
   */
  ratings?: Int32Array;
  /** Number of rating classes (with `ratings`). */
  ratingClasses?: number;
}

/** Checks sizes, index ranges and label values; every message names the field. */
export function validatePreferenceData(d: PreferenceData, where = 'dataset'): void {
  const posInt = (v: number, f: string) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${where}: ${f} must be an integer >= 1, got ${v}`);
  };
  posInt(d.obsDim, 'obsDim');
  posInt(d.actDim, 'actDim');
  posInt(d.episodes, 'episodes');
  posInt(d.episodeLength, 'episodeLength');
  posInt(d.segmentLength, 'segmentLength');
  const E = d.episodes;
  const T = d.episodeLength;
  const H = d.segmentLength;
  if (H > T) throw new Error(`${where}: segmentLength ${H} is longer than the episodes (${T} steps)`);
  const expect = (f: keyof PreferenceData, n: number) => {
    const a = d[f] as ArrayLike<number>;
    if (!a || a.length !== n) throw new Error(`${where}: ${String(f)} has ${a?.length} values, expected ${n}`);
  };
  expect('obs', E * (T + 1) * d.obsDim);
  expect('actions', E * T * d.actDim);
  expect('rewards', E * T);
  expect('success', E * T);
  const N = d.segEpisode.length;
  if (N < 2) throw new Error(`${where}: needs at least 2 segments, got ${N}`);
  expect('segStart', N);
  for (let s = 0; s < N; s++) {
    const e = d.segEpisode[s];
    const st = d.segStart[s];
    if (!(e >= 0 && e < E)) throw new Error(`${where}: segEpisode[${s}] = ${e} is outside [0, ${E})`);
    if (!(st >= 0 && st + H <= T)) throw new Error(`${where}: segStart[${s}] = ${st} is outside [0, ${T - H}]`);
  }
  const P = d.labels.length;
  if (P < 1) throw new Error(`${where}: no labelled pairs`);
  expect('pairA', P);
  expect('pairB', P);
  for (let i = 0; i < P; i++) {
    const a = d.pairA[i];
    const b = d.pairB[i];
    if (!(a >= 0 && a < N)) throw new Error(`${where}: pairA[${i}] = ${a} is outside [0, ${N})`);
    if (!(b >= 0 && b < N)) throw new Error(`${where}: pairB[${i}] = ${b} is outside [0, ${N})`);
    const y = d.labels[i];
    if (y !== 0 && y !== 1 && y !== 0.5) throw new Error(`${where}: labels[${i}] must be 1, 0 or 0.5, got ${y}`);
  }
  if ((d.ratings === undefined) !== (d.ratingClasses === undefined)) throw new Error(`${where}: ratings and ratingClasses must be given together`);
  if (d.ratings) {
    const C = d.ratingClasses!;
    if (!(Number.isInteger(C) && C >= 2)) throw new Error(`${where}: ratingClasses must be an integer >= 2, got ${C}`);
    expect('ratings', N);
    for (let s = 0; s < N; s++) {
      const r = d.ratings[s];
      if (!(Number.isInteger(r) && r >= 0 && r < C)) throw new Error(`${where}: ratings[${s}] = ${r} is outside [0, ${C - 1}]`);
    }
  }
  for (const f of ['obs', 'actions', 'rewards'] as const) {
    const a = d[f];
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) throw new Error(`${where}: ${f}[${i}] is ${a[i]}`);
    }
  }
}

/**
 * A batch of P labelled segment pairs. The Batch fields hold the 2 * P * L transitions in
 * [P, 2, L] order (pair, side A/B, step), so transition methods (BC, TD losses) use them directly
 * and preference losses reshape them to [P, 2, L].
 */
export interface PairBatch extends Batch {
  kind: 'pairs';
  pairs: number;
  segmentLength: number;
  /** [P] P(A preferred). */
  labels: Float32Array;
  /** [2P] the rating of each segment row, of ratingClasses classes (RatedSegmentSampler's batches only). */
  ratings?: Int32Array;
  ratingClasses?: number;
}

export function isPairBatch(b: Batch): b is PairBatch {
  return (b as Partial<PairBatch>).kind === 'pairs';
}

/** The check every offline agent makes on update(): the runner's batches, never a replay buffer's. */
export function requirePairBatch(b: Batch, agent: string): PairBatch {
  if (!isPairBatch(b)) throw new Error(`${agent}.update needs a batch of labelled segment pairs (PairSampler), not a transition batch`);
  return b;
}

export function allocPairBatch(pairs: number, segmentLength: number, obsDim: number, actDim: number): PairBatch {
  const n = 2 * pairs * segmentLength;
  return {
    kind: 'pairs',
    pairs,
    segmentLength,
    size: n,
    obs: new Float32Array(n * obsDim),
    actions: new Float32Array(n * actDim),
    rewards: new Float32Array(n),
    nextObs: new Float32Array(n * obsDim),
    dones: new Float32Array(n),
    labels: new Float32Array(pairs),
  };
}

/** What the offline runner draws batches from. */
export interface BatchSampler {
  /** Steps per segment of the batches it fills (allocPairBatch's segmentLength). */
  readonly segmentLength: number;
  sample(rng: Rng, out: PairBatch): PairBatch;
}

/** Draws labelled pairs uniformly with replacement (the CPL/IPL loaders sample pairs at random). */
export class PairSampler implements BatchSampler {
  readonly segmentLength: number;

  /**
   * subsample: IPL's feedback loader (ipl_iql.yaml subsample_size 16 of 25-step segments) cuts one
   * window of that many steps from every segment of a batch, the same random offset for the whole
   * batch, labels kept. Unset, or not shorter than the segments: whole segments.
   */
  constructor(readonly data: PreferenceData, readonly subsample?: number) {
    validatePreferenceData(data);
    if (subsample !== undefined && !(Number.isInteger(subsample) && subsample >= 1)) throw new Error(`PairSampler: subsample must be an integer >= 1, got ${subsample}`);
    this.segmentLength = subsample !== undefined && subsample < data.segmentLength ? subsample : data.segmentLength;
  }

  get numPairs(): number {
    return this.data.labels.length;
  }

  sample(rng: Rng, out: PairBatch): PairBatch {
    const d = this.data;
    const H = this.segmentLength;
    if (out.segmentLength !== H) throw new Error(`PairSampler: batch segment length ${out.segmentLength} differs from the sampler's ${H}`);
    // Reference: np.random.randint(0, S - sub), one offset per batch (the last offset is never drawn).
    const offset = H < d.segmentLength ? rng.int(d.segmentLength - H) : 0;
    for (let p = 0; p < out.pairs; p++) {
      const i = rng.int(d.labels.length);
      out.labels[p] = d.labels[i];
      const segs = [d.pairA[i], d.pairB[i]];
      for (let side = 0; side < 2; side++) {
        const seg = segs[side];
        copyWindow(d, d.segEpisode[seg], d.segStart[seg] + offset, H, out, p * 2 + side);
      }
    }
    // Meta-World episodes end by time limit only, so every step bootstraps.
    out.dones.fill(0);
    return out;
  }
}

/**
 * %BC's batches: windows of the segment length at uniform starts in episodes drawn uniformly from the
 * top `fraction` of episodes by true return (at least one; ties broken by episode index). Laid out as
 * a PairBatch (two unrelated windows per "pair", label 0.5) so BC reads it unchanged.
 */
export class TopEpisodeSampler implements BatchSampler {
  readonly episodes: Int32Array;
  readonly segmentLength: number;

  constructor(readonly data: PreferenceData, fraction: number) {
    validatePreferenceData(data);
    if (!(fraction > 0 && fraction <= 1)) throw new Error(`TopEpisodeSampler: topFraction must be in (0, 1], got ${fraction}`);
    const T = data.episodeLength;
    const ret = Array.from({ length: data.episodes }, (_, e) => {
      let r = 0;
      for (let t = 0; t < T; t++) r += data.rewards[e * T + t];
      return r;
    });
    const order = ret.map((_, e) => e).sort((a, b) => ret[b] - ret[a] || a - b);
    this.episodes = Int32Array.from(order.slice(0, Math.max(1, Math.floor(data.episodes * fraction))));
    this.segmentLength = data.segmentLength;
  }

  sample(rng: Rng, out: PairBatch): PairBatch {
    const d = this.data;
    const H = d.segmentLength;
    if (out.segmentLength !== H) throw new Error(`TopEpisodeSampler: batch segment length ${out.segmentLength} differs from the dataset's ${H}`);
    const T = d.episodeLength;
    for (let row = 0; row < 2 * out.pairs; row++) {
      const e = this.episodes[rng.int(this.episodes.length)];
      copyWindow(d, e, rng.int(T - H + 1), H, out, row);
    }
    out.labels.fill(0.5);
    out.dones.fill(0);
    return out;
  }
}

/**
 * Rating-based RL's batches: 2P rated segments drawn uniformly with replacement, laid out as a PairBatch
 * (rows paired arbitrarily, label 0.5, read by nobody) with `ratings` holding each row's class, so the
 * value learner's TD rows and the rating loss's segment returns come from the same rows.
 */
export class RatedSegmentSampler implements BatchSampler {
  readonly segmentLength: number;
  readonly classes: number;

  constructor(readonly data: PreferenceData) {
    validatePreferenceData(data);
    if (!data.ratings) throw new Error('this dataset has no segment ratings: make one with `pbrl dataset make ... --rating-teacher rating:classes=3`');
    this.segmentLength = data.segmentLength;
    this.classes = data.ratingClasses!;
  }

  sample(rng: Rng, out: PairBatch): PairBatch {
    const d = this.data;
    const H = this.segmentLength;
    if (out.segmentLength !== H) throw new Error(`RatedSegmentSampler: batch segment length ${out.segmentLength} differs from the dataset's ${H}`);
    const rows = 2 * out.pairs;
    if (!out.ratings || out.ratings.length !== rows) out.ratings = new Int32Array(rows);
    out.ratingClasses = this.classes;
    const N = d.segEpisode.length;
    for (let row = 0; row < rows; row++) {
      const seg = rng.int(N);
      out.ratings[row] = d.ratings![seg];
      copyWindow(d, d.segEpisode[seg], d.segStart[seg], H, out, row);
    }
    out.labels.fill(0.5);
    out.dones.fill(0);
    return out;
  }
}

/**
 * Copies steps [start, start + H) of episode `e` (obs, next obs, actions, true rewards) into segment
 * row `row` of a batch. Episodes store T + 1 observations, so next obs is the same run shifted by one.
 */
function copyWindow(d: PreferenceData, e: number, start: number, H: number, out: PairBatch, row: number): void {
  const T = d.episodeLength;
  const od = d.obsDim;
  const ad = d.actDim;
  const r = row * H;
  const o = (e * (T + 1) + start) * od;
  out.obs.set(d.obs.subarray(o, o + H * od), r * od);
  out.nextObs.set(d.obs.subarray(o + od, o + (H + 1) * od), r * od);
  const a = (e * T + start) * ad;
  out.actions.set(d.actions.subarray(a, a + H * ad), r * ad);
  out.rewards.set(d.rewards.subarray(e * T + start, e * T + start + H), r);
}
