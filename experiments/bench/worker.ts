/**
 * The queue worker behind `pbrl worker`: takes cell and dataset jobs from BullMQ and runs each with
 * cell.ts, the local executor's code, writing into the shared results directory the job names.
 *
 * A worker that dies (SIGKILL, lost machine) stops renewing its jobs' locks; after lockDuration
 * another worker's stalled-job check moves the job back to the queue and a worker takes it over:
 * the cell resumes from its last checkpoint (its status.json counts the attempt). The dead worker's
 * training child notices its parent is gone (child.mjs) and ends, so two processes never write one
 * cell.
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import { runCell, runDataset } from './cell.js';
import { connectionFor, DEFAULT_QUEUE, ready, type JobData } from './executors/queue.js';

export interface WorkerOptions {
  url: string;
  queueName?: string;
  concurrency: number;
  name?: string;
  /** ms a job's lock lasts without renewal (BullMQ lockDuration): how soon a dead worker's job is taken over. */
  lockDuration?: number;
  /** ms between stalled-job checks. */
  stalledInterval?: number;
  log?: (msg: string) => void;
}

export interface RunningWorker {
  name: string;
  /** Stops taking jobs, interrupts running cells (they checkpoint) and waits for them. */
  close(): Promise<void>;
  worker: Worker;
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const name = opts.name ?? `${hostname()}:${process.pid}`;
  const log = opts.log ?? ((m: string) => console.log(`[worker ${name}] ${m}`));
  const children = new Set<ChildProcess>();
  let closing = false;
  const track = {
    worker: name,
    onChild: (c: ChildProcess) => {
      children.add(c);
      c.on('exit', () => children.delete(c));
      if (closing) c.kill('SIGINT');
    },
  };
  const processor = async (job: Job<JobData>) => {
    const d = job.data;
    if (d.type === 'dataset') {
      log(`dataset ${d.dataset.id} (attempt ${job.attemptsMade + 1})`);
      const r = await runDataset(d.out, d.dataset, track);
      if (!r.ok && closing) throw new Error('interrupted: the worker is closing');
      return r;
    }
    log(`cell ${d.cell.id} (attempt ${job.attemptsMade + 1})`);
    const s = await runCell(d.out, d.cell, track);
    log(`cell ${d.cell.id}: ${s.state}${s.interrupted ? ' (interrupted)' : ''} after ${s.wallSeconds.toFixed(1)} s`);
    // Thrown so the job goes back to the queue; the next attempt resumes from the checkpoint.
    if (s.interrupted) throw new Error('interrupted: the worker is closing; the cell resumes from its checkpoint');
    return s;
  };
  const worker = new Worker<JobData>(opts.queueName ?? DEFAULT_QUEUE, processor, {
    connection: connectionFor(opts.url),
    concurrency: opts.concurrency,
    lockDuration: opts.lockDuration ?? 30_000,
    stalledInterval: opts.stalledInterval ?? 30_000,
    // A job may be taken over a few times (several lost workers) before it is failed.
    maxStalledCount: 3,
    autorun: true,
  });
  worker.on('error', (e) => log(`error: ${e.message}`));
  worker.on('stalled', (id) => log(`job ${id} stalled (its worker died); taking it over`));
  try {
    await ready(worker, opts.url);
  } catch (e) {
    await worker.close(true).catch(() => {});
    throw e;
  }
  log(`waiting for jobs on ${opts.queueName ?? DEFAULT_QUEUE} (concurrency ${opts.concurrency})`);
  return {
    name,
    worker,
    close: async () => {
      closing = true;
      for (const c of children) c.kill('SIGINT');
      await worker.close();
    },
  };
}
