/**
 * SAC's whole-update kernel (native/sac.c via agents/sac-native.ts) against the tfjs update run on the
 * plain per-layer tfjs layers (tfjs autodiff, no native whole-network kernels): same seed and batches,
 * the same metrics and the same weights after several updates, with and without actor / target steps
 * and a learned temperature. Skipped where the addon is not built (CI builds it).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend.js';
import { nativeSacUpdateActive, setNativeSacUpdate } from '../../core/native-gemm.js';
import { setFusedMlp } from '../../core/nn/fused-mlp.js';
import { NonFiniteLossError } from '../../core/nn/optim.js';
import { Rng } from '../../core/rng.js';
import { SAC, type SacConfig } from '../../agents/sac.js';
import { allocBatch, type Batch } from '../../agents/replay-buffer.js';

const O = 11;
const A = 3;
let live = false;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  live = nativeSacUpdateActive();
});
afterEach(() => {
  setNativeSacUpdate(true);
  setFusedMlp(true);
});

function batches(n: number, B: number, seed: number): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const b = allocBatch(B, O, A);
    rng.fillNormal(b.obs);
    rng.fillNormal(b.nextObs);
    rng.fillUniform(b.actions, -1, 1);
    rng.fillNormal(b.rewards);
    for (let i = 0; i < B; i++) b.dones[i] = i % 5 === 0 ? 1 : 0;
    return b;
  });
}

interface Run { metrics: Record<string, number>[]; weights: Float32Array[]; logAlpha: number }

function train(native: boolean, cfg: Partial<SacConfig>, data: Batch[]): Run {
  setNativeSacUpdate(native);
  setFusedMlp(native); // the reference: tfjs ops and autodiff on the per-layer dense layers
  const sac = new SAC(O, A, cfg, 7);
  const metrics = data.map((b, step) => sac.update(b, step));
  const weights = [...sac.actor.getWeights(), ...sac.critic.getWeights(), ...sac.criticTarget.getWeights()];
  const logAlpha = sac.logAlpha.dataSync()[0];
  sac.dispose();
  return { metrics, weights, logAlpha };
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

describe('native SAC update', () => {
  // Batch x actions = 25 x 3 in the last case is not a multiple of the vector math's four lanes (its padded tail).
  const cases: [string, Partial<SacConfig>, number][] = [
    ['2 hidden layers, every step', { hiddenDims: [32, 32], alphaLr: 1e-2 }, 48],
    ['3 hidden layers, actor every 2nd step, target every 3rd', { hiddenDims: [24, 16, 24], actorUpdateFreq: 2, criticTargetUpdateFreq: 3 }, 48],
    ['fixed temperature, 1 hidden layer', { hiddenDims: [40], learnTemperature: false, initTemperature: 0.3 }, 48],
    ['batch 25', { hiddenDims: [32, 32], alphaLr: 1e-2 }, 25],
  ];
  for (const [name, cfg, batch] of cases) {
    it(`matches the tfjs update: ${name}`, (ctx) => {
      if (!live) ctx.skip();
      const data = batches(6, batch, 1);
      const nat = train(true, cfg, data);
      const ref = train(false, cfg, data);
      expect(nat.metrics.map((m) => Object.keys(m).sort())).toEqual(ref.metrics.map((m) => Object.keys(m).sort()));
      nat.metrics.forEach((m, i) => {
        for (const k of Object.keys(m)) expect(m[k]).toBeCloseTo(ref.metrics[i][k], 4);
      });
      // The weights have moved (lr 3e-4 per Adam step) and agree far closer than that.
      const start = train(true, cfg, []).weights;
      expect(maxAbsDiff(nat.weights, start)).toBeGreaterThan(1e-4);
      expect(maxAbsDiff(nat.weights, ref.weights)).toBeLessThan(2e-6);
      expect(nat.logAlpha).toBeCloseTo(ref.logAlpha, 6);
      if (cfg.learnTemperature !== false) expect(nat.logAlpha).not.toBe(Math.log(0.1));
    });
  }

  it('is deterministic per seed and leaks no tensors', (ctx) => {
    if (!live) ctx.skip();
    const data = batches(4, 32, 2);
    const a = train(true, { hiddenDims: [16, 16] }, data);
    const before = tf.memory().numTensors;
    const b = train(true, { hiddenDims: [16, 16] }, data);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(a.weights, b.weights)).toBe(0);
  });

  it('a NaN reward stops the update with NonFiniteLossError and changes no weight', (ctx) => {
    if (!live) ctx.skip();
    const sac = new SAC(O, A, { hiddenDims: [16, 16] }, 3);
    const [good, bad] = batches(2, 16, 3);
    sac.update(good, 0);
    const before = [...sac.actor.getWeights(), ...sac.critic.getWeights(), ...sac.criticTarget.getWeights()];
    const la = sac.logAlpha.dataSync()[0];
    bad.rewards[5] = NaN;
    expect(() => sac.update(bad, 1)).toThrow(NonFiniteLossError);
    expect(() => sac.update(bad, 1)).toThrow(/SAC critic loss is NaN; no weights were changed/);
    const after = [...sac.actor.getWeights(), ...sac.critic.getWeights(), ...sac.criticTarget.getWeights()];
    expect(maxAbsDiff(before, after)).toBe(0);
    expect(sac.logAlpha.dataSync()[0]).toBe(la);
    // The next good batch trains as if the bad one had not come.
    expect(Number.isFinite(sac.update(good, 1).critic_loss)).toBe(true);
    sac.dispose();
  });

  it('resumes from a checkpoint taken mid-run exactly as the uninterrupted run', async (ctx) => {
    if (!live) ctx.skip();
    const data = batches(6, 24, 4);
    const whole = new SAC(O, A, { hiddenDims: [16, 16] }, 5);
    data.forEach((b, i) => whole.update(b, i));
    const first = new SAC(O, A, { hiddenDims: [16, 16] }, 5);
    data.slice(0, 3).forEach((b, i) => first.update(b, i));
    const resumed = new SAC(O, A, { hiddenDims: [16, 16] }, 9);
    await resumed.loadState(JSON.parse(JSON.stringify(await first.saveState())));
    data.slice(3).forEach((b, i) => resumed.update(b, i + 3));
    expect(maxAbsDiff(resumed.actor.getWeights(), whole.actor.getWeights())).toBe(0);
    expect(maxAbsDiff(resumed.critic.getWeights(), whole.critic.getWeights())).toBe(0);
    [whole, first, resumed].forEach((s) => s.dispose());
  });
});
