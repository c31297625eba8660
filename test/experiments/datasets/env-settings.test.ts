/**
 * A dataset records the env settings its observations were made under (goal visibility, Meta-World
 * version), and offline training evaluates under the same ones or refuses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend.js';
import { makeDataset, type MakeDatasetOptions } from '../../../experiments/datasets/make.js';
import { datasetEnvSettings, readDataset, writeDataset } from '../../../experiments/datasets/format.js';
import { runOfflineTraining } from '../../../experiments/offline-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'pbrl-ds-env-'));
const small: MakeDatasetOptions = { task: 'reach', kind: 'sparse', episodes: 2, maxPathLength: 20, segmentLength: 10, segments: 4, noise: [0.1], seed: 2 };

beforeAll(async () => {
  await initBackend();
});

describe('dataset env settings', () => {
  it('default to a hidden goal on v2, are stored in the header and shape the observations', async () => {
    const hidden = await makeDataset(small);
    expect(datasetEnvSettings(hidden.header)).toEqual({ goalObservable: false, envVersion: 'v2' });
    const shown = await makeDataset({ ...small, goalObservable: true, envVersion: 'v3' });
    expect([shown.header.goalObservable, shown.header.envVersion]).toEqual([true, 'v3']);
    const goals = (obs: Float32Array) => Array.from({ length: obs.length / 39 }, (_, r) => Array.from(obs.subarray(r * 39 + 36, r * 39 + 39)));
    expect(goals(hidden.data.obs).every((g) => g.every((x) => x === 0))).toBe(true);
    expect(goals(shown.data.obs).every((g) => g.some((x) => x !== 0))).toBe(true);
    // Same expert episodes either way: it reads the goal from the env, not from the observation.
    expect(Array.from(hidden.data.actions)).toEqual(Array.from(shown.data.actions));
    const file = join(dir, 'shown.pbrlds');
    writeDataset(file, shown);
    expect(readDataset(file).header).toMatchObject({ goalObservable: true, envVersion: 'v3' });
  });

  it('files written before the fields existed were recorded with the goal shown on v2', async () => {
    const ds = await makeDataset(small);
    const { goalObservable: _g, envVersion: _v, ...old } = ds.header;
    expect(datasetEnvSettings(old)).toEqual({ goalObservable: true, envVersion: 'v2' });
  });

  it("offline training refuses evaluation settings other than the dataset's", async () => {
    const file = join(dir, 'hidden.pbrlds');
    writeDataset(file, await makeDataset(small));
    const config = join(dir, 'cfg.json');
    writeFileSync(config, JSON.stringify({ goalObservable: true }));
    await expect(
      runOfflineTraining({ algo: 'bc', dataset: file, out: join(dir, 'run'), config, steps: '1', progress: false }),
    ).rejects.toThrow(/goalObservable true \/ envVersion v2 differ from the dataset's \(false \/ v2\)/);
  });
});
