/**
 * `npm run perf -- reward [--quick] [--threads 1,2] [--rounds N]`: the reward side of a PEBBLE feedback
 * round at Meta-World size (obs 39, action 4, 3 x 256 ensemble of 3, H = 50): relabelling throughput
 * of predictReward per chunk size, one reward-model update on 128 pairs, and query selection on a 10x
 * pool. Relabelling and the update are also measured side by side (alternating rounds, best round
 * kept) with the fused whole-network kernels on and off, and against PyTorch doing the same work
 * (bench/reward_torch.py, as B-Pref's code does it) when a python with torch is found.
 */
import { initBackend } from '../core/backend.js';
import { Rng } from '../core/rng.js';
import type { Trajectory } from '../core/types.js';
import { matmulGflops } from '../core/nn/mlp-bench-model.js';
import { RewardModel } from '../reward/reward-model.js';
import { SegmentSampler } from '../reward/segments.js';
import { disagreementQueries } from '../reward/query/disagreement.js';
import { kCenterQueries } from '../reward/query/k-center.js';
import { setFusedMlp } from '../core/nn/fused-mlp.js';
import { nativeSgemmMs, setBlasThreads } from '../core/native-gemm.js';
import { fmt, table, timeIt } from './_timing.js';
import { runTorchScript, torchPython, TORCH_SKIPPED } from './_torch.js';

function fakeTrajectories(n: number, T: number, rng: Rng): Trajectory[] {
  return Array.from({ length: n }, (_, i) => ({
    task: 'bench', seed: i, obsDim: 39, actDim: 4, length: T,
    obs: rng.fillUniform(new Float32Array((T + 1) * 39), -1, 1) as Float32Array,
    actions: rng.fillUniform(new Float32Array(T * 4), -1, 1) as Float32Array,
    rewards: rng.fillUniform(new Float32Array(T), 0, 10) as Float32Array,
    success: new Uint8Array(T), terminated: false, truncated: true,
  }));
}

/** Forward multiply-adds per row of a 43-256-256-256-1 member. */
const MACS_PER_ROW = 43 * 256 + 256 * 256 + 256 * 256 + 256;
/** One update: 3 members x 128 pairs x 2 segments x 50 steps; forward 2 MACs, backward 4 less the first layer's input gradient. */
const REWARD_UPDATE_GFLOP = (3 * 256 * 50 * (2 * MACS_PER_ROW + 2 * (2 * MACS_PER_ROW - 43 * 256))) / 1e9;
/** Relabelling a million transitions with the 3-member ensemble (forward only). */
const RELABEL_GFLOP_PER_1E6 = (3 * 1e6 * 2 * MACS_PER_ROW) / 1e9;

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

  // Side by side: fused kernels on / off, PyTorch, per thread count.
  const listArg = (name: string, dflt: number[]) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1].split(',').map(Number) : dflt;
  };
  const threadCounts = listArg('--threads', [1]);
  const rounds = listArg('--rounds', [quick ? 1 : 2])[0];
  const paths = info.nativeGemm.active ? ['fused', 'per-layer'] : ['wasm'];
  const best = new Map<string, number>();
  const keep = (k: string, v: number) => best.set(k, Math.min(best.get(k) ?? Infinity, v));
  let torchVersion = '';
  for (let r = 0; r < rounds; r++) {
    for (const th of threadCounts) {
      if (info.nativeGemm.active) setBlasThreads(th);
      for (const p of paths) {
        setFusedMlp(p === 'fused');
        keep(`${th}|${p}|update`, t(() => model.train(teacherPairs, { epochs: 1, earlyStopAccuracy: 1 })));
        const ms = t(() => model.predictReward(obs, act, n, out), 2);
        keep(`${th}|${p}|relabel`, (1e6 / n) * (ms / 1000));
      }
      const res = runTorchScript('reward_torch.py', [String(budgetMs / 1000), String(n), '4096', String(th)], th);
      if (res) {
        keep(`${th}|torch|update`, Number(res.update_ms));
        keep(`${th}|torch|relabel`, Number(res.relabel_s_per_1e6));
        torchVersion = String(res.torch);
      }
    }
  }
  setFusedMlp(true);
  if (info.nativeGemm.active) setBlasThreads(threadCounts[0]);
  const side: (string | number)[][] = [['threads', 'path', 'reward update ms', 'x PyTorch', 'relabel s per 1e6', 'x PyTorch']];
  const bounds: (string | number)[][] = [['threads', 'C sgemm GFLOP/s', 'update FLOP bound ms', '0.65x PyTorch update ms', 'relabel FLOP bound s', '0.65x PyTorch relabel s']];
  for (const th of threadCounts) {
    const tu = best.get(`${th}|torch|update`);
    const tr = best.get(`${th}|torch|relabel`);
    if (info.nativeGemm.active) {
      // The matmuls alone at the rate of OpenBLAS called from C ([256 x 256 x 256], the relabel tile).
      setBlasThreads(th);
      const ms = nativeSgemmMs(256, 256, 256, 400);
      if (ms !== null) {
        const rate = (2 * 256 ** 3) / (ms * 1e6);
        bounds.push([th, fmt(rate, 1), fmt(REWARD_UPDATE_GFLOP / rate * 1000, 1), tu ? fmt(0.65 * tu, 1) : 'n/a',
          fmt(RELABEL_GFLOP_PER_1E6 / rate, 2), tr ? fmt(0.65 * tr, 2) : 'n/a']);
      }
    }
    for (const p of [...paths, 'torch']) {
      const u = best.get(`${th}|${p}|update`);
      const rl = best.get(`${th}|${p}|relabel`);
      if (u === undefined || rl === undefined) continue;
      side.push([th, p === 'torch' ? `PyTorch ${torchVersion}` : p, fmt(u, 1), tu ? `${fmt(u / tu)}x` : 'n/a', fmt(rl, 2), tr ? `${fmt(rl / tr)}x` : 'n/a']);
    }
  }
  console.log(table(side));
  console.log(`best of ${rounds} alternating round(s); relabel chunk 4096 rows, ${n} transitions timed`);
  if (!torchPython()) console.log(TORCH_SKIPPED);
  console.log('targets: reward update and relabelling <= 0.65x PyTorch');
  if (bounds.length > 1) {
    console.log(table(bounds));
    console.log('FLOP bound: the update\'s or relabelling\'s matmul FLOPs at the C sgemm rate (no other work); below it no implementation on the same BLAS goes');
  }
  console.log();
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
