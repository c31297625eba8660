/**
 * The results directory of a suite (a contract with experiments/report):
 *
 *   <out>/suite.json                 the resolved suite: name, description, smokeScale, axes, cells [ids], ...
 *   <out>/cells/<id>/                one cell (experiments/bench/cell.ts)
 *   <out>/datasets/<id>.pbrlds       offline datasets shared by the cells on them, with <id>.log
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/serialize.js';
import { BUILTIN_SUITES } from './builtin.js';
import { cellDir, prepareCell, readStatus } from './cell.js';
import { expandSuite, parseSuite, suiteJson, type Cell, type Plan } from './suite.js';

/** A built-in suite's name or a JSON file's path, parsed and expanded; errors name the field. */
export function loadPlan(suiteArg: string): Plan {
  const builtin = BUILTIN_SUITES[suiteArg];
  if (builtin) return expandSuite(parseSuite(builtin, `built-in suite "${suiteArg}"`));
  if (!existsSync(suiteArg)) {
    throw new Error(`--suite "${suiteArg}" is neither a built-in suite (${Object.keys(BUILTIN_SUITES).join(', ')}) nor a file`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(suiteArg, 'utf8'));
  } catch (e) {
    throw new Error(`${suiteArg} is not valid JSON: ${(e as Error).message}`);
  }
  return expandSuite(parseSuite(raw, `suite file ${suiteArg}`));
}

/**
 * Writes suite.json and every cell.json before anything runs, so a conflict with an existing cell
 * is found up front. Returns the cells still to run (not done).
 */
export function prepareResults(out: string, plan: Plan, opts: { skipFailed?: boolean } = {}): { pending: Cell[]; done: number; failed: number; stale: string[] } {
  mkdirSync(join(out, 'cells'), { recursive: true });
  for (const c of plan.cells) prepareCell(out, c);
  const ids = new Set(plan.cells.map((c) => c.id));
  const stale = readdirSync(join(out, 'cells')).filter((d) => !ids.has(d) && existsSync(join(out, 'cells', d, 'cell.json')));
  writeFileAtomic(join(out, 'suite.json'), JSON.stringify(suiteJson(plan), null, 2));
  let done = 0;
  let failed = 0;
  const pending: Cell[] = [];
  for (const c of plan.cells) {
    const s = readStatus(cellDir(out, c.id));
    if (s?.state === 'done') done++;
    else if (s?.state === 'failed' && opts.skipFailed) failed++;
    else pending.push(c);
  }
  return { pending, done, failed, stale };
}

/** The plan recorded in a results directory (for `bench status` / workers). */
export function readPlanFromResults(out: string): { suite: Record<string, unknown>; cells: Cell[] } {
  const p = join(out, 'suite.json');
  if (!existsSync(p)) throw new Error(`${out} has no suite.json: not a bench results directory (make one with \`pbrl bench run\`)`);
  const suite = JSON.parse(readFileSync(p, 'utf8')) as { cells: string[] } & Record<string, unknown>;
  const cells = suite.cells.map((id) => JSON.parse(readFileSync(join(cellDir(out, id), 'cell.json'), 'utf8')) as Cell);
  return { suite, cells };
}

/**
 * One local executor per results directory: two would run the same cells into the same folders.
 * The lock names its process; a lock left by a process that no longer exists is taken over.
 */
export function lockResults(out: string): () => void {
  const p = join(out, '.bench-lock');
  mkdirSync(out, { recursive: true });
  if (existsSync(p)) {
    let holder: { pid: number; host: string } | null = null;
    try {
      holder = JSON.parse(readFileSync(p, 'utf8'));
    } catch {
      // unreadable: treat as stale
    }
    if (holder && holder.host === hostname() && holder.pid !== process.pid && pidAlive(holder.pid)) {
      throw new Error(`another \`pbrl bench run\` (pid ${holder.pid}) is running cells in ${out}; wait for it or stop it (Ctrl-C) first`);
    }
  }
  writeFileSync(p, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
  return () => rmSync(p, { force: true });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
