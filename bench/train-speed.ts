/**
 * `npm run perf -- train-speed [--quick] [--steps N]`: whole `pbrl train` runs, not kernels: SAC on
 * reach with an update per env step, quick config (2x128, batch 256) and paper config (3x256, batch
 * 512), on each update path:
 *   native     the whole SAC update as one native call (native/sac.c; the default), 1 BLAS thread
 *   native x2  the same with PBRL_BLAS_THREADS=2
 *   fused      PBRL_NATIVE_SAC=0: whole-network kernels, the rest of the update as tfjs ops
 *   per-layer  PBRL_NATIVE_SAC=0 PBRL_FUSED_MLP=0: one tfjs kernel per layer operation
 * Each run warms up on 500 random steps, then learns; the number is the run's own env_steps_per_s
 * over its last evaluation interval (all of it with updates). Runs go one at a time, alternating
 * paths. Beside them, a PyTorch loop of the same settings (bench/sac_update_torch.py loop: act on one
 * observation, store, sample a batch, one update) without an environment, so its steps/s leave out
 * the physics that pbrl's include.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../experiments/versions.js';
import { arg, runTrainJobs } from './_runs.js';
import { fmt, table } from './_timing.js';
import { runTorchScript, torchPython, TORCH_SKIPPED } from './_torch.js';

function lastStepsPerSecond(out: string): number {
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const evals = rows.filter((r) => typeof r.env_steps_per_s === 'number');
  return evals[evals.length - 1].env_steps_per_s;
}

const PATHS: { name: string; env: Record<string, string> }[] = [
  { name: 'native', env: { PBRL_NATIVE_SAC: '1', PBRL_FUSED_MLP: '1', PBRL_BLAS_THREADS: '1' } },
  { name: 'native x2', env: { PBRL_NATIVE_SAC: '1', PBRL_FUSED_MLP: '1', PBRL_BLAS_THREADS: '2' } },
  { name: 'fused', env: { PBRL_NATIVE_SAC: '0', PBRL_FUSED_MLP: '1', PBRL_BLAS_THREADS: '1' } },
  { name: 'per-layer', env: { PBRL_NATIVE_SAC: '0', PBRL_FUSED_MLP: '0', PBRL_BLAS_THREADS: '1' } },
];

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const learn = Number(arg(args, 'steps', quick ? '300' : '1000'));
  const seed = 500;
  const configs = [
    { name: 'quick 2x128, batch 256', hidden: '128,128', batch: 256 },
    { name: 'paper 3x256, batch 512', hidden: '256,256,256', batch: 512 },
  ];
  const rows: (string | number)[][] = [['config', ...PATHS.map((p) => `${p.name} steps/s`), 'native / fused', 'native / per-layer', 'native x2 / native', 'PyTorch loop, no env']];
  const saved = Object.fromEntries(Object.keys(PATHS[0].env).map((k) => [k, process.env[k]]));
  for (const c of configs) {
    const sps: Record<string, number> = {};
    for (const p of PATHS) {
      const out = join(PROJECT_ROOT, 'bench-results', 'train-speed', `${c.hidden}-${p.name.replace(' ', '')}`);
      Object.assign(process.env, p.env);
      await runTrainJobs([{
        name: 'run', out,
        args: ['--algo', 'sac', '--task', 'reach', '--steps', String(seed + learn), '--seed-steps', String(seed), '--eval-every', String(learn / 2),
          '--eval-episodes', '1', '--checkpoint-every', String(10 * (seed + learn)), '--hidden', c.hidden, '--batch-size', String(c.batch)],
      }], 1);
      sps[p.name] = lastStepsPerSecond(out);
    }
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    const torch = runTorchScript('sac_update_torch.py', [quick ? '1' : '3', c.hidden, String(c.batch), '1', 'loop'], 1);
    rows.push([
      c.name, ...PATHS.map((p) => fmt(sps[p.name], 1)), `${fmt(sps.native / sps.fused)}x`, `${fmt(sps.native / sps['per-layer'])}x`,
      `${fmt(sps['native x2'] / sps.native)}x`, torch ? fmt(Number(torch[String(c.batch)]), 1) : 'n/a',
    ]);
  }
  console.log(table(rows));
  console.log(`SAC on reach, ${seed} random steps then ${learn} steps with one update each; one run at a time`);
  if (!torchPython()) console.log(TORCH_SKIPPED);
}
