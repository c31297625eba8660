/**
 * Stratified bootstrap confidence intervals (rliable's `StratifiedBootstrap` semantics): tasks are
 * strata, and each replicate redraws, with replacement, as many runs as each task has from that
 * task's own runs — so a replicate never trades one task's runs for another's, and the interval
 * describes "the same tasks, other seeds". Intervals are percentile intervals (numpy's linear
 * interpolation). Several samples (two algorithms for probability of improvement) are resampled
 * independently of each other, as rliable's `StratifiedIndependentBootstrap` does.
 *
 * Everything is seeded: replicate indices come from core/rng's `Rng`, split by a label so that one
 * estimate's draws never depend on how many another made.
 */
import { Rng } from '../../core/rng.js';
import { percentileSorted } from './basic.js';
import type { Stratified } from './aggregates.js';

export interface BootstrapOptions {
  /** Bootstrap replicates (default 2000). */
  reps?: number;
  seed?: number;
  /** Names the random stream: estimates with different labels draw independent indices. */
  label?: string;
  /** Coverage of the interval (default 0.95). */
  confidence?: number;
  /**
   * Replicate indices to use instead of drawing them, `[rep][sample][task] -> run indices` — so a
   * test can hand the very same resamples to an independent implementation.
   */
  indices?: Int32Array[][][];
}

export interface VectorEstimate {
  point: number[];
  lo: number[];
  hi: number[];
  reps: number;
  confidence: number;
}

export interface Estimate {
  point: number;
  lo: number;
  hi: number;
}

export const DEFAULT_REPS = 2000;

/** The random stream an estimate labelled `label` draws from. */
export function bootstrapRng(seed: number, label: string): Rng {
  return new Rng(seed).split(`bootstrap:${label}`);
}

/**
 * Replicate indices for samples whose tasks have `sizes[sample][task]` runs, drawn in the order
 * rep, sample, task, run.
 */
export function bootstrapIndices(rng: Rng, sizes: number[][], reps: number): Int32Array[][][] {
  const out: Int32Array[][][] = [];
  for (let r = 0; r < reps; r++) out.push(sizes.map((perTask) => perTask.map((n) => drawRuns(rng, n))));
  return out;
}

function drawRuns(rng: Rng, n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = rng.int(n);
  return idx;
}

export function resample<T>(data: Stratified<T>, idx: Int32Array[]): Stratified<T> {
  const out: Stratified<T> = new Array(data.length);
  for (let t = 0; t < data.length; t++) {
    const runs = data[t];
    const ix = idx[t];
    const r: T[] = new Array(ix.length);
    for (let i = 0; i < ix.length; i++) r[i] = runs[ix[i]];
    out[t] = r;
  }
  return out;
}

function checkSample(data: Stratified<unknown>, which: string): void {
  if (data.length === 0) throw new Error(`bootstrap: ${which} has no tasks`);
  data.forEach((runs, t) => {
    if (runs.length === 0) throw new Error(`bootstrap: ${which}, task ${t} has no runs`);
  });
}

/**
 * Point estimate and percentile interval of a vector-valued statistic of several independently
 * resampled stratified samples.
 */
export function independentBootstrap<T>(
  samples: Stratified<T>[],
  statistic: (...resampled: Stratified<T>[]) => number[],
  opts: BootstrapOptions = {},
): VectorEstimate {
  samples.forEach((s, i) => checkSample(s, `sample ${i}`));
  const confidence = opts.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new Error(`bootstrap confidence must be in (0, 1), got ${confidence}`);
  const indices = opts.indices;
  const reps = indices ? indices.length : opts.reps ?? DEFAULT_REPS;
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`bootstrap reps must be a positive integer, got ${reps}`);
  const rng = bootstrapRng(opts.seed ?? 0, opts.label ?? 'default');
  const sizes = samples.map((s) => s.map((runs) => runs.length));

  const point = statistic(...samples);
  const dims = point.length;
  const draws = Array.from({ length: dims }, () => new Float64Array(reps));
  for (let r = 0; r < reps; r++) {
    const idx = indices ? indices[r] : sizes.map((perTask) => perTask.map((n) => drawRuns(rng, n)));
    const v = statistic(...samples.map((s, i) => resample(s, idx[i])));
    if (v.length !== dims) throw new Error(`bootstrap: statistic returned ${v.length} values on a replicate, ${dims} on the data`);
    for (let d = 0; d < dims; d++) draws[d][r] = v[d];
  }
  const tail = (100 * (1 - confidence)) / 2;
  const lo: number[] = [];
  const hi: number[] = [];
  for (const col of draws) {
    col.sort();
    lo.push(percentileSorted(col, tail));
    hi.push(percentileSorted(col, 100 - tail));
  }
  return { point, lo, hi, reps, confidence };
}

/** Stratified bootstrap of a vector-valued statistic of one sample. */
export function stratifiedBootstrap<T>(
  data: Stratified<T>,
  statistic: (resampled: Stratified<T>) => number[],
  opts: BootstrapOptions = {},
): VectorEstimate {
  return independentBootstrap([data], (d) => statistic(d), opts);
}

/** Stratified bootstrap of a scalar statistic. */
export function intervalEstimate(data: Stratified, statistic: (s: Stratified) => number, opts: BootstrapOptions = {}): Estimate {
  const e = stratifiedBootstrap(data, (d) => [statistic(d)], opts);
  return { point: e.point[0], lo: e.lo[0], hi: e.hi[0] };
}

/** Splits a vector estimate into one interval per entry. */
export function unzip(e: VectorEstimate): Estimate[] {
  return e.point.map((p, i) => ({ point: p, lo: e.lo[i], hi: e.hi[i] }));
}
