/**
 * Running one cell (or one dataset) of a suite: the single code path both executors use. A cell is
 * run as a `pbrl train` child process writing into <out>/cells/<id>/, so a cell directory holds
 * exactly what `pbrl train` writes, plus cell.json, status.json and log.txt:
 *
 *   cell.json    { id, suite, kind, axes, group, trainConfig, dataset? }
 *   status.json  { state: done | failed | running, wallSeconds, envSteps, startedAt, finishedAt, error?, worker?, attempts, interrupted? }
 *   log.txt      the child's stdout and stderr, one header line per attempt
 *
 * Idempotent: a done cell is never run again (so a queue job delivered twice records it once); a
 * cell with a checkpoint resumes (`pbrl train --resume`); one without starts clean.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/serialize.js';
import { PROJECT_ROOT } from '../versions.js';
import { canonicalJson, type Cell, type DatasetJob, type SacRunJob } from './suite.js';

export type CellState = 'done' | 'failed' | 'running';

export interface CellStatus {
  state: CellState;
  wallSeconds: number;
  envSteps: number;
  startedAt: string;
  finishedAt: string | null;
  error?: string;
  worker?: string;
  attempts: number;
  /** Stopped by Ctrl-C or a closing worker: `bench run` resumes it from its checkpoint. */
  interrupted?: boolean;
  /** Start of the current (or last) attempt; wallSeconds covers the attempts before it while it runs. */
  attemptStartedAt?: string;
}

export const cellDir = (out: string, id: string) => join(out, 'cells', id);

export function readStatus(dir: string): CellStatus | null {
  const p = join(dir, 'status.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as CellStatus;
  } catch {
    return null;
  }
}

function writeStatus(dir: string, s: CellStatus): void {
  writeFileAtomic(join(dir, 'status.json'), JSON.stringify(s, null, 2));
}

/**
 * Writes cell.json for a new cell; for an existing one, checks it describes the same run. The id is
 * a hash of the config, so a mismatch means the directory was edited or the hash collided: refuse
 * rather than overwrite someone's results.
 */
export function prepareCell(out: string, cell: Cell): void {
  const dir = cellDir(out, cell.id);
  const p = join(dir, 'cell.json');
  if (existsSync(p)) {
    const old = JSON.parse(readFileSync(p, 'utf8')) as Cell;
    if (canonicalJson(old.trainConfig) !== canonicalJson(cell.trainConfig)) {
      throw new Error(`${dir} holds a different config than cell ${cell.id} resolves to; it is left untouched — move it away or use another --out`);
    }
    if (old.suite === cell.suite && canonicalJson(old) === canonicalJson(cell)) return;
  }
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(p, JSON.stringify(cell, null, 2));
}

export function readCell(out: string, id: string): Cell {
  const p = join(cellDir(out, id), 'cell.json');
  if (!existsSync(p)) throw new Error(`${p} is missing (is the results directory shared with this machine at the same path?)`);
  return JSON.parse(readFileSync(p, 'utf8')) as Cell;
}

function checkpointStep(dir: string): number | null {
  const p = join(dir, 'checkpoint', 'trainer.json');
  if (!existsSync(p)) return null;
  return (JSON.parse(readFileSync(p, 'utf8')) as { step: number }).step;
}

/**
 * Keeps the metrics rows up to the checkpoint a resume starts from. A run killed between checkpoints
 * has rows past it (and maybe a torn last line); the resumed run writes those steps again.
 */
export function truncateMetrics(dir: string, step: number): void {
  const p = join(dir, 'metrics.jsonl');
  if (!existsSync(p)) return;
  const kept: string[] = [];
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const row = JSON.parse(line) as { step?: number };
      if (typeof row.step !== 'number' || row.step <= step) kept.push(line);
    } catch {
      // torn line from a killed process
    }
  }
  writeFileAtomic(p, kept.map((l) => l + '\n').join(''));
}

/** One thread per BLAS call: cells run side by side, one per core. */
export function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PBRL_BLAS_THREADS: '1', OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
}

const CHILD = join(PROJECT_ROOT, 'experiments', 'bench', 'child.mjs');

export interface RunOptions {
  /** Recorded in status.json (queue workers: host/pid). */
  worker?: string;
  /** Called with the child once it runs, so a caller can forward SIGINT to it. */
  onChild?: (child: ChildProcess) => void;
}

