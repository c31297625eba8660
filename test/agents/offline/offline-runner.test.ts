/**
 * The offline runner: metrics rows at every evaluation, and a run stopped and resumed from its
 * checkpoint reproduces the uninterrupted run exactly (P-IQL across its reward freeze, CPL across its
 * BC-to-CPL switch).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend.js';
import { makeOfflineAgent } from '../../../agents/offline/index.js';
import { runOffline, parseOfflineTrainConfig, type OfflineRunConfig } from '../../../experiments/offline-runner.js';
import { RunDir } from '../../../experiments/run-files.js';
import { syntheticData } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

// Synthetic segments with the env's sizes; evaluation runs on reach.
const data = syntheticData({ obsDim: 39, actDim: 4, episodes: 4, T: 30, H: 6, segments: 16, pairs: 40, seed: 3 });

function cfg(over: Partial<OfflineRunConfig>): OfflineRunConfig {
  return { task: 'reach', steps: 12, seed: 4, evalEvery: 6, evalEpisodes: 1, batchPairs: 3, checkpointEvery: 6, maxPathLength: 20, progress: false, ...over };
}

const agents: Record<string, Record<string, unknown>> = {
  iql: { hiddenDims: [16, 16], rewardHiddenDims: [16], rewardSteps: 8, actorCosineSteps: 20 },
  cpl: { hiddenDims: [16, 16], bcSteps: 8, warmupSteps: 4 },
  // Draws from the top episodes through the agent's own sampler.
  'percent-bc': { hiddenDims: [16, 16], topFraction: 0.5 },
  // Sub-sampled 4-step windows of the 6-step segments.
  ipl: { hiddenDims: [16, 16], subsampleSteps: 4 },
};

describe('offline runner', () => {
  for (const algo of ['iql', 'cpl', 'percent-bc', 'ipl']) {
    it(`${algo}: a resumed run continues the same curve as an uninterrupted one`, async () => {
      const straight = new RunDir(mkdtempSync(join(tmpdir(), 'pbrl-off-a-')));
      const a = makeOfflineAgent(algo, 39, 4, agents[algo], 1);
      const ra = await runOffline(a, cfg({}), data, straight, false);

      const resumed = new RunDir(mkdtempSync(join(tmpdir(), 'pbrl-off-b-')));
      const b1 = makeOfflineAgent(algo, 39, 4, agents[algo], 1);
      await runOffline(b1, cfg({ steps: 6 }), data, resumed, false);
      b1.dispose();
      const b2 = makeOfflineAgent(algo, 39, 4, agents[algo], 1);
      const rb = await runOffline(b2, cfg({}), data, resumed, true);

      const evals = (d: RunDir) => d.readMetrics().map(({ grad_steps_per_s: _t, ...rest }) => rest);
      expect(evals(straight).length).toBe(2);
      expect(evals(straight)[1]).toHaveProperty('eval_success');
      expect(evals(resumed)).toEqual(evals(straight));
      expect(rb.lastEval).toEqual(ra.lastEval);
      const sa = await a.saveState();
      const sb = await b2.saveState();
      expect(sb.networks).toEqual(sa.networks);
      expect(sb.optimizers).toEqual(sa.optimizers);
      a.dispose();
      b2.dispose();
    });
  }

  it('validates its config, naming the field', () => {
    expect(() => parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'reach', steps: 0 })).toThrow(/steps/);
    expect(() => parseOfflineTrainConfig({ algo: 'sac', dataset: 'x', task: 'reach' })).toThrow(/algo/);
    expect(() => parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'juggle' })).toThrow(/unknown task "juggle"/);
    expect(() => parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'reach', agent: { alpha: -1 } })).toThrow(/agent\.alpha/);
    const c = parseOfflineTrainConfig({ algo: 'ipl', dataset: 'x', task: 'reach' });
    // Defaults resolved (IPL Meta-World config), batch size from the algorithm.
    expect(c.batchPairs).toBe(16);
    expect(c.agent).toMatchObject({ expectile: 0.75, chi2Coeff: 3, beta: 0.3333, hiddenDims: [256, 256, 256] });
  });
});
