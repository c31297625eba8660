/**
 * `npm run perf -- pebble [--tasks reach,button-press-topdown] [--seeds 0,1,2] [--steps N] [--feedback N]
 *  [--jobs J] [--quick]`: PEBBLE (oracle teacher) against SAC with the true reward, success vs env steps
 * and labels used; plus ms per reward-model update (128 pairs x 50 steps, 3 x 3x256) and the time to
 * relabel a 1M-transition buffer (measured on 100k, scaled). Writes bench-results/pebble.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../core/backend.js';
import { Rng } from '../core/rng.js';
import { RewardModel } from '../reward/reward-model.js';
import type { RewardSegment } from '../reward/segments.js';
import { PROJECT_ROOT } from '../experiments/versions.js';
import { arg, readCurve, runTrainJobs, type TrainJob } from './_runs.js';
import { table } from './_timing.js';

function randomSegment(rng: Rng, id: string, H: number): RewardSegment {
  return {
    id, task: 'bench', source: { trajectory: id, start: 0 }, length: H, obsDim: 39, actDim: 4,
    obs: rng.fillNormal(new Float32Array(H * 39)) as Float32Array, actions: rng.fillUniform(new Float32Array(H * 4), -1, 1) as Float32Array,
    rewards: new Float32Array(H), success: new Uint8Array(H),
  };
}

async function rewardModelTimings(): Promise<{ updateMs: number; relabel1MSeconds: number }> {
  await initBackend();
  const rng = new Rng(0);
  const model = new RewardModel({ obsDim: 39, actDim: 4, seed: 1 });
  const pairs = Array.from({ length: 128 }, (_, i) => ({ a: randomSegment(rng, `a${i}`, 50), b: randomSegment(rng, `b${i}`, 50), label: (i % 2) as 0 | 1 }));
  model.train(pairs, { epochs: 1 }); // warm-up: one step of 128 pairs
  const t0 = performance.now();
  const reps = 5;
  for (let i = 0; i < reps; i++) model.train(pairs, { epochs: 1 });
  const updateMs = (performance.now() - t0) / reps;
  const n = 100_000;
  const obs = rng.fillNormal(new Float32Array(n * 39)) as Float32Array;
  const act = rng.fillUniform(new Float32Array(n * 4), -1, 1) as Float32Array;
  const t1 = performance.now();
  model.predictReward(obs, act, n);
  const relabel1MSeconds = ((performance.now() - t1) / 1000) * (1_000_000 / n);
  model.dispose();
  return { updateMs, relabel1MSeconds };
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const tasks = arg(args, 'tasks', 'reach,button-press-topdown').split(',');
  const seeds = arg(args, 'seeds', quick ? '0' : '0,1,2').split(',').map(Number);
  const steps = Number(arg(args, 'steps', quick ? '20000' : '300000'));
  const feedback = arg(args, 'feedback', quick ? '500' : '2000');
  const jobs = Number(arg(args, 'jobs', '1'));
  const evalEvery = String(Math.max(1000, Math.floor(steps / 10)));

  const timings = await rewardModelTimings();
  console.log(`reward model (3 x 3x256, 128 pairs x 50 steps): ${timings.updateMs.toFixed(0)} ms per update; relabel 1M transitions: ${timings.relabel1MSeconds.toFixed(1)} s`);

  const outRoot = join(PROJECT_ROOT, 'bench-results', 'pebble');
  const small = quick ? ['--hidden', '128,128', '--batch-size', '256'] : [];
  const list: TrainJob[] = [];
  for (const task of tasks) {
    for (const seed of seeds) {
      const common = ['--task', task, '--steps', String(steps), '--seed', String(seed), '--eval-every', evalEvery, ...small];
      list.push({ name: `sac/${task}/${seed}`, out: join(outRoot, `sac-${task}-${seed}`), args: ['--algo', 'sac', ...common] });
      list.push({
        name: `pebble/${task}/${seed}`, out: join(outRoot, `pebble-${task}-${seed}`),
        args: ['--algo', 'pebble', '--teacher', 'oracle', '--feedback', feedback, '--query', 'disagreement', ...common,
          ...(quick ? ['--unsup-steps', '2000', '--num-interact', '2000'] : [])],
      });
    }
  }
  const walls = await runTrainJobs(list, jobs);
  const results: Record<string, unknown> = { timings, steps, feedback, seeds, tasks, quick, walls, curves: {} };
  for (const task of tasks) {
    const rows: (string | number)[][] = [['env steps', 'SAC (true reward) success', 'PEBBLE success', 'PEBBLE labels used']];
    const sac = seeds.map((s) => readCurve(join(outRoot, `sac-${task}-${s}`)));
    const peb = seeds.map((s) => readCurve(join(outRoot, `pebble-${task}-${s}`)));
    (results.curves as Record<string, unknown>)[task] = { sac, pebble: peb };
    sac[0].forEach((pt, i) => {
      const mean = (cs: typeof sac) => cs.reduce((a, c) => a + (c[i]?.success ?? NaN), 0) / cs.length;
      rows.push([pt.step, mean(sac).toFixed(2), mean(peb).toFixed(2), peb[0][i]?.labels ?? '-']);
    });
    console.log(`\n${task} (mean over seeds ${seeds.join(',')})`);
    console.log(table(rows));
  }
  console.log(`\nwall time: ${Object.entries(walls).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}`);
  mkdirSync(join(PROJECT_ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, 'bench-results', 'pebble.json'), JSON.stringify(results, null, 2));
}
