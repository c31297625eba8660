/**
 * The queue executor: BullMQ on Redis. `bench run --queue redis://host:port` enqueues each cell (and
 * first each dataset an offline suite needs) as a job; `pbrl worker` processes on any number of
 * machines run them with the same code as the local executor (cell.ts), and this coordinator waits,
 * showing the same progress read from the results directory.
 *
 * Results reach the coordinator through a shared results directory: the job names the directory,
 * the worker writes the cell there exactly as a local run would. Redis carries only the jobs and
 * their state. See experiments/README.md for why (and for the limits of sending outputs through
 * Redis instead).
 *
 * A job's id is derived from the results directory and the cell id, so enqueuing the same suite
 * twice, or while workers still run it, never duplicates a cell.
 */
import { join, resolve } from 'node:path';
import { Queue, type ConnectionOptions } from 'bullmq';
import { markFailed, sacRunFinished, type CellStatus } from '../cell.js';
import { ProgressView } from '../progress.js';
import { datasetsFor, hashOf, type Cell, type DatasetJob, type Plan } from '../suite.js';
import type { ExecResult } from './local.js';

export const DEFAULT_QUEUE = 'pbrl-bench';

export type JobData =
  | { type: 'cell'; out: string; cell: Cell }
  | { type: 'dataset'; out: string; dataset: DatasetJob };

export function connectionFor(url: string): ConnectionOptions {
  if (!/^rediss?:\/\//.test(url)) throw new Error(`--queue must be a Redis URL such as redis://127.0.0.1:6379, got "${url}"`);
  // BullMQ's blocking commands need ioredis to retry forever rather than fail a request.
  return { url, maxRetriesPerRequest: null };
}

/** Waits for the Redis connection; a URL nobody answers is an error, not a silent wait forever. */
export async function ready(what: { waitUntilReady(): Promise<unknown> }, url: string, ms = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${url} (no answer in ${ms / 1000} s); is redis-server running and reachable from here?`)), ms);
  });
  try {
    await Promise.race([what.waitUntilReady(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function jobId(type: 'cell' | 'dataset', out: string, id: string): string {
  return `${type}-${hashOf(resolve(out), 8)}-${id}`;
}

export interface QueueOptions {
  url: string;
  queueName?: string;
  progress: boolean;
  cells?: Cell[];
  /** Poll period for job states, ms. */
  pollMs?: number;
}

/** Adds the job unless a live one with its id exists; a finished one (from an earlier run) is replaced. */
async function enqueue(queue: Queue, id: string, data: JobData): Promise<void> {
  const old = await queue.getJob(id);
  if (old) {
    const state = await old.getState();
    if (state !== 'completed' && state !== 'failed') return;
    await old.remove();
  }
  await queue.add(data.type, data, {
    jobId: id,
    // Retries are for lost workers and interrupted runs; a cell whose training fails completes with
    // state "failed" in its status.json instead, so it is not rerun in vain.
    attempts: 5,
    backoff: { type: 'fixed', delay: 1000 },
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
}

type Outcome = { state: 'completed'; value: unknown } | { state: 'failed'; reason: string };

/** Polls until every job is completed or failed, or `stop()` says to stop waiting. */
async function waitAll(queue: Queue, ids: string[], stop: () => boolean, pollMs: number, each: (id: string, o: Outcome) => void): Promise<void> {
  const left = new Set(ids);
  while (left.size && !stop()) {
    for (const id of [...left]) {
      const state = await queue.getJobState(id);
      if (state !== 'completed' && state !== 'failed') continue;
      const job = await queue.getJob(id);
      left.delete(id);
      each(id, state === 'completed' ? { state, value: job?.returnvalue } : { state, reason: job?.failedReason ?? 'unknown' });
    }
    if (left.size) await new Promise((r) => setTimeout(r, pollMs));
  }
}

export async function runQueue(outArg: string, plan: Plan, opts: QueueOptions): Promise<ExecResult> {
  const out = resolve(outArg);
  const cells = opts.cells ?? plan.cells;
  // Behaviour SAC runs are not queue jobs: they must exist before workers build datasets from them.
  const missing = plan.sacRuns.filter((r) => !sacRunFinished(out, r));
  if (missing.length) {
    throw new Error(`suite "${plan.suite.name}" builds its datasets from behaviour SAC runs that ${out} does not hold yet; train them first, e.g. with the local runner ` +
      `(\`pbrl bench run --suite ${plan.suite.name} --out ${out}\` trains them before anything else), or:\n` +
      missing.map((r) => `  pbrl train --algo sac --task ${r.task} --out ${join(out, r.path)} --config <a file holding ${JSON.stringify(r.trainConfig)}>`).join('\n'));
  }
  const queue = new Queue(opts.queueName ?? DEFAULT_QUEUE, { connection: connectionFor(opts.url) });
  // Connection errors repeat while ioredis retries; `ready` reports an unreachable server once.
  queue.on('error', () => {});
  let stopping = false;
  const onSignal = () => {
    stopping = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const view = new ProgressView(out, cells, { enabled: opts.progress });
  const timer = setInterval(() => view.refresh(), 1000);
  const pollMs = opts.pollMs ?? 1000;
  let done = 0;
  let failed = 0;
  try {
    await ready(queue, opts.url);
    const dsFailed = new Map<string, string>();
    const dsJobs = datasetsFor(plan, cells);
    for (const d of dsJobs) await enqueue(queue, jobId('dataset', out, d.id), { type: 'dataset', out, dataset: d });
    await waitAll(queue, dsJobs.map((d) => jobId('dataset', out, d.id)), () => stopping, pollMs, (id, o) => {
      const d = dsJobs.find((x) => jobId('dataset', out, x.id) === id)!;
      const v = o.state === 'completed' ? (o.value as { ok: boolean; error?: string } | undefined) : undefined;
      if (o.state === 'failed') dsFailed.set(d.id, o.reason);
      else if (v && !v.ok) dsFailed.set(d.id, v.error ?? 'failed');
    });
    const runnable: Cell[] = [];
    for (const c of cells) {
      const err = c.dataset ? dsFailed.get(c.dataset.id) : undefined;
      if (err) {
        markFailed(out, c, `dataset ${c.dataset!.id} failed: ${err}`);
        failed++;
      } else runnable.push(c);
    }
    if (!stopping) for (const c of runnable) await enqueue(queue, jobId('cell', out, c.id), { type: 'cell', out, cell: c });
    if (opts.progress && !stopping) console.error(`[bench] ${runnable.length} cells queued on ${opts.queueName ?? DEFAULT_QUEUE} at ${opts.url}; start workers with \`pbrl worker --queue ${opts.url}\``);
    await waitAll(queue, runnable.map((c) => jobId('cell', out, c.id)), () => stopping, pollMs, (id, o) => {
      const c = runnable.find((x) => jobId('cell', out, x.id) === id)!;
      if (o.state === 'failed') {
        // The job ran out of attempts (workers lost again and again, or no access to the results).
        markFailed(out, c, `queue job failed: ${o.reason}`);
        failed++;
      } else if ((o.value as CellStatus | undefined)?.state === 'done') done++;
      else failed++;
    });
    if (stopping && opts.progress) console.error('\n[bench] stopped waiting; the jobs stay queued and workers go on. `bench run` again (same --out) keeps watching; `bench status` shows progress.');
  } finally {
    clearInterval(timer);
    view.refresh();
    view.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await queue.close();
  }
  return { done, failed, interrupted: stopping };
}
