/** Shared bits of the remote tests: private ipc endpoints, liveness of processes, python detection. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

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

/** Debian's interpreter, where CI installs python3-zmq and python3-numpy (not the pyenv one on PATH). */
export const PYTHON = '/usr/bin/python3';

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
