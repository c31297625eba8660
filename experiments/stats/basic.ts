/**
 * Order statistics on plain number arrays. The conventions are numpy's and scipy's, so that a
 * number in our report can be checked against a Python one-liner: `percentile` interpolates
 * linearly (numpy's default), `trimMean` cuts floor(p * n) values from each end (scipy.stats.trim_mean).
 */

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

function sorted(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs).sort();
}

/** Linear-interpolation percentile of already sorted values, q in [0, 100]. */
export function percentileSorted(s: ArrayLike<number>, q: number): number {
  const n = s.length;
  if (n === 0) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function percentile(xs: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile q must be in [0, 100], got ${q}`);
  return percentileSorted(sorted(xs), q);
}

export function median(xs: ArrayLike<number>): number {
  return percentile(xs, 50);
}

/** Mean after removing floor(proportion * n) of the values from each end. */
export function trimMean(xs: ArrayLike<number>, proportion: number): number {
  if (!(proportion >= 0 && proportion < 0.5)) throw new Error(`trim proportion must be in [0, 0.5), got ${proportion}`);
  const n = xs.length;
  if (n === 0) return NaN;
  const s = sorted(xs);
  const cut = Math.floor(proportion * n);
  let sum = 0;
  for (let i = cut; i < n - cut; i++) sum += s[i];
  return sum / (n - 2 * cut);
}
