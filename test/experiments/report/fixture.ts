/**
 * Synthetic benchmark results directories in exactly the layout `pbrl bench run` writes
 * (experiments/report/read.ts documents it), so the report can be tested without training anything.
 * Success curves are seeded logistic ramps rounded to tenths (10 evaluation episodes).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../core/rng.js';

export interface FixtureGroup {
  algo: string;
  teacher?: string;
  feedback?: number;
  /** Steps to reach half of `top` success. */
  half: number;
  top: number;
}

export interface FixtureOptions {
  name?: string;
  description?: string;
  smokeScale?: boolean;
  tasks?: string[];
  seeds?: number[];
  groups?: FixtureGroup[];
  steps?: number;
  evalEvery?: number;
  seed?: number;
  /** Cells (by index into the cell list) to write as failed, still running, or not at all. */
  failed?: number[];
  running?: number[];
  missing?: number[];
  /** A done cell whose metrics.jsonl has a corrupt middle line. */
  corrupt?: number[];
}

export const DEFAULT_GROUPS: FixtureGroup[] = [
  { algo: 'sac', half: 6000, top: 0.9 },
  { algo: 'pebble', teacher: 'oracle', feedback: 200, half: 8000, top: 0.8 },
  { algo: 'pebble', teacher: 'mistake:eps=0.2', feedback: 200, half: 12000, top: 0.5 },
];

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pbrl-${prefix}-`));
}

const json = (p: string, v: unknown) => writeFileSync(p, JSON.stringify(v, null, 2));

export interface FixtureCell {
  id: string;
  group: string;
  task: string;
  seed: number;
  state: 'done' | 'failed' | 'running' | 'missing';
  /** The eval rows written, for tests that check numbers end to end. */
  evals: { step: number; success: number; labels: number | null }[];
}

export function makeResults(out: string, o: FixtureOptions = {}): FixtureCell[] {
  const tasks = o.tasks ?? ['reach', 'button-press-topdown'];
  const seeds = o.seeds ?? [0, 1, 2];
  const groups = o.groups ?? DEFAULT_GROUPS;
  const steps = o.steps ?? 20000;
  const evalEvery = o.evalEvery ?? 2000;
  const rng = new Rng(o.seed ?? 0);
  const cells: FixtureCell[] = [];
  for (const g of groups) for (const task of tasks) for (const seed of seeds) {
    const group = [g.algo, g.teacher, g.feedback].filter((v) => v !== undefined).join('/');
    cells.push({ id: `c${cells.length.toString().padStart(2, '0')}-${g.algo}-${task}-${seed}`, group, task, seed, state: 'done', evals: [] });
  }
  const stateOf = (i: number): FixtureCell['state'] =>
    o.failed?.includes(i) ? 'failed' : o.running?.includes(i) ? 'running' : o.missing?.includes(i) ? 'missing' : 'done';

  mkdirSync(join(out, 'cells'), { recursive: true });
  json(join(out, 'suite.json'), {
    name: o.name ?? 'fixture',
    description: o.description ?? 'synthetic results for the report tests',
    smokeScale: o.smokeScale ?? true,
    axes: { algo: [...new Set(groups.map((g) => g.algo))], task: tasks, seed: seeds },
    cells: cells.map((c) => c.id),
  });

  cells.forEach((c, i) => {
    c.state = stateOf(i);
    if (c.state === 'missing') return;
    const g = groups.find((gg) => [gg.algo, gg.teacher, gg.feedback].filter((v) => v !== undefined).join('/') === c.group)!;
    const dir = join(out, 'cells', c.id);
    mkdirSync(dir, { recursive: true });
    const axes = { algo: g.algo, task: c.task, seed: c.seed, teacher: g.teacher, feedback: g.feedback, goalObservable: true };
    const trainConfig = { algo: g.algo, task: c.task, seed: c.seed, steps, evalEvery, teacher: g.teacher, feedback: g.feedback };
    json(join(dir, 'cell.json'), { id: c.id, suite: o.name ?? 'fixture', kind: 'online', axes, group: c.group, trainConfig });
    json(join(dir, 'config.json'), {
      config: trainConfig,
      versions: { pbrl: '0.1.0', node: '20.20.2', '@tensorflow/tfjs': '4.22.0' },
      backend: { backend: 'wasm', reason: 'fixture', nativeGemm: { active: true, reason: 'fixture' }, tfjsVersion: '4.22.0' },
      startedAt: '2026-12-01T09:00:00.000Z',
    });
    const lastStep = c.state === 'running' ? steps / 2 : steps;
    const lines: string[] = [];
    const rate = g.half * (0.8 + 0.4 * rng.uniform()) * (c.task === 'reach' ? 0.7 : 1.2);
    let labels = g.feedback !== undefined ? 0 : null;
    for (let step = evalEvery; step <= lastStep; step += evalEvery) {
      if (labels !== null && step >= 4000 && labels < g.feedback!) {
        labels = Math.min(g.feedback!, labels + 50);
        lines.push(JSON.stringify({ step, feedback_round: labels / 50, feedback_total: labels, feedback_labelled: Math.round(labels * 0.9), reward_accuracy: 0.8 }));
      }
      const p = g.top / (1 + Math.exp(-(step - rate) / (rate / 4)));
      const success = Math.round(Math.min(1, Math.max(0, p + 0.1 * rng.normal())) * 10) / 10;
      c.evals.push({ step, success, labels });
      lines.push(JSON.stringify({ step, episode: step / 500, train_return: 100 * success, train_success: success > 0.5 ? 1 : 0 }));
      lines.push(JSON.stringify({ step, eval_success: success, eval_return: 400 * success + 20, episodes: step / 500, env_steps_per_s: 200 + 10 * rng.uniform(), updates_per_s: 150 }));
    }
    if (o.corrupt?.includes(i)) lines.splice(1, 0, '{"step": 3, "eval_succ');
    // A running cell may be killed mid-write: a torn last line.
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + (c.state === 'running' ? '\n{"step": 99' : '\n'));
    json(join(dir, 'status.json'), {
      state: c.state,
      wallSeconds: c.state === 'running' ? null : lastStep / 200,
      envSteps: lastStep,
      startedAt: '2026-12-01T09:00:00.000Z',
      finishedAt: c.state === 'running' ? null : '2026-12-01T09:02:00.000Z',
      error: c.state === 'failed' ? 'Error: NaN in critic loss at step 7000 (see log.txt)' : undefined,
      worker: 'local-0',
      attempts: 1,
    });
  });
  return cells;
}
