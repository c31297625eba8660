/**
 * The local executor on a tiny suite: files of the results layout, a failing cell that does not stop
 * the others, reruns that skip finished cells, an interrupted cell resumed from its checkpoint to the
 * same numbers, and a changed cell directory that is refused rather than overwritten.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellDir, readStatus, runCell } from '../../../experiments/bench/cell.js';
import { runLocal } from '../../../experiments/bench/executors/local.js';
import { lockResults, prepareResults } from '../../../experiments/bench/results.js';
import { canonicalJson, expandSuite, parseSuite } from '../../../experiments/bench/suite.js';
import { deterministicMetrics, tinySuite } from './helpers.js';

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('local executor', () => {
  it('runs a suite, records a failing cell with its log, and skips finished cells on a rerun', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pbrl-bench-local-'));
    // SAC with a human labeler passes the schema but `pbrl train` refuses it at start: a cell that fails.
    const plan = expandSuite(parseSuite(tinySuite('tiny-local', {
      axes: { algo: ['sac'], task: ['reach', 'push'], seed: [0, 1] },
      taskConfig: { push: { human: {} } },
    })));
    const prep = prepareResults(out, plan);
    expect(prep.pending).toHaveLength(4);
    const res = await runLocal(out, plan, { jobs: 2, progress: false, cells: prep.pending });
    expect(res).toEqual({ done: 2, failed: 2, interrupted: false });

    const suite = json(join(out, 'suite.json'));
    expect(suite).toMatchObject({ name: 'tiny-local', smokeScale: true, axes: { algo: ['sac'], task: ['reach', 'push'], seed: [0, 1] } });
    expect(new Set(suite.cells)).toEqual(new Set(plan.cells.map((c) => c.id)));
    for (const c of plan.cells) {
      const dir = cellDir(out, c.id);
      const cell = json(join(dir, 'cell.json'));
      expect(cell).toMatchObject({ id: c.id, suite: 'tiny-local', group: 'sac', axes: { algo: 'sac', task: c.axes.task, seed: c.axes.seed } });
      const st = readStatus(dir)!;
      if (c.axes.task === 'reach') {
        expect(st).toMatchObject({ state: 'done', envSteps: 300, attempts: 1 });
        expect(st.wallSeconds).toBeGreaterThan(0);
        // The config `pbrl train` resolved and wrote is the one the cell's id was computed from.
        expect(canonicalJson(json(join(dir, 'config.json')).config)).toBe(canonicalJson(cell.trainConfig));
        expect(deterministicMetrics(dir).filter((r) => 'eval_success' in r).map((r) => r.step)).toEqual([100, 200, 300]);
        expect(existsSync(join(dir, 'checkpoint', 'trainer.json'))).toBe(true);
      } else {
        expect(st).toMatchObject({ state: 'failed', attempts: 1 });
        expect(st.error).toMatch(/--teacher human needs --algo pebble or surf/);
        expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toMatch(/--teacher human needs --algo pebble or surf/);
      }
    }

    const doneStatus = plan.cells.filter((c) => c.axes.task === 'reach').map((c) => readFileSync(join(cellDir(out, c.id), 'status.json'), 'utf8'));
    const again = prepareResults(out, plan, { skipFailed: true });
    expect(again).toMatchObject({ pending: [], done: 2, failed: 2 });
    // Without --skip-failed only the failed cells run again; the finished ones are not touched.
    const retry = prepareResults(out, plan);
    expect(retry.pending.map((c) => c.axes.task)).toEqual(['push', 'push']);
    await runLocal(out, plan, { jobs: 2, progress: false, cells: retry.pending });
    expect(plan.cells.filter((c) => c.axes.task === 'reach').map((c) => readFileSync(join(cellDir(out, c.id), 'status.json'), 'utf8'))).toEqual(doneStatus);
    expect(plan.cells.filter((c) => c.axes.task === 'push').map((c) => readStatus(cellDir(out, c.id))!.attempts)).toEqual([2, 2]);

    // A cell directory whose config no longer matches its id is left alone, and the run refused.
    const victim = cellDir(out, plan.cells[0].id);
    const edited = json(join(victim, 'cell.json'));
    edited.trainConfig.steps = 999;
    writeFileSync(join(victim, 'cell.json'), JSON.stringify(edited));
    expect(() => prepareResults(out, plan)).toThrow(/holds a different config than cell .* it is left untouched/);
    expect(json(join(victim, 'cell.json')).trainConfig.steps).toBe(999);
  }, 120_000);

  it('resumes an interrupted cell from its checkpoint to the numbers of an uninterrupted run', async () => {
    const plan = expandSuite(parseSuite(tinySuite('tiny-resume', { axes: { algo: ['sac'], task: ['reach'], seed: [3] }, steps: 1000 })));
    const cell = plan.cells[0];
    const a = mkdtempSync(join(tmpdir(), 'pbrl-bench-resume-'));
    const b = mkdtempSync(join(tmpdir(), 'pbrl-bench-ref-'));
    prepareResults(a, plan);
    prepareResults(b, plan);
    const dir = cellDir(a, cell.id);
    // Ctrl-C as the executor forwards it: one SIGINT once the first checkpoint exists.
    const [first, ref] = await Promise.all([
      runCell(a, cell, {
        onChild: (child) => {
          const poll = setInterval(() => {
            if (existsSync(join(dir, 'checkpoint', 'trainer.json'))) {
              clearInterval(poll);
              child.kill('SIGINT');
            }
          }, 20);
          child.on('exit', () => clearInterval(poll));
        },
      }),
      runCell(b, cell),
    ]);
    expect(first).toMatchObject({ state: 'running', interrupted: true, attempts: 1 });
    expect(first.envSteps).toBeGreaterThan(0);
    expect(first.envSteps).toBeLessThan(1000);
    const second = await runCell(a, cell);
    expect(second).toMatchObject({ state: 'done', envSteps: 1000, attempts: 2 });
    expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toMatch(new RegExp(`attempt 2 \\(resume from step ${first.envSteps}\\)`));
    expect(ref.state).toBe('done');
    expect(deterministicMetrics(dir)).toEqual(deterministicMetrics(cellDir(b, cell.id)));
  }, 120_000);

  it('lets one local executor at a time use a results directory', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pbrl-bench-lock-'));
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(join(out, '.bench-lock'), JSON.stringify({ pid: other.pid, host: hostname() }));
      expect(() => lockResults(out)).toThrow(new RegExp(`another \`pbrl bench run\` \\(pid ${other.pid}\\) is running cells in`));
    } finally {
      other.kill('SIGKILL');
    }
    await new Promise((r) => other.on('exit', r));
    // The holder is gone: its lock is stale and taken over, then released.
    const unlock = lockResults(out);
    expect(json(join(out, '.bench-lock')).pid).toBe(process.pid);
    unlock();
    expect(existsSync(join(out, '.bench-lock'))).toBe(false);
  });
});
