/**
 * Reads a benchmark results directory (the layout `pbrl bench run` writes) into plain records:
 *
 *   suite.json                  { name, description, smokeScale, axes, cells: [ids] }
 *   cells/<id>/cell.json        { id, suite, axes: { algo, task, seed, teacher?, feedback?, ... }, group, trainConfig }
 *   cells/<id>/config.json      what `pbrl train` writes: { config, versions, backend, startedAt }
 *   cells/<id>/metrics.jsonl    eval rows { step, eval_success, ... }, PEBBLE feedback rows { step, feedback_total, ... }
 *   cells/<id>/status.json      { state: done|failed|running, wallSeconds, envSteps, ... }
 *
 * A missing suite.json is fatal. Anything wrong with one cell (missing, unreadable, no evaluations)
 * is recorded on that cell with the file named, and the report renders from the others.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Curve } from '../stats/index.js';

const SuiteFile = z.looseObject({
  name: z.string(),
  description: z.string().optional().default(''),
  smokeScale: z.boolean().optional().default(false),
  axes: z.unknown().optional(),
  cells: z.array(z.string()),
});

const CellFile = z.looseObject({
  id: z.string(),
  suite: z.string().optional(),
  kind: z.string().optional(),
  axes: z.looseObject({
    algo: z.string(),
    task: z.string(),
    seed: z.number(),
    teacher: z.string().optional().nullable(),
    feedback: z.number().optional().nullable(),
    query: z.string().optional().nullable(),
  }),
  group: z.string(),
  trainConfig: z.unknown().optional(),
});

const StatusFile = z.looseObject({
  state: z.enum(['done', 'failed', 'running']),
  wallSeconds: z.number().optional().nullable(),
  envSteps: z.number().optional().nullable(),
  startedAt: z.string().optional().nullable(),
  finishedAt: z.string().optional().nullable(),
  error: z.string().optional().nullable(),
  worker: z.string().optional().nullable(),
  attempts: z.number().optional().nullable(),
});

const ConfigFile = z.looseObject({
  config: z.unknown(),
  versions: z.record(z.string(), z.string().nullable()).optional(),
  backend: z.unknown().optional(),
  startedAt: z.string().optional(),
});

export type SuiteInfo = z.infer<typeof SuiteFile>;
export type CellInfo = z.infer<typeof CellFile>;
export type CellStatus = z.infer<typeof StatusFile>;
export type RunConfig = z.infer<typeof ConfigFile>;

/** done: usable results; the others are listed in the report and left out of every statistic. */
export type CellState = 'done' | 'running' | 'failed' | 'missing' | 'unreadable';

export interface EvalPoint {
  step: number;
  success: number;
  return: number | null;
  /** Queries the teacher was asked so far (PEBBLE's feedback_total); null for runs without feedback. */
  labels: number | null;
  labelled: number | null;
  envStepsPerS: number | null;
}

export interface CellRecord {
  id: string;
  dir: string;
  state: CellState;
  /** Why the cell is not usable (names the file), or the run's own error for failed cells. */
  problem?: string;
  info?: CellInfo;
  status?: CellStatus;
  config?: RunConfig;
  evals: EvalPoint[];
}

export interface Results {
  dir: string;
  suite: SuiteInfo;
  /** The suite's cells, in its order. */
  cells: CellRecord[];
  /** Cell folders the suite no longer lists (an earlier version of it): named, never counted. */
  stray: string[];
}

