/**
 * Each teacher's label frequencies against its formula, over many random pairs (B-Pref defaults
 * unless a test says otherwise). Tolerances are a few binomial standard errors.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/rng.js';
import { discountedSegmentReturn, segmentReturn, type RewardSegment } from '../../../reward/segments.js';
import {
  equalTeacher, mistakeTeacher, myopicTeacher, oracleTeacher, parseTeacher, regretTeacher, returnMargin, skipTeacher, stochasticTeacher,
} from '../../../reward/teachers/index.js';
import { makeSegment } from '../helpers.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** n random pairs of H-step segments with per-step rewards U(0, scale). */
function randomPairs(n: number, seed: number, H = 10, scale = 1): [RewardSegment, RewardSegment][] {
  const rng = new Rng(seed);
  const seg = () => makeSegment(Float32Array.from({ length: H }, () => rng.range(0, scale)));
  return Array.from({ length: n }, () => [seg(), seg()]);
}

describe('oracle', () => {
  it('always prefers the higher return; ties go to A', () => {
    const t = oracleTeacher(new Rng(1));
    for (const [a, b] of randomPairs(500, 2)) expect(t.label(a, b)).toBe(segmentReturn(a) >= segmentReturn(b) ? 1 : 0);
    const s = makeSegment([1, 1]);
    expect(t.label(s, makeSegment([2, 0]))).toBe(1);
  });
});

describe('stochastic (Bradley-Terry)', () => {
  it.each([1, 0.3])('P(prefer A) matches sigmoid(beta * (R_A - R_B)) for beta = %s', (beta) => {
    const t = stochasticTeacher(new Rng(3), { beta });
    const pairs = randomPairs(20000, 4, 10, 1);
    // Bins of the return gap: empirical frequency vs mean predicted probability in each bin.
    const bins = new Map<number, { y: number; p: number; v: number; n: number }>();
    let sumY = 0;
    let sumP = 0;
    let sumV = 0;
    for (const [a, b] of pairs) {
      const gap = segmentReturn(a) - segmentReturn(b);
      const p = sigmoid(beta * gap);
      const y = t.label(a, b) as number;
      expect(y === 0 || y === 1).toBe(true);
      const k = Math.max(-3, Math.min(3, Math.round(gap)));
      const bin = bins.get(k) ?? { y: 0, p: 0, v: 0, n: 0 };
      bin.y += y;
      bin.p += p;
      bin.v += p * (1 - p);
      bin.n++;
      bins.set(k, bin);
      sumY += y;
      sumP += p;
      sumV += p * (1 - p);
    }
    const z = (sumY - sumP) / Math.sqrt(sumV);
    const byGap = [...bins.entries()].sort((x, y) => x[0] - y[0]).filter(([, b]) => b.n >= 200)
      .map(([k, b]) => `gap~${k}: ${(b.y / b.n).toFixed(3)}/${(b.p / b.n).toFixed(3)}`).join(', ');
    console.log(`stoc beta=${beta}: observed/predicted P(A) ${byGap}; overall z = ${z.toFixed(2)}`);
    expect(Math.abs(z)).toBeLessThan(4);
    for (const [, b] of bins) {
      if (b.n < 200) continue;
      expect(Math.abs(b.y - b.p) / Math.sqrt(b.v)).toBeLessThan(4);
    }
  });

  it('beta = 0 is a fair coin, large beta the oracle', () => {
    const coin = stochasticTeacher(new Rng(5), { beta: 0 });
    const pairs = randomPairs(4000, 6);
    const freq = pairs.reduce((s, [a, b]) => s + (coin.label(a, b) as number), 0) / pairs.length;
    expect(Math.abs(freq - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / pairs.length));
    const sharp = stochasticTeacher(new Rng(5), { beta: 1e6 });
    const oracle = oracleTeacher();
    const pairs2 = randomPairs(500, 7).filter(([a, b]) => Math.abs(segmentReturn(a) - segmentReturn(b)) > 1e-3);
    for (const [a, b] of pairs2) expect(sharp.label(a, b)).toBe(oracle.label(a, b));
  });
});

