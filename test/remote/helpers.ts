/** Shared bits of the remote tests: private ipc endpoints, liveness of processes, python detection. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

/** A fresh ipc:// endpoint in its own temp folder, so parallel test files never collide. */
export function ipcEndpoint(name: string): { endpoint: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pbrl-remote-test-'));
  return { endpoint: `ipc://${join(dir, `${name}.sock`)}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Whether a pid is a running process (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/**
 * Debian's interpreter, where CI installs python3-zmq and python3-numpy (not the pyenv one on PATH).
 * PBRL_PYTHON points the tests at another one, e.g. a venv with gymnasium on top of Debian's packages.
 */
export const PYTHON = process.env.PBRL_PYTHON || '/usr/bin/python3';

/** Whether PYTHON can import gymnasium (optional: the tests that need it skip, saying why). */
export function pythonHasGymnasium(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import gymnasium'], { encoding: 'utf8' });
  return r.status === 0;
}

export function pythonHasZmq(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import zmq, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

/** Live child processes of `pid`, read from /proc (no dependency on ps). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && isAlive(Number(name))) out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The Python client, importable as `pbrl_client` once its folder is on PYTHONPATH (runPython does that). */
export const PY_CLIENT = join(import.meta.dirname, '..', '..', 'remote', 'python', 'pbrl_client.py');

/** Runs PYTHON asynchronously (a server in the test process must keep answering meanwhile). */
export function runPython(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONPATH: join(PY_CLIENT, '..') } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}
