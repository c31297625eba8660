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

/** The k-NN distances the way the code did before (float32 |a|^2 + |b|^2 - 2ab), in float32 arithmetic. */
function matmulForm(q: Float32Array, n: number, r: Float32Array, m: number, dim: number, k: number): number[] {
  const f = Math.fround;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let qn = 0;
    for (let c = 0; c < dim; c++) qn = f(qn + f(q[i * dim + c] * q[i * dim + c]));
    const d: number[] = [];
    for (let j = 0; j < m; j++) {
      let rn = 0;
      let dot = 0;
      for (let c = 0; c < dim; c++) {
        rn = f(rn + f(r[j * dim + c] * r[j * dim + c]));
        dot = f(dot + f(q[i * dim + c] * r[j * dim + c]));
      }
      d.push(Math.sqrt(Math.max(0, f(f(qn + rn) - f(2 * dot)))));
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

  it('k-NN distances are exact at small distances far from the origin (float64 reference)', () => {
    // States of one Meta-World episode: a cluster ~1e-3 wide around a point of norm ~1, where the
    // |a|^2 + |b|^2 - 2ab form in float32 is off by percents.
    const rng = new Rng(7);
    const dim = 39;
    const m = 2000;
    const centre = Array.from({ length: dim }, () => rng.range(-1, 1) * 0.3);
    const refs = new Float32Array(m * dim);
    for (let j = 0; j < m; j++) for (let c = 0; c < dim; c++) refs[j * dim + c] = centre[c] + 1e-3 * rng.normal();
    const n = 64;
    const queries = refs.slice(0, n * dim);
    const k = 5;
    const got = knnDistances(queries, n, refs, m, dim, k, 512);
    const want = bruteForce(queries, n, refs, m, dim, k);
    let worstRel = 0;
    want.forEach((w, i) => {
      worstRel = Math.max(worstRel, Math.abs(got[i] - w) / w);
    });
    expect(worstRel).toBeLessThan(1e-6); // float32 output rounding only
    // The matmul form alone on the raw (uncentred) rows, for contrast: percent-level errors.
    const approx = matmulForm(queries, n, refs, m, dim, k);
    const approxRel = Math.max(...want.map((w, i) => Math.abs(approx[i] - w) / w));
    expect(approxRel).toBeGreaterThan(1e-3);
  });

  it('rows whose candidates cannot be proven right fall back to brute force, and still match', () => {
    // Many exact ties at the k-th distance with few candidates: the proof fails, the fallback answers.
    const dim = 2;
    const pts: number[] = [0, 0];
    for (let j = 0; j < 40; j++) pts.push(Math.cos((2 * Math.PI * j) / 40), Math.sin((2 * Math.PI * j) / 40));
    const refs = Float32Array.from(pts);
    const m = refs.length / dim;
    const queries = refs.slice(0, dim);
    const got = knnDistances(queries, 1, refs, m, dim, 5, 16, 6);
    expect(got[0]).toBeCloseTo(bruteForce(queries, 1, refs, m, dim, 5)[0], 6);
    expect(() => knnDistances(queries, 1, refs, m, dim, 5, 16, 3)).toThrow(/candidates must be an integer >= k\+1/);
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
