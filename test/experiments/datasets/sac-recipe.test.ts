/**
 * The CPL reference's data recipe: a SAC checkpoint (SAC on the true reward) as the behaviour policy
 * with Gaussian action noise, and its critic as the V of regret labels (jhejna/cpl
 * scripts/create_dataset.py, scripts/add_pref_labels.py "rl_sum"). The expected values are computed
 * here by a plain-JS forward pass of the saved weights, not by the code under test.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { initBackend } from '../../../core/backend.js';
import { Rng } from '../../../core/rng.js';
import { SAC } from '../../../agents/sac.js';
import { makeDataset, type MakeDatasetOptions } from '../../../experiments/datasets/make.js';
import { readDataset, type OfflineDataset } from '../../../experiments/datasets/format.js';
import { RunDir } from '../../../experiments/run-files.js';
import { register as registerDataset } from '../../../experiments/commands/dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'pbrl-sac-recipe-'));
const OD = 39;
const AD = 4;
const HID = 8;
let runDir: string;
let agentFile: string;
let weights: { actor: number[][]; critic: number[][] };

/** Writes a pbrl train-style SAC run folder; critic output scaled so V moves labels. */
async function writeSacRun(path: string, task: string, seed: number, criticScale: number): Promise<string> {
  const run = new RunDir(path);
  const sacCfg = { hiddenDims: [HID] };
  run.writeConfig({ algo: 'sac', task, goalObservable: false, sac: sacCfg });
  const sac = new SAC(OD, AD, sacCfg, seed);
  const state = await sac.saveState();
  sac.dispose();
  const cw = state.networks.critic.weights;
  cw[cw.length - 2] = cw[cw.length - 2].map((x) => x * criticScale);
  cw[cw.length - 1] = cw[cw.length - 1].map(() => 0.5);
  mkdirSync(run.checkpointDir, { recursive: true });
  const f = join(run.checkpointDir, 'agent.json');
  writeFileSync(f, JSON.stringify(state));
  return f;
}

// ---- Independent forward passes (row-major W [in, out]; ensemble W [E, in, out], b [E, 1, out]) ----
function dense(x: number[], w: number[], b: number[], inDim: number, outDim: number, off = 0, boff = 0): number[] {
  const y: number[] = [];
  for (let j = 0; j < outDim; j++) {
    let s = b[boff + j];
    for (let i = 0; i < inDim; i++) s += x[i] * w[off + i * outDim + j];
    y.push(s);
  }
  return y;
}
const relu = (v: number[]) => v.map((x) => Math.max(0, x));

/** SAC's actor: mean and log-std (squashed into [-5, 2]) of the pre-tanh Gaussian. */
function actorDist(s: ArrayLike<number>): { mu: number[]; logStd: number[] } {
  const w = weights.actor;
  const h = relu(dense(Array.from(s), w[0], w[1], OD, HID));
  const out = dense(h, w[2], w[3], HID, 2 * AD);
  return { mu: out.slice(0, AD), logStd: out.slice(AD).map((r) => -5 + 0.5 * 7 * (Math.tanh(r) + 1)) };
}

function q(head: number, s: ArrayLike<number>, a: number[]): number {
  const w = weights.critic;
  const x = [...Array.from(s), ...a];
  const h = relu(dense(x, w[0], w[1], OD + AD, HID, head * (OD + AD) * HID, head * HID));
  return dense(h, w[2], w[3], HID, 1, head * HID, head)[0];
}

/** The reference's V: mean over sampled actions of the mean over Q heads, no entropy term. */
function vRef(s: ArrayLike<number>, eps: Float32Array): number {
  const { mu, logStd } = actorDist(s);
  const M = eps.length / AD;
  let v = 0;
  for (let m = 0; m < M; m++) {
    const a = mu.map((u, k) => Math.tanh(u + Math.exp(logStd[k]) * eps[m * AD + k]));
    v += (q(0, s, a) + q(1, s, a)) / 2;
  }
  return v / M;
}

function segReturn(ds: OfflineDataset, s: number): number {
  const { segEpisode, segStart, segmentLength: H, episodeLength: T, rewards } = ds.data;
  let r = 0;
  for (let t = 0; t < H; t++) r += rewards[segEpisode[s] * T + segStart[s] + t];
  return r;
}

