/**
 * Per-run scores from a learning curve, and sample-efficiency curves (an aggregate of many runs at
 * each point of a common x grid — env steps, or labels used) with bootstrap bands.
 */
import { aggregateIqm, aggregateMean, type Stratified } from './aggregates.js';
import { stratifiedBootstrap, unzip, type BootstrapOptions, type Estimate } from './bootstrap.js';

export interface CurvePoint {
  x: number;
  y: number;
}

/** Points in the order they were measured; x never decreases. */
export type Curve = CurvePoint[];

function checkCurve(c: Curve): void {
  if (c.length === 0) throw new Error('empty curve');
  for (let i = 1; i < c.length; i++) {
    if (c[i].x < c[i - 1].x) throw new Error(`curve x decreases at point ${i} (${c[i - 1].x} then ${c[i].x})`);
  }
}

/** The last measured value (a run's final success). */
export function finalScore(c: Curve): number {
  checkCurve(c);
  return c[c.length - 1].y;
}

/**
 * The best evaluation of the run: the CPL paper's number (max over training of the average evaluation
 * success). Optimistic by construction (it picks the best of many noisy evaluations); report it
 * beside the final value, never instead of it.
 */
export function maxScore(c: Curve): number {
  checkCurve(c);
  let m = -Infinity;
  for (const p of c) m = Math.max(m, p.y);
  return m;
}

/**
 * Area under the curve by the trapezoid rule over the measured span, divided by that span: the
 * curve's average height, so a success curve's area lies in [0, 1] whatever the run length. A
 * single point gives its own value.
 */
export function areaUnderCurve(c: Curve): number {
  checkCurve(c);
  const span = c[c.length - 1].x - c[0].x;
  if (span === 0) return c[c.length - 1].y;
  let a = 0;
  for (let i = 1; i < c.length; i++) a += ((c[i].y + c[i - 1].y) / 2) * (c[i].x - c[i - 1].x);
  return a / span;
}

/**
 * The run's value at x: the latest measurement taken at or before x (a run is what it last
 * measured until it measures again). NaN before the first measurement.
 */
export function valueAt(c: Curve, x: number): number {
  let v = NaN;
  for (const p of c) {
    if (p.x > x) break;
    v = p.y;
  }
  return v;
}

/** Every measured x that all curves cover: from the latest first point to the earliest last point. */
export function commonGrid(curves: Curve[]): number[] {
  if (curves.length === 0) return [];
  curves.forEach(checkCurve);
  const from = Math.max(...curves.map((c) => c[0].x));
  const to = Math.min(...curves.map((c) => c[c.length - 1].x));
  const xs = new Set<number>();
  for (const c of curves) for (const p of c) if (p.x >= from && p.x <= to) xs.add(p.x);
  return [...xs].sort((a, b) => a - b);
}

export interface SamplePoint extends Estimate {
  x: number;
}

/**
 * An aggregate (IQM over runs pooled across tasks, or the mean of task means) at each point of the
 * common grid, with bands from one stratified bootstrap: a replicate keeps a resampled run's whole
 * curve, so neighbouring points stay as correlated as the runs made them.
 */
export function sampleEfficiency(
  curves: Stratified<Curve>,
  opts: BootstrapOptions & { statistic?: 'iqm' | 'mean'; grid?: number[] } = {},
): SamplePoint[] {
  const grid = opts.grid ?? commonGrid(curves.flat());
  if (grid.length === 0) return [];
  const agg = opts.statistic === 'mean' ? aggregateMean : aggregateIqm;
  // Values at the grid, once; the bootstrap then resamples rows of numbers, not curves.
  const rows: Stratified<number[]> = curves.map((runs) => runs.map((c) => grid.map((x) => valueAt(c, x))));
  const stat = (d: Stratified<number[]>) => grid.map((_, g) => agg(d.map((runs) => runs.map((r) => r[g]))));
  return unzip(stratifiedBootstrap(rows, stat, opts)).map((e, i) => ({ x: grid[i], ...e }));
}