describe('mistake', () => {
  it('flips the rational answer with probability eps = 0.1', () => {
    const t = mistakeTeacher(new Rng(8));
    expect(t.spec).toBe('mistake:eps=0.1');
    const oracle = oracleTeacher();
    const pairs = randomPairs(20000, 9);
    const flips = pairs.filter(([a, b]) => t.label(a, b) !== oracle.label(a, b)).length / pairs.length;
    console.log(`mistake eps=0.1: flip rate ${flips.toFixed(4)} over ${pairs.length} pairs`);
    expect(Math.abs(flips - 0.1)).toBeLessThan(4 * Math.sqrt((0.1 * 0.9) / pairs.length));
  });
});

describe('skip', () => {
  it('skips exactly the pairs whose larger return is not above the threshold, answers the rest as the oracle', () => {
    const thresh = 5.5;
    const t = skipTeacher(new Rng(10), { thresh });
    const oracle = oracleTeacher();
    let skipped = 0;
    let expected = 0;
    for (const [a, b] of randomPairs(5000, 11)) {
      const y = t.label(a, b);
      const shouldSkip = Math.max(segmentReturn(a), segmentReturn(b)) <= thresh;
      if (shouldSkip) expected++;
      if (y === null) skipped++;
      else expect(y).toBe(oracle.label(a, b));
      expect(y === null).toBe(shouldSkip);
    }
    expect(skipped).toBe(expected);
    console.log(`skip thresh=${thresh}: ${skipped} of 5000 skipped, formula ${expected}`);
    expect(skipped / 5000).toBeGreaterThan(0.2); // the threshold bites in this set-up
  });

  it('relative thresholds (B-Pref frac = 0.1 of the return margin) need a margin first', () => {
    const t = skipTeacher(new Rng(12));
    expect(t.spec).toBe('skip:frac=0.1');
    const [a, b] = randomPairs(1, 13)[0];
    expect(() => t.label(a, b)).toThrow(/skip threshold is relative.*setReturnMargin/);
    // margin = mean episode return * H / max episode steps = 300 * 50 / 500 = 30; threshold = 3.
    expect(returnMargin([200, 400], 50, 500)).toBe(30);
    t.setReturnMargin(30);
    expect(t.label(makeSegment([1, 1.9]), makeSegment([1, 1.5]))).toBeNull();
    expect(t.label(makeSegment([1, 2.1]), makeSegment([1, 1.5]))).toBe(1);
  });
});

describe('equal', () => {
  it('answers 0.5 exactly when the returns differ by less than the threshold', () => {
    const thresh = 0.8;
    const t = equalTeacher(new Rng(14), { thresh });
    const oracle = oracleTeacher();
    let equal = 0;
    for (const [a, b] of randomPairs(5000, 15)) {
      const y = t.label(a, b);
      const close = Math.abs(segmentReturn(a) - segmentReturn(b)) < thresh;
      if (close) {
        equal++;
        expect(y).toBe(0.5);
      } else expect(y).toBe(oracle.label(a, b));
    }
    expect(equal / 5000).toBeGreaterThan(0.2);
  });
});

