/**
 * The queue executor for real: a redis-server on 127.0.0.1 at a free port, two `pbrl worker`
 * processes, a tiny suite; one worker is SIGKILLed mid-cell. Every cell must complete exactly once
 * (the dead worker's job taken over and resumed from its checkpoint, its training child gone with
 * it) and every cell's metrics must equal a local run of the same cell.
 *
 * Needs the redis-server binary (Debian package, installed by scripts/setup.sh). Without it the test
 * is skipped with a message — except under PBRL_REQUIRE_REDIS=1 (CI), where it fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { cellDir, readStatus } from '../../../experiments/bench/cell.js';
import { runLocal } from '../../../experiments/bench/executors/local.js';
import { runQueue } from '../../../experiments/bench/executors/queue.js';
import { prepareResults } from '../../../experiments/bench/results.js';
import { expandSuite, parseSuite } from '../../../experiments/bench/suite.js';
import { deterministicMetrics, tinySuite } from './helpers.js';

const ROOT = join(__dirname, '..', '..', '..');
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis && process.env.PBRL_REQUIRE_REDIS === '1') {
  throw new Error('redis-server is missing but PBRL_REQUIRE_REDIS=1: install it (scripts/setup.sh does: apt-get install redis-server)');
}
if (!hasRedis) console.warn('SKIPPED test/experiments/bench/queue.test.ts: no redis-server binary (apt-get install redis-server, or run scripts/setup.sh)');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = setInterval(() => {
      if (cond()) {
        clearInterval(tick);
        resolve();
      } else if (Date.now() - t0 > ms) {
        clearInterval(tick);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 25);
  });
}

describe.skipIf(!hasRedis)('queue executor (BullMQ on redis-server)', () => {
  let redis: ChildProcess;
  let url = '';
  const workers: ChildProcess[] = [];
  const queueName = `pbrl-test-${process.pid}`;

  beforeAll(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let log = '';
    redis.stdout!.on('data', (d) => (log += String(d)));
    await waitFor(() => /Ready to accept connections/.test(log), 15_000, 'redis-server to start');
  });

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    redis?.kill('SIGTERM');
  });

  it('survives a SIGKILLed worker: every cell done once, metrics equal to a local run', async () => {
    const plan = expandSuite(parseSuite(tinySuite('tiny-queue', { axes: { algo: ['sac'], task: ['reach'], seed: [0, 1, 2] }, steps: 600 })));
    const out = mkdtempSync(join(tmpdir(), 'pbrl-bench-queue-'));
    const prep = prepareResults(out, plan);

    const startWorker = (name: string) => {
      const logs: string[] = [];
      const w = spawn(process.execPath, [join(ROOT, 'bin', 'pbrl.js'), 'worker', '--queue', url, '--queue-name', queueName, '--concurrency', '1',
        '--name', name, '--lock-duration', '2000', '--stalled-interval', '1000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      w.stdout!.on('data', (d) => logs.push(String(d)));
      w.stderr!.on('data', (d) => logs.push(String(d)));
      workers.push(w);
      return { w, logs };
    };
    const a = startWorker('worker-a');
    const b = startWorker('worker-b');
    await waitFor(() => a.logs.join('').includes('waiting for jobs') && b.logs.join('').includes('waiting for jobs'), 60_000, 'both workers');

    const coordinator = runQueue(out, plan, { url, queueName, progress: false, cells: prep.pending, pollMs: 200 });
    // Kill worker A once one of its cells has a checkpoint past the first updates and short of the end.
    // (Not the one at the last random-action step: resuming from a checkpoint taken before SAC's first
    // update differs from an uninterrupted run by ~1e-7 relative — a resume issue of agents/, not of
    // the queue; see experiments/README.md.)
    let victim = '';
    await waitFor(() => {
      for (const c of plan.cells) {
        const s = readStatus(cellDir(out, c.id));
        const ck = join(cellDir(out, c.id), 'checkpoint', 'trainer.json');
        if (s?.state !== 'running' || s.worker !== 'worker-a' || !existsSync(ck)) continue;
        let step = 0;
        try {
          step = (JSON.parse(readFileSync(ck, 'utf8')) as { step: number }).step;
        } catch {
          continue; // being replaced right now
        }
        if (step >= 200 && step < 600) {
          victim = c.id;
          return true;
        }
      }
      return false;
    }, 90_000, 'worker A to checkpoint a cell');
    a.w.kill('SIGKILL');
    const res = await coordinator;
    expect(res).toEqual({ done: 3, failed: 0, interrupted: false });

    const local = mkdtempSync(join(tmpdir(), 'pbrl-bench-queue-ref-'));
    const localPrep = prepareResults(local, plan);
    expect(await runLocal(local, plan, { jobs: 2, progress: false, cells: localPrep.pending })).toMatchObject({ done: 3, failed: 0 });

    for (const c of plan.cells) {
      const dir = cellDir(out, c.id);
      const st = readStatus(dir)!;
      const log = readFileSync(join(dir, 'log.txt'), 'utf8');
      expect(st.state, c.id).toBe('done');
      // The killed worker's training ended with it: one run of the cell reached the end.
      expect(log.match(/final eval:/g), c.id).toHaveLength(1);
      if (c.id === victim) {
        expect(st).toMatchObject({ attempts: 2, worker: 'worker-b' });
        expect(log).toMatch(/=== attempt 1 on worker-a[\s\S]*=== attempt 2 \(resume from step \d+\) on worker-b/);
      } else {
        expect(st.attempts, c.id).toBe(1);
      }
      expect(deterministicMetrics(dir), c.id).toEqual(deterministicMetrics(cellDir(local, c.id)));
    }
    const q = new Queue(queueName, { connection: { url, maxRetriesPerRequest: null } });
    expect(await q.getJobCounts('completed', 'failed', 'active', 'wait')).toEqual({ completed: 3, failed: 0, active: 0, wait: 0 });
    await q.close();
    b.w.kill('SIGTERM');
  }, 180_000);
});
