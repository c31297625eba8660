/**
 * `pbrl bench`: benchmark suites — a grid of `pbrl train` runs across algorithms, tasks, seeds,
 * budgets and teachers — run locally or on many machines (BullMQ on Redis), then a report.
 *   run     expand a suite into cells and run the ones not done (resuming interrupted ones)
 *   status  done / running / failed / left and an ETA, from a results directory
 *   report  report.html, summary.csv, summary.json, figures/*.svg (experiments/report)
 *   list    the built-in suites and what each runs
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILTIN_SUITES } from '../bench/builtin.js';
import { cellDir, readStatus } from '../bench/cell.js';
import { runLocal, type ExecResult } from '../bench/executors/local.js';
import { cellLabel, cellProgress, formatEta } from '../bench/progress.js';
import { loadPlan, lockResults, prepareResults, readPlanFromResults } from '../bench/results.js';
import { expandSuite, parseSuite } from '../bench/suite.js';

function posInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got "${v}"`);
  return n;
}

interface ReportOpts {
  reps?: number;
  seed?: number;
  out?: string;
}

/**
 * experiments/report is written alongside this runner; it is loaded when asked for, so a missing or
 * broken report never stops cells from running.
 */
async function makeReport(dir: string, opts: ReportOpts): Promise<boolean> {
  let mod: { writeReport?: (d: string, o?: ReportOpts) => Promise<{ html: string; csv: string; json: string; figures: string[] }> };
  try {
    mod = await import('../report/index.js');
  } catch (e) {
    console.error(`pbrl bench report: the report module (experiments/report/index.ts) could not be loaded: ${(e as Error).message}`);
    return false;
  }
  if (typeof mod.writeReport !== 'function') {
    console.error('pbrl bench report: experiments/report/index.ts does not export writeReport(resultsDir, opts) yet; the results are in place, run `pbrl bench report` once it does');
    return false;
  }
  let r: { html: string; csv: string; json: string; figures: string[] };
  try {
    r = await mod.writeReport(dir, opts);
  } catch (e) {
    console.error(`pbrl bench report: the report failed (the results are intact; \`pbrl bench report ${dir}\` retries): ${(e as Error).message}`);
    if (process.env.PBRL_DEBUG) console.error(e);
    return false;
  }
  console.log(`report: ${r.html}\n        ${r.csv}\n        ${r.json}\n        ${r.figures.length} figures (SVG) beside them`);
  return true;
}

