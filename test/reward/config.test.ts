import { describe, expect, it } from 'vitest';
import { parseRewardConfig } from '../../reward/config.js';

describe('reward config', () => {
  it('fills PEBBLE / B-Pref defaults', () => {
    const c = parseRewardConfig({});
    expect(c.model).toEqual({ members: 3, hiddenDims: [256, 256, 256], activation: 'leakyrelu', outputActivation: 'tanh', lr: 3e-4, batchSize: 128 });
    expect(c.feedback).toMatchObject({ segmentLength: 50, queriesPerRound: 50, maxFeedback: 10000, strategy: 'disagreement', poolMultiplier: 10, epochs: 10, earlyStopAccuracy: 0.97, teacher: 'oracle' });
    expect(parseRewardConfig({ feedback: { surf: {} } }).feedback.surf).toEqual({ window: 5, cropRange: 5, threshold: 0.99, lambda: 1, mu: 4, invLabelRatio: 10, epochs: 20 });
  });

  it('names every bad field', () => {
    let msg = '';
    try {
      parseRewardConfig({ model: { members: 0, lr: -1 }, feedback: { strategy: 'best', teacher: 'stoc:beta=-2', surf: { cropRange: 9 } }, extra: 1 });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/model\.members:/);
    expect(msg).toMatch(/model\.lr:/);
    expect(msg).toMatch(/feedback\.strategy: unknown query strategy; known: uniform/);
    expect(msg).toMatch(/feedback\.teacher: teacher "stoc": beta must be in \[0, inf\]/);
    expect(msg).toMatch(/feedback\.surf\.cropRange: cropRange must be <= window/);
    expect(msg).toMatch(/extra/);
  });
});
