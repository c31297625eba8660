/**
 * `npm run perf -- train-speed [--quick] [--steps N]`: whole `pbrl train` runs, not kernels: SAC on
 * reach with an update per env step, quick config (2x128, batch 256) and paper config (3x256, batch
 * 512), with the fused whole-network kernels (default) and without (PBRL_FUSED_MLP=0, the path
 * before them). Each run warms up on 500 random steps, then learns; the number is the run's own
 * env_steps_per_s over its last evaluation interval (all of it with updates). Runs alternate between
 * the two paths, one at a time.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../experiments/versions.js';
import { arg, runTrainJobs } from './_runs.js';
import { fmt, table } from './_timing.js';

function lastStepsPerSecond(out: string): number {
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const evals = rows.filter((r) => typeof r.env_steps_per_s === 'number');
  return evals[evals.length - 1].env_steps_per_s;
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const learn = Number(arg(args, 'steps', quick ? '300' : '1000'));
  const seed = 500;
  const configs = [
    { name: 'quick 2x128, batch 256', extra: ['--hidden', '128,128', '--batch-size', '256'] },
    { name: 'paper 3x256, batch 512', extra: ['--hidden', '256,256,256', '--batch-size', '512'] },
  ];
  const rows: (string | number)[][] = [['config', 'fused env steps/s', 'per-layer env steps/s', 'fused / per-layer']];
  for (const c of configs) {
    const sps: Record<string, number> = {};
    for (const fused of [true, false]) {
      const out = join(PROJECT_ROOT, 'bench-results', 'train-speed', `${c.extra[1]}-${fused ? 'fused' : 'per-layer'}`);
      process.env.PBRL_FUSED_MLP = fused ? '1' : '0';
      await runTrainJobs([{
        name: 'run', out,
        args: ['--algo', 'sac', '--task', 'reach', '--steps', String(seed + learn), '--seed-steps', String(seed), '--eval-every', String(learn / 2),
          '--eval-episodes', '1', '--checkpoint-every', String(10 * (seed + learn)), ...c.extra],
      }], 1);
      sps[fused ? 'fused' : 'per-layer'] = lastStepsPerSecond(out);
    }
    delete process.env.PBRL_FUSED_MLP;
    rows.push([c.name, fmt(sps.fused, 1), fmt(sps['per-layer'], 1), `${fmt(sps.fused / sps['per-layer'])}x`]);
  }
  console.log(table(rows));
  console.log(`SAC on reach, ${seed} random steps then ${learn} steps with one update each; one run at a time`);
}
