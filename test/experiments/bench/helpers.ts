/** Shared by the bench runner tests: a tiny suite and the deterministic part of a cell's metrics. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SuiteSpec } from '../../../experiments/bench/suite.js';

/** Cells of ~300-1000 steps with 16x16 nets: seconds each, with a checkpoint every 100 steps. */
export function tinySuite(name: string, over: Partial<SuiteSpec> = {}): SuiteSpec {
  return {
    name,
    smokeScale: true,
    axes: { algo: ['sac'], task: ['reach'], seed: [0, 1] },
    steps: 300,
    evalEvery: 100,
    evalEpisodes: 2,
    config: { maxPathLength: 50, batchSize: 32, seedSteps: 100, checkpointEvery: 100, sac: { hiddenDims: [16, 16] } },
    ...over,
  };
}

/** Fields that are a function of the seed and config alone, however often a run was stopped and resumed. */
const OUTCOME = /^(step|episodes?|eval_success|eval_return|train_return|train_success|feedback_.*|reward_.*)$/;

/**
 * A cell's metrics rows restricted to outcomes. Left out: speeds (they differ between any two runs)
 * and loss averages, which average the updates since the last evaluation in the current process,
 * so a resume between two evaluations changes them while the run itself is the same.
 */
export function deterministicMetrics(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => Object.fromEntries(Object.entries(JSON.parse(l) as Record<string, unknown>).filter(([k]) => OUTCOME.test(k))));
}
