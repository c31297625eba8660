import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import type { LabelledPair } from '../../reward/preference-dataset.js';
import { RewardModel } from '../../reward/reward-model.js';
import { SegmentSampler } from '../../reward/segments.js';
import {
  centralWindow, labelCentral, pseudoLabels, resolveSurfConfig, sampleCrop, SURF_DEFAULTS, surfSegmentLength, trainSurf,
} from '../../reward/surf.js';
import { oracleTeacher } from '../../reward/teachers/index.js';
import { randomWalks } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

const small = { obsDim: 3, actDim: 2, hiddenDims: [32, 32], lr: 3e-3, batchSize: 32 };

describe('temporal cropping', () => {
  it('crop lengths are uniform on [H - c, H + c] and crops stay inside the stored H + 2w steps', () => {
    const H = 50;
    const stored = surfSegmentLength(H, SURF_DEFAULTS);
    expect(stored).toBe(60);
    const rng = new Rng(1);
    const counts = new Map<number, number>();
    for (let i = 0; i < 11000; i++) {
      const c = sampleCrop(rng, stored, H, 5);
      counts.set(c.length, (counts.get(c.length) ?? 0) + 1);
      expect(c.offA).toBeGreaterThanOrEqual(0);
      expect(c.offA + c.length).toBeLessThanOrEqual(stored);
      expect(c.offB + c.length).toBeLessThanOrEqual(stored);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55]);
    for (const n of counts.values()) expect(Math.abs(n / 11000 - 1 / 11)).toBeLessThan(4 * Math.sqrt((1 / 11) * (10 / 11) / 11000));
  });

  it('teachers see the central H steps of the stored segments', () => {
    const sampler = new SegmentSampler(randomWalks(3, 80, 2), { length: 30 });
    const [a, b] = sampler.samplePairs(1, new Rng(3))[0];
    const ca = centralWindow(a, { window: 5 });
    expect(ca.length).toBe(20);
    expect(ca.source.start).toBe(a.source.start + 5);
    expect(Array.from(ca.rewards)).toEqual(Array.from(a.rewards.subarray(5, 25)));
    const [label] = labelCentral(oracleTeacher(), [[a, b]], { window: 5 });
    expect(label.a).toBe(a.id);
    expect(label.label).toBe(oracleTeacher().label(ca, centralWindow(b, { window: 5 })));
  });
});

describe('pseudo-labels', () => {
  it('are the argmax per member, kept only above the confidence threshold', () => {
    const sampler = new SegmentSampler(randomWalks(5, 60, 4), { length: 20 });
    const pairs = sampler.samplePairs(50, new Rng(5));
    const m = new RewardModel({ ...small, seed: 6 });
    const probs = m.preferenceProbs(pairs, { offset: 5, length: 10 });
    const { label, mask } = pseudoLabels(m, pairs, { window: 5, threshold: 0.6 });
    for (let i = 0; i < probs.length; i++) {
      expect(label[i]).toBe(probs[i] >= 0.5 ? 1 : 0);
      expect(mask[i]).toBe(Math.max(probs[i], 1 - probs[i]) >= 0.6 ? 1 : 0);
    }
    m.dispose();
  });
});

describe('SURF training', () => {
  it('learns from few labels plus confident pseudo-labels on cropped segments, without leaking tensors', () => {
    const H = 10;
    const w = 2;
    const sampler = new SegmentSampler(randomWalks(30, 60, 7), { length: H + 2 * w });
    const rng = new Rng(8);
    const t = oracleTeacher();
    const cfg = { window: w, cropRange: 2, threshold: 0.9, mu: 2, epochs: 20 };
    const labelled: LabelledPair[] = sampler.samplePairs(80, rng).map(([a, b]) => ({ a, b, label: t.label(centralWindow(a, cfg), centralWindow(b, cfg)) as 0 | 1 }));
    const unlabelled = sampler.samplePairs(400, rng);
    const test = new SegmentSampler(randomWalks(10, 60, 9), { length: H }).samplePairs(200, rng).map(([a, b]) => ({ a, b, label: t.label(a, b) as 0 | 1 }));
    const m = new RewardModel({ ...small, seed: 10 });
    const res = trainSurf(m, labelled, unlabelled, cfg, new Rng(11));
    const acc = m.evaluate(test).accuracy;
    console.log(`SURF: held-out accuracy ${acc.toFixed(3)} from ${labelled.length} labels, pseudo-label rate ${res.pseudoLabelRate.toFixed(3)}, ${res.steps} steps`);
    expect(res.steps).toBe(Math.ceil((20 * 80) / 32));
    expect(res.pseudoLabelRate).toBeGreaterThan(0);
    expect(acc).toBeGreaterThanOrEqual(0.85);
    const before = tf.memory().numTensors;
    trainSurf(m, labelled, unlabelled, { ...cfg, epochs: 1 }, new Rng(12));
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('rejects bad settings and mismatched segments', () => {
    expect(() => resolveSurfConfig({ cropRange: 6, window: 5 })).toThrow(/cropRange \(6\) must be <= window \(5\)/);
    expect(() => resolveSurfConfig({ threshold: 0.3 })).toThrow(/threshold must be in \[0.5, 1\]/);
    const m = new RewardModel({ ...small, seed: 13 });
    expect(() => trainSurf(m, [], [], {}, new Rng(0))).toThrow(/no labelled pairs/);
    const short = new SegmentSampler(randomWalks(2, 40, 14), { length: 8 }).samplePairs(2, new Rng(0)).map(([a, b]) => ({ a, b, label: 1 as const }));
    expect(() => trainSurf(m, short, [], { window: 5 }, new Rng(0))).toThrow(/too short for window 5/);
    m.dispose();
  });
});
