/**
 * `npm run perf -- reward [--quick]`: the reward side of a PEBBLE feedback round at Meta-World size
 * (obs 39, action 4, 3 x 256 ensemble of 3, H = 50): relabelling throughput of predictReward per
 * chunk size, one reward-model update on 128 pairs, and query selection on a 10x pool. The same
 * process measures a plain 256^3 matmul as the yardstick, since this machine is shared and noisy.
 */
import { initBackend } from '../core/backend.js';
import { Rng } from '../core/rng.js';
import type { Trajectory } from '../core/types.js';
import { matmulGflops } from '../core/nn/mlp-bench-model.js';
import { RewardModel } from '../reward/reward-model.js';
import { SegmentSampler } from '../reward/segments.js';
import { disagreementQueries } from '../reward/query/disagreement.js';
import { kCenterQueries } from '../reward/query/k-center.js';
import { fmt, table, timeIt } from './_timing.js';

function fakeTrajectories(n: number, T: number, rng: Rng): Trajectory[] {
  return Array.from({ length: n }, (_, i) => ({
    task: 'bench', seed: i, obsDim: 39, actDim: 4, length: T,
    obs: rng.fillUniform(new Float32Array((T + 1) * 39), -1, 1) as Float32Array,
    actions: rng.fillUniform(new Float32Array(T * 4), -1, 1) as Float32Array,
    rewards: rng.fillUniform(new Float32Array(T), 0, 10) as Float32Array,
    success: new Uint8Array(T), terminated: false, truncated: true,
  }));
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const budgetMs = quick ? 400 : 1500;
  const info = await initBackend();
  console.log(`backend ${info.backend}, native GEMM ${info.nativeGemm.active ? 'on' : 'off'}`);
  const t = (fn: () => void, minIters = 3) => timeIt(fn, { budgetMs, warmup: 1, minIters });
  console.log(`yardstick: 256^3 matmul ${fmt(matmulGflops(256, (fn) => t(fn)), 1)} GFLOP/s\n`);

  const rng = new Rng(1);
  const model = new RewardModel({ obsDim: 39, actDim: 4, seed: 2 });
  const n = quick ? 50_000 : 200_000;
  const obs = rng.fillUniform(new Float32Array(n * 39), -1, 1) as Float32Array;
  const act = rng.fillUniform(new Float32Array(n * 4), -1, 1) as Float32Array;
  const out = new Float32Array(n);
  const rows: (string | number)[][] = [['relabel chunk rows', 'transitions/s', 's per 1e6 (PEBBLE buffer)']];
  for (const chunk of [4096, 16384, 65536]) {
    model.inferenceBatchRows = chunk;
    const ms = t(() => model.predictReward(obs, act, n, out), 2);
    rows.push([chunk, fmt(n / (ms / 1000), 0), fmt((1e6 / n) * (ms / 1000), 1)]);
  }
  model.inferenceBatchRows = 4096;
  console.log(table(rows));
  console.log();

  const sampler = new SegmentSampler(fakeTrajectories(20, 500, rng), { length: 50 });
  const teacherPairs = sampler.samplePairs(128, rng).map(([a, b]) => ({ a, b, label: (rng.uniform() < 0.5 ? 1 : 0) as 0 | 1 }));
  const updateMs = t(() => model.train(teacherPairs, { epochs: 1, earlyStopAccuracy: 1 }));
  const pool = sampler.samplePairs(500, rng);
  const labelled = sampler.samplePairs(1000, rng);
  const disMs = t(() => disagreementQueries.select(pool, 50, { rng, model }));
  const kcMs = t(() => kCenterQueries.select(pool, 50, { rng, labelled }));
  console.log(table([
    ['step', 'ms'],
    ['reward-model update (128 pairs x 50 steps x 3 members)', fmt(updateMs, 1)],
    ['disagreement: 50 of a 500-pair pool', fmt(disMs, 1)],
    ['k-center: 50 of 500, 1000 labelled pairs', fmt(kcMs, 1)],
  ]));
  model.dispose();
}
