import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/backend.js';
import { Rng } from '../../../core/rng.js';
import {
  disagreementQueries, disagreementScores, entropyQueries, getQueryStrategy, greedyKCenter, kCenterDisagreementQueries, kCenterQueries,
  selectQueries, uniformQueries, type CandidatePair, type PreferencePredictor,
} from '../../../reward/query/index.js';
import { SegmentSampler, type RewardSegment } from '../../../reward/segments.js';
import { countingTrajectory, makeSegment } from '../helpers.js';

beforeAll(async () => {
  await initBackend();
});

/** A fake ensemble whose members' P(A) per pair are given: members x pairs, looked up by segment id. */
function fakeModel(probs: number[][], pool: readonly CandidatePair[]): PreferencePredictor {
  const index = new Map(pool.map((p, i) => [(p as [RewardSegment, RewardSegment])[0].id, i]));
  return {
    members: probs.length,
    preferenceProbs(pairs) {
      const N = pairs.length;
      const out = new Float32Array(probs.length * N);
      pairs.forEach((p, j) => {
        const i = index.get((p as [RewardSegment, RewardSegment])[0].id)!;
        probs.forEach((row, e) => (out[e * N + j] = row[i]));
      });
      return out;
    },
  };
}

/** Pairs whose observations are a single point (x, y) repeated, for geometric tests. */
function pointPair(x: number, y: number): [RewardSegment, RewardSegment] {
  const a = makeSegment([0], { obsDim: 1, obs: Float32Array.from([x]) });
  const b = makeSegment([0], { obsDim: 1, obs: Float32Array.from([y]) });
  return [a, b];
}

describe('uncertainty-based selection', () => {
  const pool = Array.from({ length: 8 }, () => [makeSegment([0]), makeSegment([0])] as [RewardSegment, RewardSegment]);
  // Members agree on pairs 0-3 and 7; disagree a little on 4, most on 6, moderately on 5.
  const probs = [
    [0.9, 0.1, 0.5, 0.6, 0.5, 0.2, 0.05, 0.3],
    [0.9, 0.1, 0.5, 0.6, 0.6, 0.5, 0.95, 0.3],
    [0.9, 0.1, 0.5, 0.6, 0.7, 0.8, 0.5, 0.3],
  ];
  const model = fakeModel(probs, pool);

  it('disagreement picks the pairs with the largest std across members', () => {
    const s = disagreementScores(model, pool);
    expect(s[6]).toBeGreaterThan(s[5]);
    expect(s[5]).toBeGreaterThan(s[4]);
    expect(s[0]).toBeCloseTo(0, 6);
    expect(disagreementQueries.select(pool, 3, { rng: new Rng(0), model })).toEqual([6, 5, 4]);
  });

  it('entropy picks the pairs closest to 50/50 on average over members', () => {
    // Pair 2: 0.5 for all members (H = 0.693); pair 3: 0.6 for all (0.673); pair 4: 0.5/0.6/0.7 (mean 0.659).
    expect(entropyQueries.select(pool, 3, { rng: new Rng(0), model })).toEqual([2, 3, 4]);
  });

  it('needs a model', () => {
    expect(() => disagreementQueries.select(pool, 2, { rng: new Rng(0) })).toThrow(/needs a reward model/);
    expect(() => uniformQueries.select(pool, 9, { rng: new Rng(0) })).toThrow(/cannot pick 9 queries from a pool of 8/);
    expect(() => getQueryStrategy('best')).toThrow(/unknown query strategy "best"; known: uniform, disagreement/);
  });
});

describe('k-center', () => {
  it('covers spread points: one pick per cluster', () => {
    const rng = new Rng(1);
    const centers = [[0, 0], [10, 0], [0, 10], [10, 10], [5, 5]];
    const pool: [RewardSegment, RewardSegment][] = [];
    const cluster: number[] = [];
    centers.forEach(([cx, cy], c) => {
      for (let i = 0; i < 20; i++) {
        pool.push(pointPair(cx + rng.range(-0.5, 0.5), cy + rng.range(-0.5, 0.5)));
        cluster.push(c);
      }
    });
    const picks = kCenterQueries.select(pool, 5, { rng: new Rng(2) });
    expect(new Set(picks.map((i) => cluster[i])).size).toBe(5);
  });

  it('stays away from already-labelled pairs', () => {
    const pool = [pointPair(0, 0), pointPair(0.1, 0), pointPair(5, 5), pointPair(9, 9)];
    const labelled = [pointPair(9, 9), pointPair(5, 5)];
    expect(kCenterQueries.select(pool, 1, { rng: new Rng(3), labelled })).toEqual([0]);
  });

  it('greedy picks maximise the distance to the nearest covered point', () => {
    const x = Float32Array.from([0, 1, 2, 10]);
    expect(greedyKCenter(x, 4, 1, 3, undefined, 0)).toEqual([0, 3, 2]);
    // With 10 already covered: 0 is farthest (100), then 2 (min(4, 64) = 4 vs 1 for 1).
    expect(greedyKCenter(x, 4, 1, 2, Float64Array.from([100, 81, 64, 0]))).toEqual([0, 2]);
  });

  it('k-center + disagreement only picks from the more uncertain half', () => {
    const pool = [pointPair(0, 0), pointPair(10, 0), pointPair(0, 10), pointPair(10, 10)];
    const model = fakeModel([[0.5, 0.1, 0.5, 0.9], [0.5, 0.9, 0.5, 0.1]], pool);
    const picks = kCenterDisagreementQueries.select(pool, 2, { rng: new Rng(4), model });
    expect(picks.sort()).toEqual([1, 3]);
  });
});

describe('a query round', () => {
  it('draws poolMultiplier x k candidates and returns k of them; the first round is uniform', () => {
    const sampler = new SegmentSampler([countingTrajectory(100)], { length: 10 });
    let asked = 0;
    const model: PreferencePredictor = {
      members: 2,
      preferenceProbs(pairs) {
        asked += pairs.length;
        // Disagreement grows with the start of segment A.
        const out = new Float32Array(2 * pairs.length);
        pairs.forEach((p, i) => {
          const s = (p as [RewardSegment, RewardSegment])[0].source.start / 100;
          out[i] = 0.5 + s / 2;
          out[pairs.length + i] = 0.5 - s / 2;
        });
        return out;
      },
    };
    const picked = selectQueries('disagreement', sampler, 5, new Rng(5), { model, poolMultiplier: 10 });
    expect(picked.length).toBe(5);
    expect(asked).toBe(50);
    // The 5 most uncertain out of 50 random starts in [0, 90] lie high.
    for (const [a] of picked) expect(a.source.start).toBeGreaterThan(50);
    asked = 0;
    expect(selectQueries('disagreement', sampler, 5, new Rng(5), { model, firstRound: true }).length).toBe(5);
    expect(asked).toBe(0);
  });
});
