/**
 * `npm run bench -- sac-reach [--steps N] [--seeds 0,1,2] [--jobs J] [--quick]`: SAC with the true
 * reward on reach, Meta-World settings (reference/pbrl.md §2.7) unless --quick; each seed is a
 * `pbrl train` process (J at a time). Prints success rate vs env steps per seed and wall time, and
 * writes bench-results/sac-reach.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../experiments/versions.js';
import { table } from './_timing.js';

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const steps = Number(arg(args, 'steps', quick ? '20000' : '100000'));
  const seeds = arg(args, 'seeds', '0,1,2').split(',').map(Number);
  const jobs = Number(arg(args, 'jobs', '1'));
  const evalEvery = Number(arg(args, 'eval-every', String(Math.max(1000, Math.floor(steps / 10)))));
  const outRoot = join(PROJECT_ROOT, 'bench-results', 'sac-reach');
  const extra = quick ? ['--hidden', '128,128', '--batch-size', '256'] : [];
  const walls: Record<number, number> = {};
  const runSeed = (seed: number) =>
    new Promise<void>((resolve, reject) => {
      const out = join(outRoot, `seed${seed}`);
      rmSync(out, { recursive: true, force: true });
      const t0 = performance.now();
      const p = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'pbrl.js'), 'train', '--algo', 'sac', '--task', 'reach',
        '--steps', String(steps), '--seed', String(seed), '--eval-every', String(evalEvery), '--out', out, '--no-progress', ...extra],
      { stdio: ['ignore', 'inherit', 'inherit'] });
      p.on('exit', (code) => {
        walls[seed] = (performance.now() - t0) / 1000;
        if (code === 0) resolve();
        else reject(new Error(`seed ${seed}: pbrl train exited with ${code}`));
      });
    });
  const queue = [...seeds];
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, async () => {
    while (queue.length) await runSeed(queue.shift()!);
  }));

  const curves: Record<number, { step: number; success: number; ret: number }[]> = {};
  for (const seed of seeds) {
    curves[seed] = readFileSync(join(outRoot, `seed${seed}`, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((r) => 'eval_success' in r).map((r) => ({ step: r.step, success: r.eval_success, ret: r.eval_return }));
  }
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
