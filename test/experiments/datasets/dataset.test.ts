/**
 * Offline preference datasets: the maker is deterministic and labels agree with the teacher, the file
 * round-trips (poses too), truncated/corrupt/foreign files are clear errors, numpy reads the .npz,
 * and bad options name the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBinFile } from '../../../core/serialize.js';
import { makeDataset, type MakeDatasetOptions } from '../../../experiments/datasets/make.js';
import { readDataset, writeDataset, type OfflineDataset } from '../../../experiments/datasets/format.js';
import { segReturn } from './segment-return.js';
import { writeDatasetNpz } from '../../../experiments/datasets/npz.js';
import { expertValues } from '../../../experiments/datasets/expert-value.js';
import { initBackend } from '../../../core/backend.js';
import { SAC } from '../../../agents/sac.js';
import { runOnline } from '../../../experiments/online-runner.js';
import { RunDir } from '../../../experiments/run-files.js';

const dir = mkdtempSync(join(tmpdir(), 'pbrl-ds-'));
const base: MakeDatasetOptions = { task: 'reach', kind: 'dense', episodes: 6, maxPathLength: 40, segmentLength: 10, segments: 20, pairsPerSegment: 3, noise: [0.2, 1], includeRandom: true, seed: 5 };
let dense: OfflineDataset;

beforeAll(async () => {
  dense = await makeDataset(base);
});


describe('dataset maker', () => {
  it('builds dense and sparse datasets whose oracle labels follow the segment returns', async () => {
    const h = dense.header;
    expect(h).toMatchObject({ task: 'reach', kind: 'dense', teacher: 'oracle', episodes: 6, episodeLength: 40, segmentLength: 10, segments: 20, pairs: 60, skipped: 0 });
    expect(h.regretValue).toBeUndefined(); // no regret labels, no V*
    expect(h.behaviour).toEqual({ kind: 'scripted-mix' });
    expect(h.sources.map((s) => `${s.policy}:${s.noise}:${s.episodes}`)).toEqual(['scripted:0.2:2', 'scripted:1:2', 'random:0:2']);
    for (let i = 0; i < h.pairs; i++) {
      const ra = segReturn(dense, dense.data.pairA[i]);
      const rb = segReturn(dense, dense.data.pairB[i]);
      expect(dense.data.labels[i]).toBe(ra >= rb ? 1 : 0);
      expect(dense.data.pairA[i]).not.toBe(dense.data.pairB[i]);
    }
    const sparse = await makeDataset({ ...base, kind: 'sparse', pairsPerSegment: undefined, teacher: 'equal:thresh=1' });
    expect(sparse.header.pairs).toBe(10);
    // Disjoint pairs: each segment compared once.
    expect(Array.from(sparse.data.pairA)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(Array.from(sparse.data.pairB)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    for (let i = 0; i < 10; i++) {
      const d = segReturn(sparse, 2 * i) - segReturn(sparse, 2 * i + 1);
      expect(sparse.data.labels[i]).toBe(Math.abs(d) < 1 ? 0.5 : d >= 0 ? 1 : 0);
    }
    // "Every pair" dense default.
    const all = await makeDataset({ ...base, episodes: 2, segments: 6, pairsPerSegment: 0 });
    expect(all.header.pairs).toBe(15);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const again = await makeDataset(base);
    expect(again.data.obs).toEqual(dense.data.obs);
    expect(again.data.labels).toEqual(dense.data.labels);
    expect(again.data.pairA).toEqual(dense.data.pairA);
    const other = await makeDataset({ ...base, seed: 6 });
    expect(other.data.actions).not.toEqual(dense.data.actions);
  });

  it('rolls out SAC checkpoints (pbrl train run folders) as a source', async () => {
    await initBackend();
    const runDir = join(dir, 'sac-run');
    const run = new RunDir(runDir);
    const sacCfg = { hiddenDims: [16] };
    run.writeConfig({ algo: 'sac', task: 'reach', goalObservable: false, sac: sacCfg });
    const sac = new SAC(39, 4, sacCfg, 0);
    await runOnline(sac, { task: 'reach', steps: 80, seed: 0, evalEvery: 1000, evalEpisodes: 1, seedSteps: 40, batchSize: 16, bufferCapacity: 1000, checkpointEvery: 80, maxPathLength: 40, progress: false }, run, false);
    sac.dispose();
    const ds = await makeDataset({ ...base, episodes: 3, segments: 4, noise: [0.5], includeRandom: false, checkpoints: [runDir], checkpointNoise: 0 });
    expect(ds.header.sources.map((s) => `${s.policy}:${s.noise}:${s.episodes}`)).toEqual(['scripted:0.5:2', `sac:${runDir}:0:1`]);
    // Noise-free SAC rollouts are its deterministic policy: replaying the same observations gives the same actions.
    const back = new SAC(39, 4, sacCfg, 7);
    await back.loadState(JSON.parse(readFileSync(join(runDir, 'checkpoint', 'agent.json'), 'utf8')));
    const e = 1; // episode 1 came from source 1 (SAC)
    const o = ds.data.obs.subarray(e * 41 * 39, e * 41 * 39 + 39);
    expect(Array.from(ds.data.actions.subarray(e * 40 * 4, e * 40 * 4 + 4))).toEqual(Array.from(back.act(o, 1, true)).map((x) => Math.max(-1, Math.min(1, x))));
    back.dispose();
  }, 60_000);

  it('regret labels: V* from expert rollouts replayed from each segment boundary', async () => {
    const opts = { ...base, episodes: 3, maxPathLength: 30, segmentLength: 8, segments: 6, pairsPerSegment: 2, teacher: 'regret', valueHorizon: 15, valueGamma: 0.9 };
    const ds = await makeDataset(opts);
    expect(ds.header.teacher).toBe('regret');
    // The header says which V* the regret labels used.
    expect(ds.header.regretValue).toEqual({ source: 'expert-rollout', gamma: 0.9, horizon: 15 });
    const { data } = ds;
    const T = data.episodeLength;
    const H = data.segmentLength;
    // Recompute V* at the boundaries independently (same seeds as the maker draws) and the regret scores.
    const { Rng } = await import('../../../core/rng.js');
    const seeds = Array.from({ length: 3 }, (_, k) => new Rng(opts.seed).split('episode').split(k).nextUint32());
    const rows: number[] = [];
    for (let i = 0; i < 6; i++) rows.push(data.segEpisode[i] * (T + 1) + data.segStart[i], data.segEpisode[i] * (T + 1) + data.segStart[i] + H);
    const V = await expertValues('reach', seeds, data.obs, data.actions, T, rows, { gamma: 0.9, horizon: 15 });
    const score = (s: number) => segReturn(ds, s) + V[rows[2 * s + 1]] - V[rows[2 * s]];
    for (let i = 0; i < 6; i++) expect(Number.isFinite(score(i))).toBe(true);
    for (let p = 0; p < ds.header.pairs; p++) expect(data.labels[p]).toBe(score(data.pairA[p]) >= score(data.pairB[p]) ? 1 : 0);
    // A replay that does not match the recording is refused, not silently wrong.
    const tampered = Float32Array.from(data.actions);
    tampered[0] += 0.5;
    await expect(expertValues('reach', seeds, data.obs, tampered, T, [5], { gamma: 0.9, horizon: 3 })).rejects.toThrow(/replay of episode 0 diverged/);
  }, 60_000);

  it('bad options name the field', async () => {
    await expect(makeDataset({ ...base, task: 'juggle' })).rejects.toThrow(/task: unknown task "juggle"/);
    await expect(makeDataset({ ...base, kind: 'medium' as 'dense' })).rejects.toThrow(/kind/);
    await expect(makeDataset({ ...base, kind: 'sparse', pairsPerSegment: undefined, segments: 7 })).rejects.toThrow(/segments must be even/);
    await expect(makeDataset({ ...base, segmentLength: 41 })).rejects.toThrow(/segmentLength 41 is longer than an episode/);
    await expect(makeDataset({ ...base, teacher: 'wizard' })).rejects.toThrow(/unknown teacher "wizard"/);
    await expect(makeDataset({ ...base, noise: [-1] })).rejects.toThrow(/noise/);
    await expect(makeDataset({ ...base, checkpoints: [join(dir, 'nope')] })).rejects.toThrow(/SAC checkpoint .*nope does not exist/);
  });
});

describe('dataset file', () => {
  it('round-trips exactly, poses included', async () => {
    const p = join(dir, 'dense.pbrlds');
    writeDataset(p, dense);
    const back = readDataset(p);
    expect(back.header).toEqual(dense.header);
    expect(back.data).toEqual(dense.data);
    expect(back.episodeSource).toEqual(dense.episodeSource);
    const withPoses = await makeDataset({ ...base, episodes: 2, segments: 4, poses: true });
    expect(withPoses.header.poseBodies!.length).toBeGreaterThan(0);
    expect(withPoses.poses!.length).toBe(2 * 41 * withPoses.header.poseBodies!.length * 7);
    const pp = join(dir, 'poses.pbrlds');
    writeDataset(pp, withPoses);
    expect(readDataset(pp).poses).toEqual(withPoses.poses);
  });

  it('a truncated, corrupted, foreign or inconsistent file is a clear error', () => {
    const p = join(dir, 'dense.pbrlds');
    writeDataset(p, dense);
    const bytes = readFileSync(p);
    const cut = join(dir, 'cut.pbrlds');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    expect(() => readDataset(cut)).toThrow(/cut\.pbrlds: checksum mismatch \(file truncated or corrupt\)/);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 500] ^= 0xff;
    const bad = join(dir, 'flipped.pbrlds');
    writeFileSync(bad, flipped);
    expect(() => readDataset(bad)).toThrow(/checksum mismatch/);
    const junk = join(dir, 'junk.pbrlds');
    writeFileSync(junk, 'hello world, this is not a dataset at all......');
    expect(() => readDataset(junk)).toThrow(/not a pbrl binary file/);
    expect(() => readDataset(join(dir, 'missing.pbrlds'))).toThrow(/does not exist/);
    // Checksummed but wrong contents: header and arrays disagree.
    const d = dense.data;
    const arrays = { obs: d.obs, actions: d.actions, rewards: d.rewards, success: d.success, episodeSource: dense.episodeSource, segEpisode: d.segEpisode, segStart: d.segStart, pairA: d.pairA, pairB: d.pairB, labels: d.labels };
    const lie = join(dir, 'lie.pbrlds');
    writeBinFile(lie, { ...dense.header, pairs: 61 }, arrays);
    expect(() => readDataset(lie)).toThrow(/header\.pairs is 61 but the arrays hold 60/);
    writeBinFile(lie, { ...dense.header, format: 'pbrl-trajectories' }, arrays);
    expect(() => readDataset(lie)).toThrow(/not a preference dataset/);
    const { labels: _l, ...noLabels } = arrays;
    writeBinFile(lie, dense.header, noLabels);
    expect(() => readDataset(lie)).toThrow(/array "labels" is missing/);
    writeBinFile(lie, dense.header, { ...arrays, pairA: Int32Array.from(d.pairA, (x, i) => (i === 3 ? 999 : x)) });
    expect(() => readDataset(lie)).toThrow(/pairA\[3\] = 999 is outside \[0, 20\)/);
  });

  it('exports an .npz that numpy loads with the same values', () => {
    const p = join(dir, 'dense.npz');
    writeDatasetNpz(p, dense);
    const py = [
      'import json, sys, numpy as np',
      'd = np.load(sys.argv[1])',
      'h = json.loads(bytes(d["header"]))',
      'print(json.dumps({"files": sorted(d.files), "obs": list(d["obs"].shape), "dtype": str(d["obs"].dtype), "labels": d["labels"].tolist(),',
      '  "pair_a": d["pair_a"].tolist(), "obs_sum": float(d["obs"].astype(np.float64).sum()), "success": str(d["success"].dtype), "task": h["task"], "pairs": h["pairs"]}))',
    ].join('\n');
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, p], { encoding: 'utf8' }));
    expect(out.files).toEqual(['actions', 'episode_source', 'header', 'labels', 'obs', 'pair_a', 'pair_b', 'rewards', 'seg_episode', 'seg_start', 'success']);
    expect(out.obs).toEqual([6, 41, 39]);
    expect(out.dtype).toBe('float32');
    expect(out.success).toBe('uint8');
    expect(out.labels).toEqual(Array.from(dense.data.labels));
    expect(out.pair_a).toEqual(Array.from(dense.data.pairA));
    expect(out.obs_sum).toBeCloseTo(Array.from(dense.data.obs).reduce((s, x) => s + x, 0), 2);
    expect(out).toMatchObject({ task: 'reach', pairs: 60 });
  });
});
