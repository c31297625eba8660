/**
 * `npm run bench -- remote [--task reach] [--seconds 2] [--no-python]`: env steps/s in-process vs over
 * ZeroMQ (ipc:// and tcp://127.0.0.1, 1 and 8 envs per request) from the TS and the Python client,
 * and through the rollout worker pool. The server runs in its own process, as `pbrl serve` would.
 * Every number is also given as a ratio to the in-process VectorEnv with the same env count, measured
 * in this run (before and after the remote runs, averaged), because this machine is shared and noisy.
 * For scale: the Python Meta-World env on MuJoCo runs ~400-450 env steps/s for one env.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VectorEnv } from '../envs/vector-env.js';
import { getTask } from '../envs/registry.js';
import { Rng } from '../core/rng.js';
import { RemoteVectorEnv } from '../remote/client.js';
import { RolloutWorkers } from '../remote/workers.js';
import { fmt, table } from './_timing.js';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const PY_CLIENT = join(here, '..', 'remote', 'python', 'pbrl_client.py');
/** Untimed stepping before each measurement, so both sides of a connection are JIT-compiled. */
const WARMUP_MS = 500;

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}

/** Random actions, pre-drawn so drawing them is not timed. */
function actionBank(n: number): Float32Array[] {
  const rng = new Rng(0);
  return Array.from({ length: 64 }, () => rng.fillUniform(new Float32Array(n * 4), -1, 1) as Float32Array);
}

function inProcess(task: string, n: number, seconds: number): number {
  const vec = new VectorEnv(Array.from({ length: n }, () => getTask(task).create()), 0);
  vec.reset();
  const bank = actionBank(n);
  const w0 = performance.now();
  for (let k = 0; performance.now() - w0 < WARMUP_MS; k++) vec.step(bank[k % 64]);
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) vec.step(bank[steps++ % 64]);
  const rate = (steps * n) / ((performance.now() - t0) / 1000);
  vec.close();
  return rate;
}

async function tsClient(endpoint: string, task: string, n: number, seconds: number): Promise<number> {
  const env = await RemoteVectorEnv.open(endpoint, { task, numEnvs: n, timeoutMs: 30_000 });
  await env.reset(0);
  const bank = actionBank(n);
  const w0 = performance.now();
  for (let k = 0; performance.now() - w0 < WARMUP_MS; k++) await env.step(bank[k % 64]);
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) await env.step(bank[steps++ % 64]);
  const rate = (steps * n) / ((performance.now() - t0) / 1000);
  await env.close();
  return rate;
}

function pyClient(endpoint: string, task: string, n: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, [PY_CLIENT, 'bench', '--endpoint', endpoint, '--task', task, '--num-envs', String(n), '--seconds', String(seconds)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`python client failed (${code}): ${err.trim()}`));
      else resolve(JSON.parse(out).env_steps_per_s);
    });
  });
}

async function poolRate(task: string, n: number, workers: number, seconds: number): Promise<number> {
  const pool = await RolloutWorkers.start({ task, numEnvs: n, workers, seed: 0 });
  try {
    await pool.reset();
    const bank = actionBank(n);
    const w0 = performance.now();
    for (let k = 0; performance.now() - w0 < WARMUP_MS; k++) await pool.step(bank[k % 64]);
    let steps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) await pool.step(bank[steps++ % 64]);
    return (steps * n) / ((performance.now() - t0) / 1000);
  } finally {
    await pool.close();
  }
}

/** `pbrl serve` in a child process (the worker entry point is exactly that), on `bind`. */
async function startServer(task: string, bind: string): Promise<{ endpoint: string; child: ChildProcess }> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(join(here, '..', 'remote', 'worker-main.ts'), [], {
    execArgv: ['--import', tsx],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, PBRL_WORKER_CONFIG: JSON.stringify({ task, endpoint: bind, numEnvs: 1 }) },
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { type: string; endpoint?: string; message?: string }) =>
      m.type === 'ready' ? resolve(m.endpoint!) : reject(new Error(m.message)),
    );
    child.on('exit', (code) => reject(new Error(`server exited with code ${code}`)));
  });
  return { endpoint, child };
}

function hasPython(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(PYTHON, ['-c', 'import zmq, numpy'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('close', (code) => resolve(code === 0));
  });
}

export async function main(args: string[]): Promise<void> {
  const task = arg(args, 'task', 'reach');
  const seconds = Number(arg(args, 'seconds', '2'));
  if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${arg(args, 'seconds', '')}`);
  const withPython = !args.includes('--no-python') && (await hasPython());
  await VectorEnv.make(task, 1); // loads Rapier and checks the task name

  console.log(`remote benchmark: task ${task}, ${seconds} s per measurement, random actions, resets included`);
  const base1a = inProcess(task, 1, seconds);
  const base8a = inProcess(task, 8, seconds);

  const dir = mkdtempSync(join(tmpdir(), 'pbrl-bench-'));
  const rows: { how: string; transport: string; n: number; rate: number }[] = [];
  const servers: ChildProcess[] = [];
  try {
    for (const [transport, bind] of [
      ['ipc', `ipc://${join(dir, 'bench.sock')}`],
      ['tcp', 'tcp://127.0.0.1:0'],
    ] as const) {
      const { endpoint, child } = await startServer(task, bind);
      servers.push(child);
      for (const n of [1, 8]) {
        rows.push({ how: 'TS client', transport, n, rate: await tsClient(endpoint, task, n, seconds) });
        if (withPython) rows.push({ how: 'Python client', transport, n, rate: await pyClient(endpoint, task, n, seconds) });
      }
      child.kill('SIGTERM');
    }
    for (const w of [1, 2]) rows.push({ how: `worker pool, ${w} worker(s)`, transport: 'ipc', n: 8, rate: await poolRate(task, 8, w, seconds) });
  } finally {
    for (const c of servers) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }

  const base1 = (base1a + inProcess(task, 1, seconds)) / 2;
  const base8 = (base8a + inProcess(task, 8, seconds)) / 2;
  const out: (string | number)[][] = [['how', 'transport', 'envs/request', 'env steps/s', 'x in-process']];
  out.push(['in-process SawyerEnv via VectorEnv', '-', 1, fmt(base1, 0), '1.00']);
  out.push(['in-process VectorEnv', '-', 8, fmt(base8, 0), '1.00']);
  for (const r of rows) out.push([r.how, r.transport, r.n, fmt(r.rate, 0), fmt(r.rate / (r.n === 1 ? base1 : base8))]);
  console.log(table(out));
  const spread = (a: number, b: number) => `${fmt((100 * Math.abs(a - b)) / Math.max(a, b), 0)}%`;
  console.log(`in-process baseline before vs after the remote runs differed by ${spread(base1a, 2 * base1 - base1a)} (1 env), ${spread(base8a, 2 * base8 - base8a)} (8 envs)`);
  if (!withPython) console.log(`(Python client skipped: ${args.includes('--no-python') ? '--no-python' : `${PYTHON} lacks zmq or numpy`})`);
  console.log('reference: Python Meta-World on MuJoCo, one env: ~400-450 env steps/s');
}
