/**
 * `npm run perf -- remote [--task reach] [--seconds 2] [--no-python]`: env steps/s in-process vs over
 * ZeroMQ (ipc://, tcp://127.0.0.1 and tcp with CURVE encryption, 1 and 8 envs per request) from the
 * TS and the Python client, and through the rollout worker pool. The server runs in its own process, as `pbrl serve` would.
 * Every number is also given as a ratio to the in-process VectorEnv with the same env count, measured
 * in this run right before and after it (averaged), because this machine is shared and its load drifts.
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
import { RemoteConnection, RemoteVectorEnv } from '../remote/client.js';
import { EnvServer } from '../remote/env-server.js';
import { generateKeys, loadClientCurve, loadServerCurve } from '../remote/curve-keys.js';
import { RolloutWorkers } from '../remote/workers.js';
import { runTrainJobs } from './_runs.js';
import { fmt, table } from './_timing.js';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const PY_CLIENT = join(here, '..', 'remote', 'python', 'pbrl_client.py');
/** Untimed stepping before each measurement (time and count), so both sides are JIT-compiled. */
const WARMUP_MS = 500;
const WARMUP_REQUESTS = 200;
const warming = (k: number, t0: number) => k < WARMUP_REQUESTS || performance.now() - t0 < WARMUP_MS;

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
  for (let k = 0; warming(k, w0); k++) vec.step(bank[k % 64]);
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) vec.step(bank[steps++ % 64]);
  const rate = (steps * n) / ((performance.now() - t0) / 1000);
  vec.close();
  return rate;
}

async function tsClient(endpoint: string, task: string, n: number, seconds: number, keys?: string): Promise<number> {
  const env = await RemoteVectorEnv.open(endpoint, { task, numEnvs: n, timeoutMs: 30_000, curve: keys ? loadClientCurve(keys) : undefined });
  await env.reset(0);
  const bank = actionBank(n);
  const w0 = performance.now();
  for (let k = 0; warming(k, w0); k++) await env.step(bank[k % 64]);
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) await env.step(bank[steps++ % 64]);
  const rate = (steps * n) / ((performance.now() - t0) / 1000);
  await env.close();
  return rate;
}

function pyClient(endpoint: string, task: string, n: number, seconds: number, keys?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const keyArgs = keys ? ['--keys', keys] : [];
    const p = spawn(PYTHON, [PY_CLIENT, 'bench', '--endpoint', endpoint, '--task', task, '--num-envs', String(n), '--seconds', String(seconds), ...keyArgs], {
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
    for (let k = 0; warming(k, w0); k++) await pool.step(bank[k % 64]);
    let steps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) await pool.step(bank[steps++ % 64]);
    return (steps * n) / ((performance.now() - t0) / 1000);
  } finally {
    await pool.close();
  }
}

/** `pbrl serve` in a child process (the worker entry point is exactly that), on `bind`. */
async function startServer(task: string, bind: string, curveDir?: string): Promise<{ endpoint: string; child: ChildProcess }> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(join(here, '..', 'remote', 'worker-main.ts'), [], {
    execArgv: ['--import', tsx],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, PBRL_WORKER_CONFIG: JSON.stringify({ task, endpoint: bind, numEnvs: 1, curveDir }) },
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { type: string; endpoint?: string; message?: string }) =>
      m.type === 'ready' ? resolve(m.endpoint!) : reject(new Error(m.message)),
    );
    child.on('exit', (code) => reject(new Error(`server exited with code ${code}`)));
  });
  return { endpoint, child };
}

/**
 * CURVE's own cost, without the envs: `ping` round trips/s to a plain and a CURVE server (both in
 * this process, tcp loopback), alternated `rounds` times so load drift hits both alike.
 */
