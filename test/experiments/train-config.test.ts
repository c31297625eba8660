/** The env settings of `pbrl train`'s config: goal visibility and Meta-World version. */
import { describe, expect, it } from 'vitest';
import { parseSavedTrainConfig, parseTrainConfig } from '../../experiments/train-config.js';

describe('train config: goalObservable and envVersion', () => {
  it('default to a hidden goal and Meta-World v2 (B-Pref), and take the other settings', () => {
    expect(parseTrainConfig({ task: 'reach' })).toMatchObject({ goalObservable: false, envVersion: 'v2' });
    expect(parseTrainConfig({ task: 'reach', goalObservable: true, envVersion: 'v3' })).toMatchObject({ goalObservable: true, envVersion: 'v3' });
  });

  it('reject bad values, naming the field', () => {
    expect(() => parseTrainConfig({ task: 'reach', envVersion: 'v1' })).toThrow(/envVersion: /);
    expect(() => parseTrainConfig({ task: 'reach', goalObservable: 'yes' })).toThrow(/goalObservable: /);
  });

  it('a saved config without the field is a run of before the option: it trained with the goal shown', () => {
    expect(parseSavedTrainConfig({ task: 'reach', steps: 10 })).toMatchObject({ goalObservable: true, envVersion: 'v2' });
    expect(parseSavedTrainConfig({ task: 'reach', goalObservable: false })).toMatchObject({ goalObservable: false });
  });
});
