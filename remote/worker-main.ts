/**
 * Entry point of one rollout worker process (forked by remote/workers.ts, or by the remote
 * benchmark to serve from another core): an EnvServer on the endpoint given in PBRL_WORKER_CONFIG.
 *
 * The worker lives only as long as its parent: when the IPC channel closes (parent exited, was killed
 * with SIGKILL, or crashed) it exits at once, so no worker outlives the process that started it.
 */
import { rmSync } from 'node:fs';
import { EnvServer } from './env-server.js';
import { loadServerCurve } from './curve-keys.js';

interface WorkerConfig {
  task: string;
  endpoint: string;
  numEnvs: number;
  maxPathLength?: number;
  goalObservable?: boolean;
  version?: 'v2' | 'v3';
  /** CURVE key folder (the remote benchmark measures encryption's cost; the pool itself uses ipc). */
  curveDir?: string;
}

if (!process.send) {
  console.error('remote/worker-main.ts is started by RolloutWorkers (child_process.fork), not by hand');
  process.exit(2);
}

const cfg = JSON.parse(process.env.PBRL_WORKER_CONFIG ?? '{}') as WorkerConfig;

/** Leaves no socket file behind when the parent could not clean up (it was SIGKILLed). */
function exitOrphaned(): never {
  try {
    if (cfg.endpoint?.startsWith('ipc://')) rmSync(cfg.endpoint.slice('ipc://'.length), { force: true });
  } finally {
    process.exit(0);
  }
}
process.on('disconnect', exitOrphaned);
// Second line of defence, should the channel's close go unnoticed: a re-parented worker is an orphan.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) exitOrphaned();
}, 1000).unref();
try {
  const server = new EnvServer({
    task: cfg.task,
    numEnvs: cfg.numEnvs,
    bind: cfg.endpoint,
    maxPathLength: cfg.maxPathLength,
    goalObservable: cfg.goalObservable,
    version: cfg.version,
    curve: cfg.curveDir ? loadServerCurve(cfg.curveDir) : undefined,
    log: (line) => process.stderr.write(`[pbrl worker ${process.pid}] ${line}\n`),
  });
  const endpoint = await server.start();
  process.send({ type: 'ready', endpoint, pid: process.pid });
} catch (err) {
  process.send({ type: 'error', message: (err as Error).message });
  process.exit(1);
}