async function curvePingRates(keys: string, seconds: number, rounds = 3): Promise<{ plain: number[]; curve: number[] }> {
  const plain = new EnvServer({ task: 'reach', bind: 'tcp://127.0.0.1:0' });
  const secure = new EnvServer({ task: 'reach', bind: 'tcp://127.0.0.1:0', curve: loadServerCurve(keys) });
  const conns = [RemoteConnection.connect(await plain.start()), RemoteConnection.connect(await secure.start(), { curve: loadClientCurve(keys) })];
  const rate = async (c: RemoteConnection) => {
    const w0 = performance.now();
    for (let k = 0; warming(k, w0); k++) await c.request({ cmd: 'ping' });
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < (seconds * 1000) / 2) {
      await c.request({ cmd: 'ping' });
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const out = { plain: [] as number[], curve: [] as number[] };
  try {
    // Round -1 is discarded: right after the servers above exit, the first round ran ~30x slow.
    for (let r = -1; r < rounds; r++) {
      const plainRate = await rate(conns[0]);
      const curveRate = await rate(conns[1]);
      if (r < 0) continue;
      out.plain.push(plainRate);
      out.curve.push(curveRate);
    }
  } finally {
    conns.forEach((c) => c.close());
    await plain.close();
    await secure.close();
  }
  return out;
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
  inProcess(task, 8, 1); // warms up the JIT before the first baseline

  console.log(`remote benchmark: task ${task}, ${seconds} s per measurement, random actions, resets included`);
  console.log('each remote number is divided by an in-process run with the same env count measured right before and after it');
  // The machine is shared: load drifts over a run, so each measurement gets its own bracketing baseline.
  const bracket = async (n: number, measure: () => Promise<number>) => {
    const before = inProcess(task, n, seconds / 2);
    const rate = await measure();
    const after = inProcess(task, n, seconds / 2);
    return { rate, base: (before + after) / 2, drift: Math.abs(before - after) / Math.max(before, after) };
  };

  const dir = mkdtempSync(join(tmpdir(), 'pbrl-bench-'));
  const rows: { how: string; transport: string; n: number; rate: number; base: number; drift: number }[] = [];
  let pings: { plain: number[]; curve: number[] } | null = null;
  const servers: ChildProcess[] = [];
  const keys = join(dir, 'keys');
  generateKeys(keys);
  try {
    for (const [transport, bind, curve] of [
      ['ipc', `ipc://${join(dir, 'bench.sock')}`, undefined],
      ['tcp', 'tcp://127.0.0.1:0', undefined],
      ['tcp+curve', 'tcp://127.0.0.1:0', keys],
    ] as const) {
      const { endpoint, child } = await startServer(task, bind, curve);
      servers.push(child);
      for (const n of [1, 8]) {
        rows.push({ how: 'TS client', transport, n, ...(await bracket(n, () => tsClient(endpoint, task, n, seconds, curve))) });
        if (withPython) rows.push({ how: 'Python client', transport, n, ...(await bracket(n, () => pyClient(endpoint, task, n, seconds, curve))) });
      }
      child.kill('SIGTERM');
    }
    for (const w of [1, 2]) {
      rows.push({ how: `worker pool, ${w} worker(s)`, transport: 'ipc', n: 8, ...(await bracket(8, () => poolRate(task, 8, w, seconds))) });
    }
    pings = await curvePingRates(keys, seconds);
  } finally {
    for (const c of servers) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }

  const out: (string | number)[][] = [['how', 'transport', 'envs/request', 'env steps/s', 'in-process steps/s', 'x in-process', 'baseline drift']];
  for (const r of rows) out.push([r.how, r.transport, r.n, fmt(r.rate, 0), fmt(r.base, 0), fmt(r.rate / r.base), `${fmt(100 * r.drift, 0)}%`]);
  console.log(table(out));
  if (!withPython) console.log(`(Python client skipped: ${args.includes('--no-python') ? '--no-python' : `${PYTHON} lacks zmq or numpy`})`);
  console.log('reference: Python Meta-World on MuJoCo, one env: ~400-450 env steps/s');
  if (pings) {
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `CURVE's own cost (TS client, ping round trips/s, tcp loopback, server in this process, ${pings.plain.length} alternating rounds): ` +
        `plain ${pings.plain.map((x) => fmt(x, 0)).join(' / ')}, CURVE ${pings.curve.map((x) => fmt(x, 0)).join(' / ')}; ` +
        `median ratio CURVE/plain ${fmt(mid(pings.curve) / mid(pings.plain))}`,
    );
  }

  // `pbrl train` wall time with the env stepped in-process vs in one worker process (overlapping the
  // learner's updates). Same SAC run length and sizes; --no-train skips it.
  if (!args.includes('--no-train')) {
    const steps = arg(args, 'train-steps', '3000');
    const root = mkdtempSync(join(tmpdir(), 'pbrl-bench-train-'));
    const common = ['--algo', 'sac', '--task', task, '--steps', steps, '--seed-steps', '500', '--eval-every', steps, '--eval-episodes', '1'];
    const walls = await runTrainJobs([0, 1].map((w) => ({ name: `workers ${w}`, out: join(root, `w${w}`), args: [...common, '--workers', String(w)] })), 1);
    rmSync(root, { recursive: true, force: true });
    console.log(`pbrl train (SAC, ${steps} steps, 3x256, batch 512): --workers 0 ${fmt(walls['workers 0'], 1)} s, --workers 1 ${fmt(walls['workers 1'], 1)} s ` +
      `(${fmt(walls['workers 0'] / walls['workers 1'])}x)`);
  }
}