/** Runs `pbrl <args>` in `cwd` as a child that dies with this process; output appended to `log`. */
export function runPbrl(args: string[], cwd: string, log: string, opts: RunOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const fd = openSync(log, 'a');
    // detached: a terminal's Ctrl-C reaches only the executor, which forwards one SIGINT (a second
    // one would kill `pbrl train` before its checkpoint). The child watches its parent: when this
    // process dies, it dies too (child.mjs), so a killed worker leaves no orphan training.
    const child = spawn(process.execPath, [CHILD, ...args], { cwd, env: childEnv(), stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    opts.onChild?.(child);
  });
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).slice(-lines).join('\n');
}

/** Runs (or resumes) a cell to the end; returns its final status. A failed run is a result, not an exception. */
export async function runCell(out: string, cell: Cell, opts: RunOptions = {}): Promise<CellStatus> {
  const dir = cellDir(out, cell.id);
  const prev = readStatus(dir);
  if (prev?.state === 'done') return prev;
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'log.txt');
  const steps = Number(cell.trainConfig.steps);
  const ck = checkpointStep(dir);
  const resume = ck !== null && ck < steps;
  const attempts = (prev?.attempts ?? 0) + 1;
  const startedAt = new Date().toISOString();
  const status: CellStatus = {
    state: 'running', wallSeconds: prev?.wallSeconds ?? 0, envSteps: ck ?? 0, startedAt: prev?.startedAt ?? startedAt, finishedAt: null,
    attempts, attemptStartedAt: startedAt, ...(opts.worker ? { worker: opts.worker } : {}),
  };
  writeStatus(dir, status);
  appendFileSync(log, `=== attempt ${attempts}${resume ? ` (resume from step ${ck})` : ''}${opts.worker ? ` on ${opts.worker}` : ''} at ${startedAt}\n`);

  let args: string[];
  let cfgFile: string | null = null;
  if (ck !== null && ck >= steps) {
    args = []; // finished training whose status was not written (killed right at the end)
  } else if (resume) {
    truncateMetrics(dir, ck!);
    args = ['train', '--out', join('cells', cell.id), '--resume', '--no-progress'];
  } else {
    // No checkpoint: anything here is from a start that died early; begin again from nothing.
    for (const f of ['metrics.jsonl', 'config.json', 'checkpoint']) rmSync(join(dir, f), { recursive: true, force: true });
    cfgFile = join(tmpdir(), `pbrl-cell-${cell.id}-${process.pid}-${Date.now()}.json`);
    writeFileSync(cfgFile, JSON.stringify(cell.trainConfig));
    args = ['train', '--algo', String(cell.trainConfig.algo), '--task', String(cell.trainConfig.task), '--config', cfgFile, '--out', join('cells', cell.id), '--no-progress'];
    if (cell.kind === 'offline') args.push('--dataset', String(cell.trainConfig.dataset));
  }
  const t0 = performance.now();
  let code = 0;
  try {
    if (args.length) code = await runPbrl(args, out, log, opts);
  } finally {
    if (cfgFile) rmSync(cfgFile, { force: true });
  }
  const reached = checkpointStep(dir) ?? 0;
  status.wallSeconds += (performance.now() - t0) / 1000;
  status.envSteps = reached;
  status.finishedAt = new Date().toISOString();
  if (code === 0 && reached >= steps) {
    status.state = 'done';
  } else if (code === 0) {
    // `pbrl train` exits 0 after Ctrl-C with a checkpoint saved: resumable, not failed.
    status.interrupted = true;
  } else {
    status.state = 'failed';
    status.error = `pbrl train exited with code ${code}${code > 128 ? ' (killed by a signal)' : ''}:\n${tail(log)}`;
  }
  writeStatus(dir, status);
  return status;
}

