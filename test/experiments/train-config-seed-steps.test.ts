/** Random warm-up per algorithm: B-Pref's SAC baseline 5,000 steps (config/train.yaml), PEBBLE 1,000 (train_PEBBLE.yaml). */
import { describe, expect, it } from 'vitest';
import { parseTrainConfig } from '../../experiments/train-config.js';

describe('train config: seedSteps defaults per algo', () => {
  it('sac (also when algo is left at its default) 5000, pebble and surf 1000; a given value wins', () => {
    expect(parseTrainConfig({ task: 'reach' }).seedSteps).toBe(5000);
    expect(parseTrainConfig({ task: 'reach', algo: 'sac' }).seedSteps).toBe(5000);
    expect(parseTrainConfig({ task: 'reach', algo: 'pebble' }).seedSteps).toBe(1000);
    expect(parseTrainConfig({ task: 'reach', algo: 'surf', reward: { feedback: { surf: {} } } }).seedSteps).toBe(1000);
    expect(parseTrainConfig({ task: 'reach', algo: 'sac', seedSteps: 200 }).seedSteps).toBe(200);
    expect(parseTrainConfig({ task: 'reach', algo: 'sac', seedSteps: undefined }).seedSteps).toBe(5000); // CLI flag not given
    expect(() => parseTrainConfig({ task: 'reach', seedSteps: -1 })).toThrow(/seedSteps: /);
  });
});
