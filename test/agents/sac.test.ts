/**
 * SAC: action shapes and bounds, the squashed-Gaussian log-density, target-network averaging,
 * checkpoint round trips, config errors, and (in a small configuration) that it learns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { SAC } from '../../agents/sac.js';
import { allocBatch } from '../../agents/replay-buffer.js';

beforeAll(async () => {
  await initBackend();
});

function randomBatch(size: number, obsDim: number, actDim: number, seed: number) {
  const rng = new Rng(seed);
  const b = allocBatch(size, obsDim, actDim);
  rng.fillNormal(b.obs);
  rng.fillNormal(b.nextObs);
  rng.fillUniform(b.actions, -1, 1);
  rng.fillNormal(b.rewards);
  return b;
}

describe('SAC', () => {
  it('acts with the right shape, inside [-1, 1], deterministically when asked', () => {
    const sac = new SAC(6, 3, { hiddenDims: [16, 16] }, 1);
    const obs = new Rng(2).fillNormal(new Float32Array(5 * 6)) as Float32Array;
    const a = sac.act(obs, 5, false);
    expect(a.length).toBe(15);
    expect(Array.from(a).every((x) => x >= -1 && x <= 1)).toBe(true);
    expect(Array.from(sac.act(obs, 5, true))).toEqual(Array.from(sac.act(obs, 5, true)));
    expect(Array.from(sac.act(obs, 5, false))).not.toEqual(Array.from(a));
    expect(() => sac.act(obs, 4, true)).toThrow(/30 values for 4 observations of 6/);
    sac.dispose();
  });

  it('log-probability matches the change-of-variables density and integrates to 1', () => {
    const sac = new SAC(3, 1, { hiddenDims: [8] }, 3);
    tf.tidy(() => {
      const obs = tf.tensor2d([[0.3, -0.2, 0.5]]);
      const { mu, logStd } = sac.dist(obs);
      const m = mu.dataSync()[0];
      const s = Math.exp(logStd.dataSync()[0]);
      // A grid of noise values covers the action range; compare to float64 formulas and integrate.
      const n = 4001;
      const eps = Float32Array.from({ length: n }, (_, i) => -8 + (16 * i) / (n - 1));
      const { action, logp } = sac.sampleWithLogProb(tf.tile(obs, [n, 1]), tf.tensor2d(eps, [n, 1]));
      const a = action.dataSync();
      const lp = logp.dataSync();
      let integral = 0;
      for (let i = 0; i < n; i++) {
        const u = m + s * eps[i];
        const expected = -0.5 * eps[i] ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI) - Math.log(1 - Math.tanh(u) ** 2);
        if (Math.abs(u) < 5) expect(Math.abs(lp[i] - expected)).toBeLessThan(2e-3);
        if (i > 0) integral += 0.5 * (Math.exp(lp[i]) + Math.exp(lp[i - 1])) * (a[i] - a[i - 1]);
      }
      expect(Number.isFinite(lp[0]) && Number.isFinite(lp[n - 1])).toBe(true); // stable in the tails
      expect(integral).toBeGreaterThan(0.98);
      expect(integral).toBeLessThan(1.02);
    });
    sac.dispose();
  });

  it('moves the target critic by tau towards the critic every criticTargetUpdateFreq updates', () => {
    const sac = new SAC(5, 2, { hiddenDims: [8], tau: 0.1, criticTargetUpdateFreq: 2 }, 4);
    const batch = randomBatch(16, 5, 2, 5);
    const before = sac.criticTarget.getWeights();
    sac.update(batch, 1); // odd step: no target update
    expect(sac.criticTarget.getWeights()).toEqual(before);
    sac.update(batch, 2);
    const critic = sac.critic.getWeights();
    const after = sac.criticTarget.getWeights();
    after.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(0.9 * before[i][j] + 0.1 * critic[i][j], 5)));
    sac.dispose();
  });

  it('updates report finite losses and leak no tensors', () => {
    const sac = new SAC(5, 2, { hiddenDims: [16, 16] }, 6);
    const batch = randomBatch(32, 5, 2, 7);
    for (let i = 0; i < 5; i++) sac.update(batch, i);
    const n = tf.memory().numTensors;
    let m: Record<string, number> = {};
    for (let i = 5; i < 200; i++) m = sac.update(batch, i);
    expect(tf.memory().numTensors).toBe(n);
    for (const k of ['critic_loss', 'actor_loss', 'alpha_loss', 'alpha', 'entropy']) expect(Number.isFinite(m[k]), k).toBe(true);
    sac.dispose();
  });

  it('a checkpoint round trip gives identical actions and identical further training', async () => {
    const a = new SAC(5, 2, { hiddenDims: [16] }, 8);
    const batch = randomBatch(32, 5, 2, 9);
    for (let i = 0; i < 10; i++) a.update(batch, i);
    const state = JSON.parse(JSON.stringify(await a.saveState()));
    const b = new SAC(5, 2, { hiddenDims: [16] }, 999);
    await b.loadState(state);
    const obs = new Rng(10).fillNormal(new Float32Array(4 * 5)) as Float32Array;
    expect(Array.from(b.act(obs, 4, true))).toEqual(Array.from(a.act(obs, 4, true)));
    expect(Array.from(b.act(obs, 4, false))).toEqual(Array.from(a.act(obs, 4, false)));
    for (let i = 10; i < 15; i++) {
      a.update(batch, i);
      b.update(batch, i);
    }
    expect(b.actor.getWeights()).toEqual(a.actor.getWeights());
    expect(b.critic.getWeights()).toEqual(a.critic.getWeights());
    a.dispose();
    b.dispose();
  });

  it('bad configs name the field', () => {
    expect(() => new SAC(5, 2, { tau: 2 })).toThrow(/tau/);
    expect(() => new SAC(5, 2, { hiddenDims: [] })).toThrow(/hiddenDims/);
    expect(() => new SAC(5, 2, { logStdMin: 3, logStdMax: 2 })).toThrow(/logStdMin must be below logStdMax/);
    expect(() => new SAC(5, 2, { bogus: 1 } as never)).toThrow(/bogus|Unrecognized/);
  });
});
