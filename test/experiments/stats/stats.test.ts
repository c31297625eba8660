// experiments/stats against closed forms and against an independent numpy implementation
// (reference.py, Debian's /usr/bin/python3) fed the same data and the same bootstrap resamples.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../../core/rng.js';
import {
  aggregateEstimates, aggregateIqm, aggregateMean, aggregateMedian, areaUnderCurve, bootstrapIndices, bootstrapRng,
  commonGrid, finalScore, improvementEstimate, intervalEstimate, median, optimalityGap, percentile, performanceProfile,
  probabilityOfImprovement, sampleEfficiency, scoreDistribution, stratifiedBootstrap, taskImprovement, trimMean, valueAt,
  type Curve, type Stratified,
} from '../../../experiments/stats/index.js';

const REFERENCE = fileURLToPath(new URL('./reference.py', import.meta.url));

function numpy(job: Record<string, unknown>): any {
  const out = execFileSync('/usr/bin/python3', [REFERENCE], { input: JSON.stringify(job), encoding: 'utf8' });
  return JSON.parse(out);
}

const plain = (idx: Int32Array[][][]) => idx.map((rep) => rep.map((s) => s.map((t) => Array.from(t))));

/** Ragged success-like scores: tasks with different run counts, values on the 0.1 grid (ties). */
function fakeScores(rng: Rng, runs: number[], base: number): Stratified {
  return runs.map((n, t) => Array.from({ length: n }, () => Math.min(1, Math.max(0, Math.round((base + 0.15 * t + 0.3 * rng.normal()) * 10) / 10))));
}

describe('order statistics', () => {
  it('match closed forms', () => {
    expect(percentile([1, 2, 3, 4], 25)).toBeCloseTo(1.75, 12);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    // 8 values, 25% trim drops 2 from each end: mean of 3..6
    expect(trimMean([8, 1, 7, 2, 6, 3, 5, 4], 0.25)).toBe(4.5);
    // 3 values: floor(0.75) = 0 cut, the plain mean
    expect(trimMean([0, 0, 1], 0.25)).toBeCloseTo(1 / 3, 12);
    expect(() => trimMean([1], 0.5)).toThrow(/trim proportion/);
  });

  it('match numpy on random data', () => {
    const rng = new Rng(3);
    const x = Array.from({ length: 37 }, () => rng.normal());
    const ref = numpy({ kind: 'basic', data: [x] });
    expect(median(x)).toBeCloseTo(ref.median, 12);
    expect(percentile(x, 10)).toBeCloseTo(ref.p10, 12);
    expect(percentile(x, 97.5)).toBeCloseTo(ref.p97_5, 12);
    expect(trimMean(x, 0.25)).toBeCloseTo(ref.trim25, 12);
    expect(trimMean(x, 0.1)).toBeCloseTo(ref.trim10, 12);
  });
});

describe('aggregates', () => {
  it('follow rliable definitions on a hand-computed case', () => {
    const s = [[0, 1], [0.5, 0.5], [1, 1]];
    // task means 0.5, 0.5, 1
    expect(aggregateMean(s)).toBeCloseTo(2 / 3, 12);
    expect(aggregateMedian(s)).toBe(0.5);
    // pooled 0, .5, .5, 1, 1, 1; cut floor(1.5) = 1 each end -> .5 .5 1 1
    expect(aggregateIqm(s)).toBeCloseTo(0.75, 12);
    expect(optimalityGap(s)).toBeCloseTo(1 - 4 / 6, 12);
    // scores above gamma count as gamma
    expect(optimalityGap([[2, 0]], 1)).toBeCloseTo(0.5, 12);
  });

  it('points and bootstrap intervals equal numpy on the same resamples (ragged tasks)', () => {
    const data = fakeScores(new Rng(11), [5, 3, 4], 0.4);
    const idx = bootstrapIndices(bootstrapRng(7, 'agg'), [data.map((r) => r.length)], 300);
    const ours = aggregateEstimates(data, { indices: idx });
    const ref = numpy({ kind: 'aggregates', data, indices: plain(idx) });
    ['iqm', 'mean', 'median', 'optimality_gap'].forEach((n, i) => {
      const e = ours[n as keyof typeof ours];
      expect(e.point).toBeCloseTo(ref.point[i], 12);
      expect(e.lo).toBeCloseTo(ref.lo[i], 12);
      expect(e.hi).toBeCloseTo(ref.hi[i], 12);
      expect(e.lo).toBeLessThanOrEqual(e.hi);
    });
  });
});