function readJson<T>(path: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not readable JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${path}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return r.data;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Evaluation points in file order, each with the labels used so far. A torn last line (a run
 * killed mid-write) is skipped; a bad line anywhere else makes the file unreadable.
 *
 * A run killed without saving (SIGKILL, a lost machine) resumes from its last checkpoint and logs
 * the steps after it again, appending to the same file: a step lower than one already seen marks
 * such a resume, and the resumed run's rows supersede the earlier rows from that step on.
 */
export function readEvals(path: string): EvalPoint[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  let out: EvalPoint[] = [];
  let feedback: { step: number; labels: number | null; labelled: number | null }[] = [];
  let maxStep = -Infinity;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1) return;
      throw new Error(`${path}: line ${i + 1} is not JSON (${(e as Error).message})`);
    }
    if (typeof row !== 'object' || row === null) throw new Error(`${path}: line ${i + 1} is not a JSON object`);
    const step = num(row.step);
    if (step !== null) {
      if (step < maxStep) {
        out = out.filter((e) => e.step < step);
        feedback = feedback.filter((f) => f.step < step);
      }
      maxStep = step;
    }
    if ('feedback_total' in row) {
      const labels = num(row.feedback_total);
      feedback.push({ step: step ?? maxStep, labels, labelled: num(row.feedback_labelled) ?? labels });
    }
    if ('eval_success' in row) {
      const success = num(row.eval_success);
      if (step === null || success === null || success < 0 || success > 1) {
        throw new Error(`${path}: line ${i + 1}: an eval row needs a numeric step and eval_success in [0, 1], got step=${row.step}, eval_success=${row.eval_success}`);
      }
      const fb = feedback.length ? feedback[feedback.length - 1] : null;
      const point = { step, success, return: num(row.eval_return), labels: fb?.labels ?? null, labelled: fb?.labelled ?? null, envStepsPerS: num(row.env_steps_per_s) };
      // the same step evaluated twice (a resume that landed on it): the later one stands
      if (out.length && out[out.length - 1].step === step) out[out.length - 1] = point;
      else out.push(point);
    }
  });
  return out;
}

function readCell(root: string, id: string): CellRecord {
  const dir = join(root, 'cells', id);
  const rec: CellRecord = { id, dir, state: 'missing', evals: [] };
  if (!existsSync(join(dir, 'cell.json'))) {
    rec.problem = existsSync(dir) ? `${join(dir, 'cell.json')} is missing` : `${dir} does not exist (not run yet)`;
    return rec;
  }
  try {
    rec.info = readJson(join(dir, 'cell.json'), CellFile);
    const statusPath = join(dir, 'status.json');
    if (!existsSync(statusPath)) {
      rec.problem = `${statusPath} is missing (never started)`;
      return rec;
    }
    rec.status = readJson(statusPath, StatusFile);
    rec.state = rec.status.state;
    if (rec.state === 'failed') rec.problem = rec.status.error ?? 'failed (no error recorded in status.json)';
    const configPath = join(dir, 'config.json');
    if (existsSync(configPath)) rec.config = readJson(configPath, ConfigFile);
    const metricsPath = join(dir, 'metrics.jsonl');
    if (existsSync(metricsPath)) rec.evals = readEvals(metricsPath);
    if (rec.state === 'done' && rec.evals.length === 0) {
      rec.state = 'unreadable';
      rec.problem = existsSync(metricsPath) ? `${metricsPath} has no eval rows` : `${metricsPath} is missing`;
    }
  } catch (e) {
    rec.state = 'unreadable';
    rec.problem = (e as Error).message;
    rec.evals = [];
  }
  return rec;
}

export function readResults(dir: string): Results {
  const suitePath = join(dir, 'suite.json');
  if (!existsSync(suitePath)) throw new Error(`${suitePath} not found: ${dir} is not a benchmark results directory (pbrl bench run --out writes one)`);
  const suite = readJson(suitePath, SuiteFile);
  // A changed config is a new cell, so folders of an earlier suite version stay on disk; mixing
  // them in would compare runs of different configs under one label.
  const cellsDir = join(dir, 'cells');
  const listed = new Set(suite.cells);
  const stray = existsSync(cellsDir) ? readdirSync(cellsDir).filter((d) => !listed.has(d)).sort() : [];
  return { dir, suite, cells: suite.cells.map((id) => readCell(dir, id)), stray };
}

export function successCurve(c: CellRecord): Curve {
  return c.evals.map((e) => ({ x: e.step, y: e.success }));
}

/** Success against labels used; null when the run asked no teacher. */
export function labelCurve(c: CellRecord): Curve | null {
  if (!c.evals.some((e) => e.labels !== null)) return null;
  return c.evals.map((e) => ({ x: e.labels ?? 0, y: e.success }));
}