const base: MakeDatasetOptions = { task: 'reach', kind: 'dense', episodes: 3, maxPathLength: 30, segmentLength: 8, segments: 8, pairsPerSegment: 3, noise: [0.3, 1], seed: 5 };

beforeAll(async () => {
  await initBackend();
  runDir = join(dir, 'sac-reach');
  agentFile = await writeSacRun(runDir, 'reach', 3, 3e4);
  const n = JSON.parse(readFileSync(agentFile, 'utf8')).networks;
  weights = { actor: n.actor.weights, critic: n.critic.weights };
});

describe('regret labels with V from a SAC critic (--value-from)', () => {
  it('labels follow sum r + V(s_H) - V(s_0) with V = E_{a~pi} mean_i Q_i(s, a), recomputed here', async () => {
    const ds = await makeDataset({ ...base, teacher: 'regret', valueFrom: runDir, valueSamples: 5 });
    expect(ds.header.regretValue).toEqual({ source: 'sac-critic', checkpoint: agentFile, samples: 5 });
    const { data } = ds;
    const T = data.episodeLength;
    const H = data.segmentLength;
    // The maker's documented draws: one set of M x A standard normals from the dataset seed, shared by all states.
    const eps = new Rng(5).split('value-samples').fillNormal(new Float32Array(5 * AD)) as Float32Array;
    const V = (e: number, t: number) => vRef(data.obs.subarray((e * (T + 1) + t) * OD, (e * (T + 1) + t + 1) * OD), eps);
    const score = (s: number) => segReturn(ds, s) + V(data.segEpisode[s], data.segStart[s] + H) - V(data.segEpisode[s], data.segStart[s]);
    let differsFromReturn = 0;
    for (let p = 0; p < ds.header.pairs; p++) {
      const a = data.pairA[p];
      const b = data.pairB[p];
      const gap = score(a) - score(b);
      if (Math.abs(gap) > 1e-3) expect(data.labels[p], `pair ${p}`).toBe(gap >= 0 ? 1 : 0);
      if ((segReturn(ds, a) >= segReturn(ds, b) ? 1 : 0) !== data.labels[p]) differsFromReturn++;
    }
    // V moved some labels away from the partial-return ones: the check above can tell V was used.
    expect(differsFromReturn).toBeGreaterThan(0);
  }, 60_000);

  it('bad --value-from input is a clear error naming the file; oracle labels refuse it', async () => {
    await expect(makeDataset({ ...base, teacher: 'regret', valueFrom: join(dir, 'nope') })).rejects.toThrow(/SAC checkpoint .*nope does not exist/);
    await expect(makeDataset({ ...base, teacher: 'oracle', valueFrom: runDir })).rejects.toThrow(/valueFrom: only the regret teacher reads V/);
    const pushRun = join(dir, 'sac-push');
    await writeSacRun(pushRun, 'push', 1, 1);
    await expect(makeDataset({ ...base, teacher: 'regret', valueFrom: pushRun })).rejects.toThrow(/value-from .*sac-push.*trained on task "push", the dataset is for "reach"/);
  });
});