describe('myopic', () => {
  it('labels by the discounted return (gamma = 0.9, last step weight 1)', () => {
    const t = myopicTeacher(new Rng(16));
    expect(t.spec).toBe('myopic:gamma=0.9');
    let disagreeWithOracle = 0;
    for (const [a, b] of randomPairs(5000, 17)) {
      const y = t.label(a, b);
      expect(y).toBe(discountedSegmentReturn(a, 0.9) >= discountedSegmentReturn(b, 0.9) ? 1 : 0);
      if (y !== (segmentReturn(a) >= segmentReturn(b) ? 1 : 0)) disagreeWithOracle++;
    }
    expect(disagreeWithOracle).toBeGreaterThan(0);
    // Early reward loses to a smaller late one: 1 * 0.9^9 = 0.387 < 0.5.
    const early = makeSegment([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const late = makeSegment([0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5]);
    expect(t.label(early, late)).toBe(0);
    expect(oracleTeacher().label(early, late)).toBe(1);
  });
});

describe('regret (sum of optimal advantages)', () => {
  it('prefers the segment that makes more progress in V*, not the one with more reward', () => {
    // V*(s) = 10 * s[0]: A collects reward but goes backwards, B collects less but moves forward.
    const V = (o: Float32Array) => 10 * o[0];
    const obs = (x0: number) => Float32Array.from([x0, 0, 0, x0, 0, 0]);
    const a = makeSegment([1, 1], { obs: obs(0.5), finalObs: Float32Array.from([0.2, 0, 0]) });
    const b = makeSegment([0.2, 0.2], { obs: obs(0.5), finalObs: Float32Array.from([0.9, 0, 0]) });
    const t = regretTeacher(new Rng(18), V);
    // A: 2 + 2 - 5 = -1; B: 0.4 + 9 - 5 = 4.4
    expect(t.score(a)).toBeCloseTo(-1, 5);
    expect(t.score(b)).toBeCloseTo(4.4, 5);
    expect(t.label(a, b)).toBe(0);
    expect(oracleTeacher().label(a, b)).toBe(1);
  });

  it('with stoc, P(prefer A) is the logistic of the advantage gap', () => {
    const V = (o: Float32Array) => o[0];
    const rng = new Rng(19);
    const t = parseTeacher('regret+stoc:beta=1', new Rng(20), { valueFn: V });
    let sumY = 0;
    let sumP = 0;
    let sumV = 0;
    for (let i = 0; i < 10000; i++) {
      const mk = () => makeSegment(Float32Array.from({ length: 4 }, () => rng.range(0, 0.5)), { rng, finalObs: Float32Array.from([rng.range(-1, 1), 0, 0]) });
      const a = mk();
      const b = mk();
      const p = sigmoid(t.score(a) - t.score(b));
      sumY += t.label(a, b) as number;
      sumP += p;
      sumV += p * (1 - p);
    }
    expect(Math.abs(sumY - sumP) / Math.sqrt(sumV)).toBeLessThan(4);
  });

  it('without the observation after the last action, scores the first H - 1 steps', () => {
    const V = (o: Float32Array) => o[0];
    const seg = makeSegment([1, 2, 4], { obs: Float32Array.from([0, 0, 0, 5, 0, 0, 7, 0, 0]) });
    // r_0 + r_1 + V(s_2) - V(s_0) = 1 + 2 + 7 - 0
    expect(regretTeacher(new Rng(0), V).score(seg)).toBeCloseTo(10, 6);
  });

  it('needs a value function', () => {
    expect(() => parseTeacher('regret', new Rng(0))).toThrow(/regret teacher needs an optimal value function V\*\(obs\)/);
  });
});

describe('composed teachers', () => {
  it('skip + stoc: skips by the threshold, then answers Bradley-Terry', () => {
    const t = parseTeacher('skip:thresh=5+stoc:beta=1', new Rng(21));
    let sumY = 0;
    let sumP = 0;
    let sumV = 0;
    for (const [a, b] of randomPairs(20000, 22)) {
      const y = t.label(a, b);
      const ra = segmentReturn(a);
      const rb = segmentReturn(b);
      expect(y === null).toBe(Math.max(ra, rb) <= 5);
      if (y === null) continue;
      const p = sigmoid(ra - rb);
      sumY += y;
      sumP += p;
      sumV += p * (1 - p);
    }
    expect(Math.abs(sumY - sumP) / Math.sqrt(sumV)).toBeLessThan(4);
  });

  it('equal overrides a mistake flip (B-Pref order)', () => {
    const t = parseTeacher('mistake:eps=1+equal:thresh=0.5', new Rng(23));
    const oracle = oracleTeacher();
    for (const [a, b] of randomPairs(2000, 24)) {
      const y = t.label(a, b);
      if (Math.abs(segmentReturn(a) - segmentReturn(b)) < 0.5) expect(y).toBe(0.5);
      else expect(y).toBe(1 - (oracle.label(a, b) as number));
    }
  });

  it('the same seed gives the same labels', () => {
    const pairs = randomPairs(200, 25);
    const run = () => {
      const t = parseTeacher('mistake:eps=0.2+stoc:beta=2', new Rng(26));
      return pairs.map(([a, b]) => t.label(a, b));
    };
    expect(run()).toEqual(run());
  });
});