describe('stratified bootstrap', () => {
  it('resamples runs within tasks only', () => {
    // Every run of task 0 scores 0 and of task 1 scores 1: any within-task resample has task means
    // 0 and 1, so the mean of task means is exactly 0.5 in every replicate. Pooled resampling would
    // spread it over [0, 1].
    const e = intervalEstimate([[0, 0, 0], [1, 1, 1]], aggregateMean, { reps: 500, seed: 1 });
    expect([e.point, e.lo, e.hi]).toEqual([0.5, 0.5, 0.5]);
  });

  it('draws the seeded indices it documents, and a different seed draws others', () => {
    const data = fakeScores(new Rng(5), [6, 6], 0.5);
    const opts = { reps: 200, seed: 9, label: 'x' };
    const a = intervalEstimate(data, aggregateIqm, opts);
    const b = intervalEstimate(data, aggregateIqm, { ...opts, indices: bootstrapIndices(bootstrapRng(9, 'x'), [[6, 6]], 200) });
    expect(a).toEqual(b);
    const c = intervalEstimate(data, aggregateIqm, { ...opts, seed: 10 });
    expect([c.lo, c.hi]).not.toEqual([a.lo, a.hi]);
  });

  it('gives the normal-theory interval for the mean of a large sample', () => {
    // n = 400 normals: the percentile interval of the mean should be mean +- 1.96 sd / sqrt(n).
    // Monte Carlo error of a 2.5% endpoint with B = 4000 reps is ~0.04 standard errors
    // (sqrt(q(1-q) / B) / phi(1.96)); allow 0.15.
    const rng = new Rng(21);
    const x = Array.from({ length: 400 }, () => 2 + 3 * rng.normal());
    const m = x.reduce((a, b) => a + b) / x.length;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
    const se = sd / Math.sqrt(x.length);
    const e = intervalEstimate([x], aggregateMean, { reps: 4000, seed: 2 });
    expect(e.point).toBeCloseTo(m, 12);
    expect(Math.abs(e.lo - (m - 1.959964 * se)) / se).toBeLessThan(0.15);
    expect(Math.abs(e.hi - (m + 1.959964 * se)) / se).toBeLessThan(0.15);
  });

  it('refuses empty tasks and bad options with a message', () => {
    expect(() => intervalEstimate([[1], []], aggregateMean)).toThrow(/task 1 has no runs/);
    expect(() => intervalEstimate([[1]], aggregateMean, { reps: 0 })).toThrow(/reps/);
    expect(() => stratifiedBootstrap([[1]], () => [1], { confidence: 1 })).toThrow(/confidence/);
  });
});

describe('performance profiles', () => {
  it('count runs strictly above tau', () => {
    expect(scoreDistribution([[0, 0.2], [0.5, 1]], [0, 0.5, 1])).toEqual([0.75, 0.25, 0]);
  });

  it('bands equal numpy on the same resamples', () => {
    const data = fakeScores(new Rng(12), [4, 4, 5], 0.5);
    const taus = [0, 0.25, 0.5, 0.75, 0.95];
    const idx = bootstrapIndices(bootstrapRng(1, 'p'), [data.map((r) => r.length)], 200);
    const ours = performanceProfile(data, taus, { indices: idx });
    const ref = numpy({ kind: 'profile', data, taus, indices: plain(idx) });
    ours.forEach((p, i) => {
      expect(p.tau).toBe(taus[i]);
      expect(p.point).toBeCloseTo(ref.point[i], 12);
      expect(p.lo).toBeCloseTo(ref.lo[i], 12);
      expect(p.hi).toBeCloseTo(ref.hi[i], 12);
    });
  });
});