/** The `pbrl dataset make` arguments that build a suite's dataset (paths relative to the results directory). */
export function datasetMakeArgs(ds: DatasetJob): string[] {
  const o = ds.options;
  const args = ['dataset', 'make', '--task', o.task, '--kind', o.kind, '--teacher', o.teacher, '--seed', String(o.seed), '--episodes', String(o.episodes),
    '--segment-length', String(o.segmentLength), '--pairs-per-segment', String(o.pairsPerSegment), '--max-path-length', String(o.maxPathLength),
    '--checkpoint-noise', String(o.checkpointNoise), '--value-horizon', String(o.valueHorizon), '--value-gamma', String(o.valueGamma),
    '--out', ds.path, '--no-progress'];
  // The reference recipe's SAC behaviour policy replaces the scripted noise mix (the CLI refuses both).
  if (o.policy === undefined) args.push('--noise', o.noise.join(','));
  else args.push('--policy', o.policy, '--action-noise', String(o.actionNoise));
  if (o.valueFrom !== undefined) args.push('--value-from', o.valueFrom, '--value-samples', String(o.valueSamples));
  if (o.segments !== undefined) args.push('--segments', String(o.segments));
  if (o.includeRandom) args.push('--random');
  if (o.poses) args.push('--poses');
  if (o.ratingTeacher !== undefined) args.push('--rating-teacher', o.ratingTeacher);
  if (o.checkpoints.length) args.push('--checkpoint', ...o.checkpoints);
  const extra = o as Record<string, unknown>;
  if (extra.goalObservable === true) args.push('--goal-observable');
  if (typeof extra.envVersion === 'string') args.push('--env-version', extra.envVersion);
  return args;
}

/** Whether a behaviour SAC run's checkpoint has reached its steps. */
export function sacRunFinished(out: string, job: SacRunJob): boolean {
  return (checkpointStep(join(out, job.path)) ?? -1) >= Number(job.trainConfig.steps);
}

/**
 * Trains (or resumes) a behaviour SAC run the suite's datasets read (suite.behaviourSac) with
 * `pbrl train --algo sac`; skipped when its checkpoint has reached the steps. Log: <path>.log.
 */
export async function runSacRun(out: string, job: SacRunJob, opts: RunOptions = {}): Promise<{ ok: boolean; error?: string }> {
  const dir = join(out, job.path);
  const steps = Number(job.trainConfig.steps);
  const ck = checkpointStep(dir);
  if (sacRunFinished(out, job)) return { ok: true };
  mkdirSync(join(dir, '..'), { recursive: true });
  const log = `${dir}.log`;
  let cfgFile: string | null = null;
  let args: string[];
  if (ck !== null) {
    args = ['train', '--out', job.path, '--resume', '--no-progress'];
  } else {
    rmSync(dir, { recursive: true, force: true }); // a start that died before its first checkpoint
    cfgFile = join(tmpdir(), `pbrl-sac-${job.task}-${process.pid}-${Date.now()}.json`);
    writeFileSync(cfgFile, JSON.stringify(job.trainConfig));
    args = ['train', '--algo', 'sac', '--task', job.task, '--config', cfgFile, '--out', job.path, '--no-progress'];
  }
  appendFileSync(log, `=== behaviour SAC for ${job.task}${ck !== null ? ` (resume from step ${ck})` : ''} at ${new Date().toISOString()}\n`);
  let code: number;
  try {
    code = await runPbrl(args, out, log, opts);
  } finally {
    if (cfgFile) rmSync(cfgFile, { force: true });
  }
  if (code === 0 && (checkpointStep(dir) ?? 0) >= steps) return { ok: true };
  return { ok: false, error: `pbrl train --algo sac (behaviour policy ${job.path}) exited with code ${code}:\n${tail(log)}` };
}

/** Builds a suite's dataset with `pbrl dataset make`; skipped when the file exists. */
export async function runDataset(out: string, ds: DatasetJob, opts: RunOptions = {}): Promise<{ ok: boolean; error?: string }> {
  const file = join(out, ds.path);
  if (existsSync(file)) return { ok: true };
  mkdirSync(join(out, 'datasets'), { recursive: true });
  const args = datasetMakeArgs(ds);
  const log = join(out, 'datasets', `${ds.id}.log`);
  const code = await runPbrl(args, out, log, opts);
  if (code === 0 && existsSync(file)) return { ok: true };
  return { ok: false, error: `pbrl dataset make exited with code ${code}:\n${tail(log)}` };
}

/** Records a cell that cannot run (its dataset failed, or its queue job was lost). */
export function markFailed(out: string, cell: Cell, error: string, worker?: string): void {
  const dir = cellDir(out, cell.id);
  mkdirSync(dir, { recursive: true });
  const prev = readStatus(dir);
  if (prev?.state === 'done') return;
  const now = new Date().toISOString();
  writeStatus(dir, {
    state: 'failed', wallSeconds: prev?.wallSeconds ?? 0, envSteps: prev?.envSteps ?? 0, startedAt: prev?.startedAt ?? now, finishedAt: now,
    error, attempts: prev?.attempts ?? 0, ...(worker ? { worker } : {}),
  });
}
