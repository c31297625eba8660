/**
 * The local executor (no services): `jobs` cells at a time as child processes on this machine, each
 * with one BLAS thread. Behaviour SAC runs and datasets first (offline suites), then cells. A failed cell is recorded with
 * its log and the others go on. Ctrl-C (SIGINT/SIGTERM) forwards one SIGINT to every running child —
 * `pbrl train` then checkpoints at the next episode end and exits — starts nothing new, and returns;
 * the next `bench run` resumes those cells.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { markFailed, runCell, runDataset, runSacRun, type CellStatus } from '../cell.js';
import { ProgressView } from '../progress.js';
import { datasetsFor, type Cell, type DatasetJob, type Plan } from '../suite.js';

export interface LocalOptions {
  jobs: number;
  progress: boolean;
  /** Cells to run (the plan's cells minus those already done); default all. */
  cells?: Cell[];
  /** Refresh period of the display, ms. */
  refreshMs?: number;
}

export interface ExecResult {
  done: number;
  failed: number;
  interrupted: boolean;
}

function datasetExists(out: string, d: DatasetJob): boolean {
  return existsSync(join(out, d.path));
}

/** Runs `items` with at most `jobs` at once; stops taking new ones when `stop()` is true. */
async function pool<T>(items: T[], jobs: number, stop: () => boolean, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, async () => {
    while (queue.length && !stop()) await run(queue.shift()!);
  }));
}

export async function runLocal(out: string, plan: Plan, opts: LocalOptions): Promise<ExecResult> {
  const cells = opts.cells ?? plan.cells;
  const children = new Set<ChildProcess>();
  const view = new ProgressView(out, cells, { enabled: opts.progress });
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    if (opts.progress) view.log('[bench] stopping: cells save a checkpoint at their next episode end; `bench run` again resumes them');
    for (const c of children) c.kill('SIGINT');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const track = { onChild: (c: ChildProcess) => {
    children.add(c);
    c.on('exit', () => children.delete(c));
    if (stopping) c.kill('SIGINT');
  } };

  const timer = setInterval(() => view.refresh(), opts.refreshMs ?? 1000);
  let done = 0;
  let failed = 0;
  try {
    const dsFailed = new Map<string, string>();
    const datasets = datasetsFor(plan, cells);
    const sacFailed = new Map<string, string>();
    // Only the SAC runs of datasets still to build (a built dataset needs its SAC no more).
    const sacNeeded = new Set(datasets.filter((d) => !datasetExists(out, d)).flatMap((d) => d.sacRuns ?? []));
    await pool(plan.sacRuns.filter((r) => sacNeeded.has(r.path)), opts.jobs, () => stopping, async (run) => {
      if (opts.progress) view.log(`[bench] behaviour SAC ${run.path} (${run.trainConfig.steps} steps)`);
      const r = await runSacRun(out, run, track);
      if (!r.ok && !stopping) sacFailed.set(run.path, r.error ?? 'failed');
    });
    await pool(datasets, opts.jobs, () => stopping, async (ds) => {
      const sacErr = (ds.sacRuns ?? []).map((p) => sacFailed.get(p)).find(Boolean);
      if (sacErr) {
        dsFailed.set(ds.id, sacErr);
        return;
      }
      if (opts.progress) view.log(`[bench] dataset ${ds.id}`);
      const r = await runDataset(out, ds, track);
      if (!r.ok && !stopping) dsFailed.set(ds.id, r.error ?? 'failed');
    });
    await pool(cells, opts.jobs, () => stopping, async (cell) => {
      let s: CellStatus | null = null;
      const dsErr = cell.dataset ? dsFailed.get(cell.dataset.id) : undefined;
      if (dsErr) markFailed(out, cell, `dataset ${cell.dataset!.id} failed: ${dsErr}`);
      else s = await runCell(out, cell, track);
      if (s?.state === 'done') done++;
      else if (!s || s.state === 'failed') {
        failed++;
        if (opts.progress) view.log(`[bench] cell ${cell.id} failed; see ${out}/cells/${cell.id}/log.txt`);
      }
    });
  } finally {
    clearInterval(timer);
    view.refresh();
    view.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return { done, failed, interrupted: stopping };
}