describe('probability of improvement', () => {
  it('is the Mann-Whitney fraction of wins, ties half', () => {
    expect(taskImprovement([1, 2], [0, 3])).toBe(0.5);
    expect(taskImprovement([2, 3], [0, 1])).toBe(1);
    expect(taskImprovement([1, 1], [1])).toBe(0.5);
    expect(taskImprovement([1, 0], [1])).toBe(0.25);
    // averaged over tasks
    expect(probabilityOfImprovement([[2, 3], [1, 0]], [[0, 1], [1]])).toBeCloseTo(0.625, 12);
    expect(() => probabilityOfImprovement([[1]], [[1], [2]])).toThrow(/common tasks/);
  });

  it('interval equals numpy with X and Y resampled independently', () => {
    const x = fakeScores(new Rng(13), [5, 4], 0.6);
    const y = fakeScores(new Rng(14), [3, 6], 0.4);
    const idx = bootstrapIndices(bootstrapRng(3, 'poi'), [x.map((r) => r.length), y.map((r) => r.length)], 300);
    const ours = improvementEstimate(x, y, { indices: idx });
    const ref = numpy({ kind: 'poi', data: x, other: y, indices: plain(idx) });
    expect(ours.point).toBeCloseTo(ref.point[0], 12);
    expect(ours.lo).toBeCloseTo(ref.lo[0], 12);
    expect(ours.hi).toBeCloseTo(ref.hi[0], 12);
  });
});

describe('curves', () => {
  it('final score, normalised area and step-hold values', () => {
    const c: Curve = [{ x: 0, y: 0 }, { x: 5, y: 1 }, { x: 10, y: 1 }];
    expect(finalScore(c)).toBe(1);
    expect(areaUnderCurve(c)).toBeCloseTo(0.75, 12); // (2.5 + 5) / 10
    expect(areaUnderCurve([{ x: 0, y: 0 }, { x: 10, y: 1 }])).toBeCloseTo(0.5, 12);
    expect(areaUnderCurve([{ x: 3, y: 0.4 }])).toBe(0.4);
    expect(valueAt(c, 7)).toBe(1);
    expect(valueAt(c, -1)).toBeNaN();
    // labels-used curves repeat x once the budget is spent: the latest measurement wins
    expect(valueAt([{ x: 0, y: 0 }, { x: 10, y: 0.2 }, { x: 10, y: 0.7 }], 10)).toBe(0.7);
    expect(() => finalScore([{ x: 2, y: 0 }, { x: 1, y: 0 }])).toThrow(/decreases/);
    expect(commonGrid([[{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 20, y: 0 }], [{ x: 5, y: 0 }, { x: 15, y: 0 }]])).toEqual([5, 10, 15]);
  });

  it('sample-efficiency IQM / mean and bands equal numpy on the same resamples', () => {
    const rng = new Rng(17);
    const mk = (steps: number[]) => steps.map((x) => ({ x, y: Math.round(Math.min(1, x / 100 + 0.3 * rng.uniform()) * 10) / 10 }));
    // runs evaluated at different steps, so values are held between measurements
    const curves: Stratified<Curve> = [
      [mk([0, 20, 40, 60, 80]), mk([0, 25, 50, 75]), mk([10, 30, 50, 70, 90])],
      [mk([0, 20, 40, 60, 80]), mk([0, 40, 80]), mk([0, 20, 40, 60, 80]), mk([0, 30, 60, 90])],
    ];
    const grid = commonGrid(curves.flat());
    expect(grid[0]).toBe(10);
    expect(grid[grid.length - 1]).toBe(75);
    const idx = bootstrapIndices(bootstrapRng(4, 'eff'), [[3, 4]], 200);
    for (const statistic of ['iqm', 'mean'] as const) {
      const ours = sampleEfficiency(curves, { indices: idx, statistic });
      const ref = numpy({ kind: 'efficiency', statistic, curves: curves.map((t) => t.map((c) => c.map((p) => [p.x, p.y]))), grid, indices: plain(idx) });
      expect(ours.map((p) => p.x)).toEqual(grid);
      ours.forEach((p, i) => {
        expect(p.point).toBeCloseTo(ref.point[i], 12);
        expect(p.lo).toBeCloseTo(ref.lo[i], 12);
        expect(p.hi).toBeCloseTo(ref.hi[i], 12);
      });
    }
  });
});
