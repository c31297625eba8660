/**
 * The estimates the benchmark report shows, each a point value with a stratified-bootstrap
 * interval: aggregate scores, performance profiles and probability of improvement.
 */
import { AGGREGATES, pooled, type AggregateName, type Stratified } from './aggregates.js';
import { independentBootstrap, stratifiedBootstrap, unzip, type BootstrapOptions, type Estimate } from './bootstrap.js';

const NAMES = Object.keys(AGGREGATES) as AggregateName[];

/**
 * IQM, mean, median and optimality gap from one set of replicates: the four intervals describe
 * the same resampled experiments, and one bootstrap costs a quarter of four.
 */
export function aggregateEstimates(scores: Stratified, opts: BootstrapOptions = {}): Record<AggregateName, Estimate> {
  const e = unzip(stratifiedBootstrap(scores, (s) => NAMES.map((n) => AGGREGATES[n](s)), opts));
  return Object.fromEntries(NAMES.map((n, i) => [n, e[i]])) as Record<AggregateName, Estimate>;
}

/** Fraction of all runs (pooled over tasks) whose score is strictly above each tau. */
export function scoreDistribution(scores: Stratified, taus: readonly number[]): number[] {
  const all = pooled(scores).sort();
  const n = all.length;
  return taus.map((tau) => {
    // first index whose value is > tau, by bisection on the sorted scores
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid] > tau) hi = mid;
      else lo = mid + 1;
    }
    return (n - lo) / n;
  });
}

export interface ProfilePoint extends Estimate {
  tau: number;
}

/** Performance profile (run-score distribution) with pointwise bootstrap bands. */
export function performanceProfile(scores: Stratified, taus: readonly number[], opts: BootstrapOptions = {}): ProfilePoint[] {
  return unzip(stratifiedBootstrap(scores, (s) => scoreDistribution(s, taus), opts)).map((e, i) => ({ tau: taus[i], ...e }));
}

/**
 * P(X > Y) on one task: the chance that a random run of X beats a random run of Y, ties counting
 * half — the Mann-Whitney U statistic over nx * ny.
 */
export function taskImprovement(x: readonly number[], y: readonly number[]): number {
  if (x.length === 0 || y.length === 0) throw new Error('probability of improvement needs runs of both algorithms');
  let wins = 0;
  for (const a of x) for (const b of y) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (x.length * y.length);
}

/** rliable's average probability of improvement: the task-wise P(X > Y), averaged over tasks. */
export function probabilityOfImprovement(x: Stratified, y: Stratified): number {
  if (x.length !== y.length) throw new Error(`probability of improvement: ${x.length} tasks for X, ${y.length} for Y (pass the common tasks, in the same order)`);
  if (x.length === 0) throw new Error('probability of improvement: no common tasks');
  let s = 0;
  for (let t = 0; t < x.length; t++) s += taskImprovement(x[t], y[t]);
  return s / x.length;
}

/** Probability of improvement with X's and Y's runs resampled independently within each task. */
export function improvementEstimate(x: Stratified, y: Stratified, opts: BootstrapOptions = {}): Estimate {
  const e = independentBootstrap([x, y], (a, b) => [probabilityOfImprovement(a, b)], opts);
  return { point: e.point[0], lo: e.lo[0], hi: e.hi[0] };
}
