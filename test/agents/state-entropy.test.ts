import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { knnDistances, RunningMeanStd, StateEntropyReward } from '../../agents/state-entropy.js';

beforeAll(async () => {
  await initBackend();
});

function bruteForce(q: Float32Array, n: number, r: Float32Array, m: number, dim: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const d: number[] = [];
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += (q[i * dim + c] - r[j * dim + c]) ** 2;
      d.push(Math.sqrt(s));
    }
    d.sort((a, b) => a - b);
    out.push(d[k]);
  }
  return out;
}

describe('state entropy reward', () => {
  it('k-NN distances match brute force, across chunk boundaries', () => {
    const rng = new Rng(1);
    const dim = 5;
    const m = 300;
    const refs = rng.fillNormal(new Float32Array(m * dim)) as Float32Array;
    const n = 20;
    const queries = refs.slice(0, n * dim); // queries are in the buffer, as in PEBBLE
    const got = knnDistances(queries, n, refs, m, dim, 5, 64);
    const want = bruteForce(queries, n, refs, m, dim, 5);
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 3));
  });

  it('running mean/std matches the statistics of all data seen', () => {
    const rs = new RunningMeanStd();
    const rng = new Rng(2);
    const all: number[] = [];
    for (let b = 0; b < 20; b++) {
      const xs = Array.from({ length: 50 }, () => 3 + 2 * rng.normal());
      all.push(...xs);
      rs.update(xs);
    }
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const v = all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length;
    expect(rs.mean).toBeCloseTo(mean, 3);
    expect(rs.var).toBeCloseTo(v, 2);
  });

  it('isolated states get larger rewards than crowded ones', () => {
    const rng = new Rng(3);
    const dim = 3;
    const crowded = Array.from({ length: 200 * dim }, () => 0.01 * rng.normal());
    const far = [5, 5, 5, 5.5, 5, 5, 5, 5.5, 5, 5, 5, 5.5, 6, 6, 6, 6.5, 6, 6];
    const refs = Float32Array.from([...crowded, ...far]);
    const m = refs.length / dim;
    const ent = new StateEntropyReward(5);
    const r = ent.rewards(Float32Array.from([...crowded.slice(0, dim), ...far.slice(0, dim)]), 2, refs, m, dim);
    expect(r[1]).toBeGreaterThan(10 * r[0]);
    expect(() => ent.rewards(new Float32Array(dim), 1, refs, 3, dim)).toThrow(/more than k=5 reference points/);
  });
});