export function register(program: Command): void {
  const bench = program
    .command('bench')
    .description('benchmark suites: grids of training runs over algorithms x tasks x seeds x budgets x teachers, run locally or on a Redis queue, and their report')
    .addHelpText('after', [
      '', 'Examples:',
      '  pbrl bench list',
      '  pbrl bench run --suite quick --out results/quick',
      '  pbrl bench run --suite my-suite.json --out results/x --jobs 2',
      '  pbrl bench status results/x',
      '  pbrl bench report results/x',
      '  pbrl bench run --suite bpref --out /shared/results/bpref --queue redis://host:6379   # then on each machine:',
      '  pbrl worker --queue redis://host:6379 --concurrency 2',
      '', 'Suites, cells and the results layout: experiments/README.md',
    ].join('\n'));

  bench
    .command('run')
    .description('run a suite: every cell not yet done, resuming interrupted ones from their checkpoints; then write the report')
    .requiredOption('--suite <name|file>', `a built-in suite (${Object.keys(BUILTIN_SUITES).join(', ')}) or a suite JSON file`)
    .requiredOption('--out <dir>', 'results directory (reruns with the same --out skip finished cells)')
    .option('--jobs <n>', 'cells at once on this machine, one BLAS thread each (default: number of cores)')
    .option('--queue <redis-url>', 'enqueue the cells on BullMQ at this Redis instead of running them here; `pbrl worker` runs them (the results directory must be shared, at the same path)')
    .option('--queue-name <name>', 'BullMQ queue name', 'pbrl-bench')
    .option('--skip-failed', 'leave failed cells as they are (default: run them again)')
    .option('--dry-run', 'print the cells and exit without running anything')
    .option('--no-report', 'do not write the report at the end')
    .option('--no-progress', 'no progress display')
    .addHelpText('after', [
      '', 'A cell is one `pbrl train` run directory named <algo>-<task>-s<seed>-<hash of its resolved config>: a changed config is a new',
      'cell, never an overwrite. Ctrl-C stops cleanly (cells checkpoint at their next episode end); the next run resumes.',
      '', 'Examples:',
      '  pbrl bench run --suite quick --out results/quick',
      '  pbrl bench run --suite offline-cpl-reduced --out results/cpl --jobs 2     # trains a behaviour SAC per task first',
      '  pbrl bench run --suite quick --out results/quick --dry-run',
      '  pbrl bench run --suite bpref --out /nfs/results/bpref --queue redis://10.0.0.5:6379',
    ].join('\n'))
    .action(async (opts: { suite: string; out: string; jobs?: string; queue?: string; queueName: string; skipFailed?: boolean; dryRun?: boolean; report: boolean; progress: boolean }) => {
      const jobs = posInt('jobs', opts.jobs, availableParallelism());
      const plan = loadPlan(opts.suite);
      if (opts.dryRun) {
        console.log(`suite ${plan.suite.name}: ${plan.cells.length} cells${plan.datasets.length ? `, ${plan.datasets.length} datasets` : ''}${plan.suite.smokeScale ? ' (smoke-scale)' : ''}`);
        for (const r of plan.sacRuns) console.log(`  behaviour SAC ${r.path}  ${r.task}  ${r.trainConfig.steps} env steps (trained first, unless <out>/${r.path} has finished)`);
        for (const c of plan.cells) console.log(`  ${c.id}  ${cellLabel(c)}  ${c.trainConfig.steps} steps`);
        return;
      }
      const out = resolve(opts.out);
      // Local runs hold the directory for their duration; the queue coordinator writes no cell itself.
      const unlock = opts.queue ? null : lockResults(out);
      let prep: ReturnType<typeof prepareResults>;
      try {
        prep = prepareResults(out, plan, { skipFailed: opts.skipFailed });
      } catch (e) {
        unlock?.();
        throw e;
      }
      console.log(`suite ${plan.suite.name}${plan.suite.smokeScale ? ' (smoke-scale)' : ''}: ${plan.cells.length} cells, ${prep.done} done, ${prep.failed ? `${prep.failed} failed (skipped), ` : ''}${prep.pending.length} to run` +
        `${opts.queue ? ` on queue ${opts.queueName} at ${opts.queue}` : ` with ${jobs} at a time`}; results in ${out}`);
      if (prep.stale.length) console.log(`note: ${prep.stale.length} cell directories in ${join(out, 'cells')} are not part of this suite (another suite or an older config); they are kept and not reported`);
      let res: ExecResult = { done: 0, failed: 0, interrupted: false };
      const t0 = performance.now();
      if (!prep.pending.length) unlock?.();
      if (prep.pending.length) {
        if (opts.queue) {
          const { runQueue } = await import('../bench/executors/queue.js');
          res = await runQueue(out, plan, { url: opts.queue, queueName: opts.queueName, progress: opts.progress, cells: prep.pending });
        } else {
          try {
            res = await runLocal(out, plan, { jobs, progress: opts.progress, cells: prep.pending });
          } finally {
            unlock?.();
          }
        }
      }
      const secs = (performance.now() - t0) / 1000;
      console.log(`${res.interrupted ? 'stopped' : 'finished'} after ${formatEta(secs)}: ${res.done} cells done, ${res.failed} failed this run`);
      if (res.interrupted) {
        console.log(`resume with: pbrl bench run --suite ${opts.suite} --out ${opts.out}`);
        process.exitCode = 130;
        return;
      }
      if (opts.report && !(await makeReport(out, {}))) process.exitCode = 1;
      if (res.failed) process.exitCode = 1;
    });

  bench
    .command('status')
    .description('what a results directory holds: cells done / running / failed / left, with an ETA')
    .argument('<dir>', 'results directory (bench run --out)')
    .option('--cells', 'one line per cell')
    .option('--json', 'machine-readable')
    .action((dir: string, opts: { cells?: boolean; json?: boolean }) => {
      const { suite, cells } = readPlanFromResults(dir);
      const rows = cells.map((c) => {
        const s = readStatus(cellDir(dir, c.id));
        const p = cellProgress(cellDir(dir, c.id));
        const state = !s ? 'left' : s.state === 'running' && s.interrupted ? 'interrupted' : s.state;
        return { id: c.id, label: cellLabel(c), state, steps: Number(c.trainConfig.steps), step: s?.state === 'done' ? s.envSteps : p.step,
          lastSuccess: p.lastSuccess,
          wallSeconds: (s?.wallSeconds ?? 0) + (state === 'running' && s?.attemptStartedAt ? (Date.now() - Date.parse(s.attemptStartedAt)) / 1000 : 0), attempts: s?.attempts ?? 0, worker: s?.worker, error: s?.error };
      });
      const count = (st: string) => rows.filter((r) => r.state === st).length;
      // ETA from the speed of finished cells, spread over as many cells as are running now.
      const done = rows.filter((r) => r.state === 'done' && r.wallSeconds > 0);
      const secPerStep = done.length ? done.reduce((a, r) => a + r.wallSeconds, 0) / done.reduce((a, r) => a + r.steps, 0) : null;
      const remaining = rows.filter((r) => r.state !== 'done' && r.state !== 'failed').reduce((a, r) => a + r.steps - r.step, 0);
      const eta = secPerStep === null ? null : (remaining * secPerStep) / Math.max(1, count('running'));
      const summary = { suite: suite.name, total: rows.length, done: count('done'), running: count('running'), failed: count('failed'),
        interrupted: count('interrupted'), left: count('left'), etaSeconds: eta };
      if (opts.json) {
        console.log(JSON.stringify({ ...summary, cells: rows }, null, 2));
        return;
      }
      console.log(`suite ${suite.name}${suite.smokeScale ? ' (smoke-scale)' : ''}: ${summary.total} cells — done ${summary.done}, running ${summary.running}, failed ${summary.failed}, ` +
        `interrupted ${summary.interrupted}, left ${summary.left}; ETA ${formatEta(eta)}${eta !== null && !summary.running && remaining ? ' (with one cell at a time)' : ''}`);
      for (const r of rows) {
        if (!opts.cells && r.state !== 'failed' && r.state !== 'running') continue;
        console.log(`  ${r.state.padEnd(11)} ${r.label}  step ${r.step}/${r.steps}${r.lastSuccess === null ? '' : `  success ${r.lastSuccess.toFixed(2)}`}` +
          `  ${r.wallSeconds.toFixed(0)} s${r.attempts > 1 ? `  ${r.attempts} attempts` : ''}${r.worker ? `  on ${r.worker}` : ''}  (${r.id})`);
        if (r.state === 'failed' && r.error) console.log(`      ${r.error.split('\n').slice(-3).join('\n      ')}`);
      }
    });

  bench
    .command('report')
    .description('write report.html (self-contained), summary.csv, summary.json and figures/*.svg for a results directory')
    .argument('<dir>', 'results directory (bench run --out)')
    .option('--reps <n>', 'bootstrap resamples')
    .option('--seed <n>', 'bootstrap seed')
    .option('--out <dir>', 'where to write the report (default: the results directory)')
    .action(async (dir: string, opts: { reps?: string; seed?: string; out?: string }) => {
      readPlanFromResults(dir); // a clear error for a directory that is not a suite's results
      const o: ReportOpts = {};
      if (opts.reps) o.reps = posInt('reps', opts.reps, 0);
      if (opts.seed !== undefined) {
        const s = Number(opts.seed);
        if (!Number.isInteger(s) || s < 0) throw new Error(`--seed must be an integer >= 0, got "${opts.seed}"`);
        o.seed = s;
      }
      if (opts.out) o.out = opts.out;
      if (!(await makeReport(dir, o))) process.exitCode = 1;
    });

  bench
    .command('list')
    .description('the built-in suites and what each runs')
    .option('--json <name>', "print a built-in suite's spec as JSON (a starting point for a suite file)")
    .action((opts: { json?: string }) => {
      if (opts.json) {
        const s = BUILTIN_SUITES[opts.json];
        if (!s) throw new Error(`--json: no built-in suite "${opts.json}"; built-in: ${Object.keys(BUILTIN_SUITES).join(', ')}`);
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      for (const [name, spec] of Object.entries(BUILTIN_SUITES)) {
        const plan = expandSuite(parseSuite(spec, `built-in suite "${name}"`));
        const a = plan.suite.axes;
        console.log(`${name}${plan.suite.smokeScale ? ' (smoke-scale)' : ''}: ${plan.cells.length} cells${plan.datasets.length ? `, ${plan.datasets.length} datasets` : ''}, ${plan.suite.steps} steps each`);
        console.log(`  ${plan.suite.description}`);
        console.log(`  algo ${a.algo.join(', ')} | task ${a.task.join(', ')} | seeds ${a.seed.length}${a.teacher ? ` | teacher ${a.teacher.join(', ')}` : ''}` +
          `${a.feedback ? ` | feedback ${a.feedback.map((f) => (typeof f === 'number' ? f : `${f.maxFeedback}/${f.queriesPerRound}`)).join(', ')}` : ''}${a.data ? ` | data ${a.data.join(', ')}` : ''}`);
      }
    });
}
