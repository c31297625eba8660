/**
 * The zoo's built-in suites: each method beside PEBBLE on >= 3 seeds at one budget, the PEBBLE cells
 * exactly pebble-small's (same resolved config, same ids), the method cells at the same query budget.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_SUITES } from '../../../experiments/bench/builtin.js';
import { ZOO_SUITES } from '../../../experiments/bench/builtin-zoo.js';
import { SuiteSchema, expandSuite } from '../../../experiments/bench/suite.js';

const plan = (name: string) => expandSuite(SuiteSchema.parse(BUILTIN_SUITES[name]));

describe('zoo suites', () => {
  it('compare each method with PEBBLE cell for cell, at the same budget', () => {
    const base = plan('pebble-small').cells.filter((c) => c.axes.algo === 'pebble');
    for (const [name, algo] of [['qpa-small', 'qpa'], ['rbrl-small', 'rbrl'], ['heron-small', 'heron']] as const) {
      expect(ZOO_SUITES[name]).toBeDefined();
      const cells = plan(name).cells;
      const pebble = cells.filter((c) => c.axes.algo === 'pebble');
      const method = cells.filter((c) => c.axes.algo === algo);
      expect(pebble.map((c) => c.id)).toEqual(base.map((c) => c.id));
      expect(method.map((c) => c.axes.seed)).toEqual([0, 1, 2]);
      for (const c of method) {
        const tc = c.trainConfig as { steps: number; goalObservable: boolean; reward: { feedback: { maxFeedback: number; queriesPerRound: number; epochs: number } } };
        expect([tc.steps, tc.goalObservable]).toEqual([5000, true]);
        expect(tc.reward.feedback).toMatchObject({ maxFeedback: 1000, queriesPerRound: 100, epochs: 50 });
        expect(c.trainConfig[algo]).toBeDefined(); // the method's own section, with its defaults
      }
    }
    // The report names each method's own teacher and budget.
    expect(plan('rbrl-small').cells.find((c) => c.axes.algo === 'rbrl')!.axes).toMatchObject({ teacher: 'rating:classes=3', feedback: 1000 });
    expect(plan('heron-small').cells.find((c) => c.axes.algo === 'heron')!.axes).toMatchObject({ teacher: 'heron', feedback: 1000 });
    const qpa = plan('qpa-small').cells.find((c) => c.axes.algo === 'qpa')!;
    expect(qpa.axes).toMatchObject({ teacher: 'oracle', feedback: 1000, query: 'uniform' });
    expect((qpa.trainConfig as { reward: { feedback: { strategy: string } } }).reward.feedback.strategy).toBe('uniform');
  });
});
