/**
 * The offline losses against values computed by hand on tiny inputs (softplus(x) = ln(1 + e^x)).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../core/backend.js';
import { awrWeights, bradleyTerryLoss, cosineLr, cplLoss, expectileLoss, implicitReward, squaredErrorLogLik, warmupLr } from '../../../agents/offline/common.js';
import { bcRowWeights, weightedBcLoss } from '../../../agents/offline/bc.js';
import { iplLoss } from '../../../agents/offline/ipl.js';
import { allocPairBatch } from '../../../agents/offline/data.js';

beforeAll(async () => {
  await initBackend();
});

const sp = (x: number) => Math.log1p(Math.exp(x));
const val = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

describe('offline losses', () => {
  it('CPL: soft-label mix of softplus(lambda S- - S+) terms', () => {
    // Pair 0: A preferred, S = (1, 0): softplus(0.5*0 - 1). Pair 1: tie, S = (0, 2): half of each direction.
    const l = cplLoss(tf.tensor1d([1, 0]), tf.tensor1d([0, 2]), tf.tensor1d([1, 0.5]), 0.5);
    const expected = (sp(-1) + 0.5 * sp(1) + 0.5 * sp(-2)) / 2; // 0.516678...
    expect(val(l)[0]).toBeCloseTo(expected, 5);
    expect(expected).toBeCloseTo(0.5166783, 6);
    // lambda = 1 is the Bradley-Terry loss on the scores.
    const plain = cplLoss(tf.tensor1d([2]), tf.tensor1d([0]), tf.tensor1d([1]), 1);
    expect(val(plain)[0]).toBeCloseTo(-Math.log(Math.exp(2) / (Math.exp(2) + 1)), 5);
  });

  it('CPL: the conservative bias pushes the preferred score up more than the other down', () => {
    const sa = tf.variable(tf.tensor1d([0.3]));
    const sb = tf.variable(tf.tensor1d([-0.2]));
    const { grads } = tf.variableGrads(() => cplLoss(sa, sb, tf.tensor1d([1]), 0.5), [sa, sb]);
    const ga = val(grads[sa.name])[0];
    const gb = val(grads[sb.name])[0];
    expect(ga).toBeLessThan(0); // raise S+
    expect(gb).toBeGreaterThan(0); // lower S-
    expect(Math.abs(gb)).toBeCloseTo(0.5 * Math.abs(ga), 5); // by lambda times as much
    sa.dispose();
    sb.dispose();
  });

  it('Bradley-Terry: softplus(z) - y z with z = R_A - R_B', () => {
    const ra = tf.tensor1d([2, 2, 2]);
    const rb = tf.tensor1d([0, 0, 0]);
    expect(val(bradleyTerryLoss(ra, rb, tf.tensor1d([1, 1, 1])))[0]).toBeCloseTo(sp(2) - 2, 5); // 0.126928
    expect(val(bradleyTerryLoss(ra, rb, tf.tensor1d([0, 0, 0])))[0]).toBeCloseTo(sp(2), 5); // 2.126928
    expect(val(bradleyTerryLoss(ra, rb, tf.tensor1d([0.5, 0.5, 0.5])))[0]).toBeCloseTo(sp(2) - 1, 5);
  });

  it('IQL expectile: |tau - 1(u<0)| u^2', () => {
    // u = 1 -> 0.7 * 1; u = -2 -> 0.3 * 4; mean 0.95.
    expect(val(expectileLoss(tf.tensor1d([1, -2]), 0.7))[0]).toBeCloseTo(0.95, 6);
    expect(val(expectileLoss(tf.tensor1d([1, -2]), 0.5))[0]).toBeCloseTo(0.5 * (1 + 4) / 2, 6);
  });

  it('AWR weights exp(A / beta), clipped at 100', () => {
    const w = val(awrWeights(tf.tensor1d([0, 1, 10, -3]), 1 / 3));
    expect(w[0]).toBeCloseTo(1, 6);
    expect(w[1]).toBeCloseTo(Math.exp(3), 3); // 20.0855
    expect(w[2]).toBe(100);
    expect(w[3]).toBeCloseTo(Math.exp(-9), 6);
  });

  it('IPL: implicit reward Q - gamma V(s\'), preference loss on its sums plus chi2 * mean(r^2)', () => {
    expect(val(implicitReward(tf.tensor1d([1, 2]), tf.tensor1d([10, 20]), 0.9))).toEqual([-8, -16].map((x) => expect.closeTo(x, 5)));
    // One head, one pair: r_Q(A) = (1, 2), r_Q(B) = (0, 1); sums 3 and 1; A preferred.
    const rQ = tf.tensor4d([1, 2, 0, 1], [1, 1, 2, 2]);
    const l = iplLoss(rQ, tf.tensor1d([1]), 3);
    expect(val(l.preference)[0]).toBeCloseTo(sp(2) - 2, 5);
    expect(val(l.chi2)[0]).toBeCloseTo(3 * (1 + 4 + 0 + 1) / 4, 5); // 4.5
    expect(val(l.total)[0]).toBeCloseTo(4.626928, 5);
    // Two heads: the label applies to each head; the loss is their mean.
    const two = iplLoss(tf.tensor4d([1, 2, 0, 1, 0, 0, 0, 0], [2, 1, 2, 2]), tf.tensor1d([1]), 0);
    expect(val(two.preference)[0]).toBeCloseTo((sp(2) - 2 + sp(0)) / 2, 5);
  });

  it('BC: -log pi = ||mu - a||^2, weighted mean; filtered BC keeps the preferred side', () => {
    expect(val(squaredErrorLogLik(tf.tensor2d([[0, 0]]), tf.tensor2d([[1, -2]])))[0]).toBeCloseTo(-5, 6);
    const l = weightedBcLoss(tf.tensor2d([[0, 0], [1, 1]]), tf.tensor2d([[1, 0], [0, 0]]), tf.tensor1d([1, 3]));
    expect(val(l)[0]).toBeCloseTo((1 * 1 + 3 * 2) / 4, 6);
    const b = allocPairBatch(2, 2, 1, 1);
    b.labels.set([1, 0.5]);
    // Rows are [pair, side, step]: pair 0 keeps A only, the tie keeps both at half weight.
    expect(Array.from(bcRowWeights(b, 'preferred'))).toEqual([1, 1, 0, 0, 0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(bcRowWeights(b, 'all'))).toEqual(new Array(8).fill(1));
  });

  it('schedules: linear warm-up and cosine decay', () => {
    expect(warmupLr(1e-4, 0, 10)).toBeCloseTo(1e-5, 12);
    expect(warmupLr(1e-4, 9, 10)).toBeCloseTo(1e-4, 12);
    expect(warmupLr(1e-4, 500, 10)).toBe(1e-4);
    expect(warmupLr(1e-4, 0, 0)).toBe(1e-4);
    expect(cosineLr(3e-4, 0, 100)).toBeCloseTo(3e-4, 12);
    expect(cosineLr(3e-4, 50, 100)).toBeCloseTo(1.5e-4, 12);
    expect(cosineLr(3e-4, 100, 100)).toBeGreaterThan(0);
    expect(cosineLr(3e-4, 7, 0)).toBe(3e-4);
  });
});

describe('pair accuracy metric', () => {
  it('counts hard labels only', async () => {
    const { pairAccuracy } = await import('../../../agents/offline/common.js');
    // Pairs: A>B labelled A (right), A<B labelled A (wrong), tie (ignored), A<B labelled B (right).
    const acc = pairAccuracy(tf.tensor1d([2, 0, 5, 0]), tf.tensor1d([1, 1, 0, 3]), tf.tensor1d([1, 1, 0.5, 0]));
    expect(val(acc)[0]).toBeCloseTo(2 / 3, 6);
  });
});