describe('SAC behaviour policy (--policy, --action-noise)', () => {
  it('rolls out clip(tanh(mu(s)) + 0.3 n) of the checkpoint instead of the scripted mix and records it', async () => {
    const { noise: _n, ...noMix } = base;
    // `{task}` in the path is the task's name (one suite entry for every task).
    const ds = await makeDataset({ ...noMix, policy: join(dir, 'sac-{task}'), actionNoise: 0.3 });
    expect(ds.header.behaviour).toEqual({ kind: 'sac', checkpoint: agentFile, actionNoise: 0.3 });
    expect(ds.header.sources.map((s) => `${s.policy}:${s.noise}:${s.episodes}`)).toEqual([`sac:${runDir}:0.3:3`]);
    const T = 30;
    let clipped = 0;
    for (let e = 0; e < 3; e++) {
      // The maker's noise stream for episode e, one normal per action component in order.
      const rng = new Rng(5).split('action-noise').split(e);
      for (let t = 0; t < T; t++) {
        const s = ds.data.obs.subarray((e * (T + 1) + t) * OD, (e * (T + 1) + t + 1) * OD);
        const { mu } = actorDist(s);
        for (let k = 0; k < AD; k++) {
          const want = Math.max(-1, Math.min(1, Math.tanh(mu[k]) + 0.3 * rng.normal()));
          if (Math.abs(want) === 1) clipped++;
          expect(ds.data.actions[(e * T + t) * AD + k]).toBeCloseTo(want, 5);
        }
      }
    }
    expect(clipped).toBeLessThan(3 * T * AD); // not all at the box edge: the noise is visible
    // The scripted mix stays the default.
    const mix = await makeDataset({ ...base, episodes: 2, segments: 4 });
    expect(mix.header.behaviour).toEqual({ kind: 'scripted-mix' });
    expect(mix.header.sources.map((s) => s.policy)).toEqual(['scripted', 'scripted']);
  }, 60_000);

  it('a non-SAC, corrupt or mismatched checkpoint is a clear error naming the file, and --out is left as it was', async () => {
    const cplDir = join(dir, 'cpl-run');
    mkdirSync(join(cplDir, 'checkpoint'), { recursive: true });
    writeFileSync(join(cplDir, 'checkpoint', 'agent.json'), JSON.stringify({ algo: 'cpl', config: {}, networks: {}, optimizers: {}, scalars: {}, rng: {} }));
    await expect(makeDataset({ ...base, policy: cplDir })).rejects.toThrow(/cpl-run\/checkpoint\/agent\.json: is a "cpl" checkpoint; only SAC/);
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, readFileSync(agentFile, 'utf8').slice(0, 500));
    await expect(makeDataset({ ...base, policy: corrupt })).rejects.toThrow(/corrupt\.json: not valid JSON.*corrupt checkpoint/);
    // A SAC of another size: 39-dim observations do not fit a 10-dim-input network.
    const small = new SAC(10, AD, { hiddenDims: [4] }, 0);
    const wrong = join(dir, 'wrong-size.json');
    writeFileSync(wrong, JSON.stringify(await small.saveState()));
    small.dispose();
    await expect(makeDataset({ ...base, policy: wrong })).rejects.toThrow(/wrong-size\.json: does not fit a 39-dim observation, 4-dim action SAC/);

    const program = new Command().exitOverride();
    registerDataset(program);
    const out = join(dir, 'kept.pbrlds');
    writeFileSync(out, 'an earlier dataset');
    const spy = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const run = (args: string[]) => program.parseAsync(['node', 'pbrl', 'dataset', 'make', '--task', 'reach', '--kind', 'dense', '--out', out, '--no-progress', ...args]);
      await expect(run(['--policy', runDir, '--noise', '0.1'])).rejects.toThrow(/--policy replaces the scripted mix, so --noise does not apply/);
      await expect(run(['--action-noise', '0.3'])).rejects.toThrow(/--action-noise applies to --policy only/);
      await expect(run(['--policy', cplDir, '--episodes', '1', '--max-path-length', '10', '--segment-length', '5', '--segments', '2'])).rejects.toThrow(/is a "cpl" checkpoint/);
    } finally {
      spy.mockRestore();
    }
    expect(readFileSync(out, 'utf8')).toBe('an earlier dataset');
  }, 60_000);
});

describe('pbrl dataset make with the SAC recipe (the real binary)', () => {
  it('starts its own tensor backend for --policy and --value-from and records both', () => {
    const out = join(dir, 'cli.pbrlds');
    execFileSync(join(process.cwd(), 'node_modules', '.bin', 'tsx'), [join(process.cwd(), 'experiments', 'cli.ts'), 'dataset', 'make', '--task', 'reach', '--kind', 'dense',
      '--episodes', '2', '--max-path-length', '20', '--segment-length', '5', '--segments', '6', '--pairs-per-segment', '2',
      '--policy', runDir, '--action-noise', '0.3', '--teacher', 'regret', '--value-from', runDir, '--value-samples', '4', '--out', out, '--no-progress'], { encoding: 'utf8' });
    const h = readDataset(out).header;
    expect(h.behaviour).toEqual({ kind: 'sac', checkpoint: agentFile, actionNoise: 0.3 });
    expect(h.regretValue).toEqual({ source: 'sac-critic', checkpoint: agentFile, samples: 4 });
  }, 120_000);
});
