/** Runs `pbrl train` processes for benchmarks (J at a time) and reads their evaluation curves. */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../experiments/versions.js';

export interface TrainJob {
  name: string;
  out: string;
  args: string[];
}

export interface Curve {
  step: number;
  success: number;
  ret: number;
  labels?: number;
}

export function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
}

/** Runs the jobs, `jobs` at a time; returns wall seconds per job name. */
export async function runTrainJobs(list: TrainJob[], jobs: number): Promise<Record<string, number>> {
  const walls: Record<string, number> = {};
  const queue = [...list];
  const one = (job: TrainJob) =>
    new Promise<void>((resolve, reject) => {
      rmSync(job.out, { recursive: true, force: true });
      const t0 = performance.now();
      const p = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'pbrl.js'), 'train', ...job.args, '--out', job.out, '--no-progress'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      p.on('exit', (code) => {
        walls[job.name] = (performance.now() - t0) / 1000;
        if (code === 0) resolve();
        else reject(new Error(`${job.name}: pbrl train exited with ${code}`));
      });
    });
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, async () => {
    while (queue.length) await one(queue.shift()!);
  }));
  return walls;
}

/** Evaluation points of a run, with the labels used so far (PEBBLE) at each. */
export function readCurve(out: string): Curve[] {
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  let labels = 0;
  const curve: Curve[] = [];
  for (const r of rows) {
    if ('feedback_total' in r) labels = r.feedback_total;
    if ('eval_success' in r) curve.push({ step: r.step, success: r.eval_success, ret: r.eval_return, labels });
  }
  return curve;
}
