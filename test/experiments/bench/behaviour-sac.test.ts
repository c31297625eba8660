/**
 * Offline suites on the reference's data recipe (suite.behaviourSac): the plan lists one SAC run per
 * task the datasets read, the local runner trains it before the datasets and the dataset records it
 * as its behaviour policy and V, a finished run is not trained again, and the queue coordinator
 * refuses to start without them, naming the commands.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStatus, cellDir } from '../../../experiments/bench/cell.js';
import { runLocal } from '../../../experiments/bench/executors/local.js';
import { prepareResults } from '../../../experiments/bench/results.js';
import { expandSuite, parseSuite } from '../../../experiments/bench/suite.js';
import { readDataset } from '../../../experiments/datasets/format.js';
import { tinySuite } from './helpers.js';

const recipe = { policy: 'sac/{task}', actionNoise: 0.3, valueFrom: 'sac/{task}', valueSamples: 4, noise: [] as number[] };

function plan(name: string) {
  return expandSuite(parseSuite(tinySuite(name, {
    axes: { algo: ['bc', 'iql'], task: ['reach'], seed: [0], data: ['dense'], teacher: ['regret'] },
    steps: 20,
    evalEvery: 20,
    config: { maxPathLength: 30, agent: { hiddenDims: [16, 16] }, batchPairs: 4 },
    algoConfig: { iql: { agent: { rewardHiddenDims: [16], rewardSteps: 5 } } },
    behaviourSac: { steps: 200, config: { maxPathLength: 30, batchSize: 32, seedSteps: 100, checkpointEvery: 100, evalEvery: 100, evalEpisodes: 1, sac: { hiddenDims: [16, 16] } } },
    datasets: { common: { episodes: 4, maxPathLength: 30, segmentLength: 10, ...recipe }, dense: { segments: 8, pairsPerSegment: 2 } },
  })));
}

describe('behaviour SAC runs', () => {
  it('are planned once per task, trained before the datasets, recorded in them, and not trained twice', async () => {
    const p = plan('tiny-sac-recipe');
    expect(p.sacRuns).toHaveLength(1);
    expect(p.sacRuns[0]).toMatchObject({ task: 'reach', path: 'sac/reach', trainConfig: { algo: 'sac', task: 'reach', steps: 200, goalObservable: false } });
    const out = mkdtempSync(join(tmpdir(), 'pbrl-bench-sac-'));
    const prep = prepareResults(out, p);
    const res = await runLocal(out, p, { jobs: 1, progress: false, cells: prep.pending });
    expect(res).toEqual({ done: 2, failed: 0, interrupted: false });
    const trainer = JSON.parse(readFileSync(join(out, 'sac', 'reach', 'checkpoint', 'trainer.json'), 'utf8'));
    expect(trainer.step).toBe(200);
    const ds = readDataset(join(out, p.datasets[0].path));
    expect(ds.header.behaviour).toMatchObject({ kind: 'sac', actionNoise: 0.3 });
    expect(ds.header.regretValue).toMatchObject({ source: 'sac-critic', samples: 4 });
    for (const c of p.cells) expect(readStatus(cellDir(out, c.id))?.state).toBe('done');
    // A rerun with a new cell (another seed) builds nothing it has: the SAC run is left as it was.
    const before = statSync(join(out, 'sac', 'reach', 'checkpoint', 'trainer.json')).mtimeMs;
    const p2 = expandSuite(parseSuite({ ...tinySuite('tiny-sac-recipe'), ...JSON.parse(JSON.stringify(p.suite)), axes: { ...p.suite.axes, seed: [0, 1] } }));
    const prep2 = prepareResults(out, p2);
    expect(prep2.pending).toHaveLength(2);
    expect(await runLocal(out, p2, { jobs: 1, progress: false, cells: prep2.pending })).toEqual({ done: 2, failed: 0, interrupted: false });
    expect(statSync(join(out, 'sac', 'reach', 'checkpoint', 'trainer.json')).mtimeMs).toBe(before);
  }, 240_000);

  it('a bad behaviourSac config is refused at plan time; the queue coordinator names the runs it lacks', async () => {
    expect(() => expandSuite(parseSuite({ ...tinySuite('bad'), ...JSON.parse(JSON.stringify(plan('x').suite)), behaviourSac: { steps: 100, config: { sac: { hiddenDims: 'wide' } } } })))
      .toThrow(/behaviourSac for reach/);
    const { runQueue } = await import('../../../experiments/bench/executors/queue.js');
    const out = mkdtempSync(join(tmpdir(), 'pbrl-bench-sac-q-'));
    // Refused before any connection (nothing listens at this URL).
    await expect(runQueue(out, plan('tiny-sac-q'), { url: 'redis://127.0.0.1:1', queueName: 'none', progress: false }))
      .rejects.toThrow(/behaviour SAC runs that .* does not hold yet[\s\S]*pbrl train --algo sac --task reach --out .*sac\/reach --config <a file holding \{.*"steps":200/);
  });
});
