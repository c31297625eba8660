/**
 * No worker outlives its trainer: a parent process (fixtures/pool-parent.ts) starts a pool and then
 * is terminated, interrupted, killed outright, exits without closing the pool, or throws.
 */
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { isAlive, waitUntil } from './helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'pool-parent.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Started {
  child: ChildProcess;
  info: { pid: number; workers: number[] };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Starts the fixture directly under node (no tsx CLI in between, so signals reach it). */
function startParent(mode: string, workers = 1): Promise<Started> {
  const child = spawn(process.execPath, ['--import', TSX, FIXTURE, mode, String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, info: JSON.parse(out.slice(0, nl)), exited, stderr: () => err });
    });
    void exited.then((e) => reject(new Error(`parent (${mode}) exited early: ${JSON.stringify(e)}\n${err}`)));
  });
}

describe('no orphan workers', () => {
  it('workers die with their parent however it ends', async () => {
    // Start all parents at once: each start costs a few seconds of process and WASM start-up.
    const [term, int, kill, exit, thrown] = await Promise.all([
      startParent('wait'),
      startParent('wait'),
      startParent('wait'),
      startParent('exit'),
      startParent('throw'),
    ]);
    const all = [term, int, kill, exit, thrown];
    for (const p of all) expect(p.info.workers.every((w) => w > 0 && w !== p.info.pid)).toBe(true);


    term.child.kill('SIGTERM');
    int.child.kill('SIGINT');
    kill.child.kill('SIGKILL');

    // The parents end the way they would have without a pool: by the signal, or with their exit code.
    expect(await term.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await int.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(await kill.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await exit.exited).code).toBe(0);
    expect((await thrown.exited).code).toBe(1);
    expect(thrown.stderr()).toMatch(/trainer crashed on purpose/);

    const modes = ['SIGTERM', 'SIGINT', 'SIGKILL', 'exit', 'throw'];
    const workers = all.flatMap((p, k) => p.info.workers.map((pid) => ({ pid, parentEnded: modes[k] })));
    // SIGKILL gives the parent no chance to clean up: that worker notices its IPC channel closing.
    // The wait is generous because this 2-core machine is shared; a leak would never end.
    await waitUntil(() => workers.every((w) => !isAlive(w.pid)), 30_000);
    expect(workers.filter((w) => isAlive(w.pid))).toEqual([]);
    // Nor their ipc socket files (the SIGKILLed parent's workers remove their own).
    const leftovers = readdirSync(tmpdir()).filter((f) => all.some((p) => f.startsWith(`pbrl-${p.info.pid}-`)));
    expect(leftovers).toEqual([]);
  });
});
