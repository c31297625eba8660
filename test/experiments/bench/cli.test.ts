/** `pbrl bench` as a user runs it: refusals before anything runs, Ctrl-C, resume on the next run, status. */
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tinySuite } from './helpers.js';

const ROOT = join(__dirname, '..', '..', '..');
const run = promisify(execFile);
const pbrl = (args: string[]) => run(process.execPath, ['bin/pbrl.js', ...args], { cwd: ROOT, timeout: 120_000 });

describe('pbrl bench (CLI)', () => {
  it('refuses a bad suite file before anything runs, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbrl-bench-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...tinySuite('bad'), axes: { algo: ['sac'], task: ['reach'], seed: [0], teacher: ['oracle', 'telepath'] } }));
    await expect(pbrl(['bench', 'run', '--suite', file, '--out', join(dir, 'out')])).rejects.toThrow(/axes\.teacher\.1: unknown or invalid teacher "telepath"/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  }, 60_000);

  it('stops cleanly on SIGINT and the next run resumes the interrupted cells', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbrl-bench-cli-'));
    const file = join(dir, 'tiny.json');
    writeFileSync(file, JSON.stringify(tinySuite('tiny-cli', { steps: 1500 })));
    const out = join(dir, 'out');
    const child = spawn(process.execPath, ['bin/pbrl.js', 'bench', 'run', '--suite', file, '--out', out, '--jobs', '2', '--no-report'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout!.on('data', (d) => (text += String(d)));
    child.stderr!.on('data', (d) => (text += String(d)));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Ctrl-C once both cells have checkpointed.
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const tick = setInterval(() => {
        const cells = existsSync(join(out, 'cells')) ? readdirSync(join(out, 'cells')) : [];
        if (cells.length === 2 && cells.every((c) => existsSync(join(out, 'cells', c, 'checkpoint', 'trainer.json')))) {
          clearInterval(tick);
          child.kill('SIGINT');
          resolve();
        } else if (Date.now() - t0 > 90_000) {
          clearInterval(tick);
          reject(new Error(`no checkpoints after 90 s:\n${text}`));
        }
      }, 25);
    });
    expect(await exited).toBe(130);
    expect(text).toMatch(/resume with: pbrl bench run --suite/);
    const { stdout: status } = await pbrl(['bench', 'status', out]);
    expect(status).toMatch(/2 cells — done 0, running 0, failed 0, interrupted 2, left 0/);

    const { stdout } = await pbrl(['bench', 'run', '--suite', file, '--out', out, '--no-report', '--no-progress']);
    expect(stdout).toMatch(/2 cells, 0 done, 2 to run/);
    expect(stdout).toMatch(/2 cells done, 0 failed this run/);
    for (const c of readdirSync(join(out, 'cells'))) {
      const st = JSON.parse(readFileSync(join(out, 'cells', c, 'status.json'), 'utf8'));
      expect(st).toMatchObject({ state: 'done', envSteps: 1500, attempts: 2 });
      expect(readFileSync(join(out, 'cells', c, 'log.txt'), 'utf8')).toMatch(/=== attempt 2 \(resume from step \d+\)/);
    }
    // Nothing left to do: a third run skips every cell.
    const { stdout: third } = await pbrl(['bench', 'run', '--suite', file, '--out', out, '--no-report', '--no-progress']);
    expect(third).toMatch(/2 cells, 2 done, 0 to run/);
  }, 180_000);
});
