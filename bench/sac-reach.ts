/**
 * `npm run perf -- sac-reach [--steps N] [--seeds 0,1,2] [--jobs J] [--quick]`: SAC with the true
 * reward on reach, Meta-World settings (reference/pbrl.md §2.7) unless --quick; each seed is a
 * `pbrl train` process (J at a time). Prints success rate vs env steps per seed and wall time, and
 * writes bench-results/sac-reach.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../experiments/versions.js';
import { arg, readCurve, runTrainJobs } from './_runs.js';
import { table } from './_timing.js';

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const steps = Number(arg(args, 'steps', quick ? '20000' : '100000'));
  const seeds = arg(args, 'seeds', '0,1,2').split(',').map(Number);
  const jobs = Number(arg(args, 'jobs', '1'));
  const evalEvery = Number(arg(args, 'eval-every', String(Math.max(1000, Math.floor(steps / 10)))));
  const outRoot = join(PROJECT_ROOT, 'bench-results', 'sac-reach');
  const extra = quick ? ['--hidden', '128,128', '--batch-size', '256'] : [];
  const wallsByName = await runTrainJobs(seeds.map((seed) => ({
    name: String(seed), out: join(outRoot, `seed${seed}`),
    args: ['--algo', 'sac', '--task', 'reach', '--steps', String(steps), '--seed', String(seed), '--eval-every', String(evalEvery), ...extra],
  })), jobs);
  const walls: Record<number, number> = Object.fromEntries(seeds.map((s) => [s, wallsByName[String(s)]]));
  const curves: Record<number, { step: number; success: number; ret: number }[]> = {};
  for (const seed of seeds) curves[seed] = readCurve(join(outRoot, `seed${seed}`));
  const stepsList = curves[seeds[0]].map((c) => c.step);
  const rows: (string | number)[][] = [['env steps', ...seeds.map((s) => `seed ${s} success`), 'mean success', 'mean return']];
  stepsList.forEach((st, i) => {
    const succ = seeds.map((s) => curves[s][i]?.success ?? NaN);
    const ret = seeds.map((s) => curves[s][i]?.ret ?? NaN);
    rows.push([st, ...succ.map((x) => x.toFixed(2)), (succ.reduce((a, b) => a + b, 0) / succ.length).toFixed(2), (ret.reduce((a, b) => a + b, 0) / ret.length).toFixed(1)]);
  });
  console.log(table(rows));
  console.log(`wall time per seed: ${seeds.map((s) => `${s}: ${walls[s].toFixed(0)} s`).join(', ')} (${jobs} at a time)`);
  mkdirSync(join(PROJECT_ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, 'bench-results', 'sac-reach.json'), JSON.stringify({ steps, seeds, quick, curves, walls }, null, 2));
}
