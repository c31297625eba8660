/**
 * What a suite's cells are doing, read from the results directory alone (so `bench status`, the
 * local executor and the queue coordinator show the same thing): one overall bar — cells done /
 * running / failed, ETA from the speed measured so far — and one live line per running cell.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { MultiBar, type SingleBar } from 'cli-progress';
import { cellDir, readStatus, type CellStatus } from './cell.js';
import type { Cell } from './suite.js';

export interface CellProgress {
  step: number;
  lastSuccess: number | null;
}

/** Step reached and last evaluation success, from the last few KB of metrics.jsonl. */
export function cellProgress(dir: string): CellProgress {
  const p = join(dir, 'metrics.jsonl');
  const out: CellProgress = { step: 0, lastSuccess: null };
  if (!existsSync(p)) return out;
  const fd = openSync(p, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 16384);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    for (const l of lines.slice(size > len ? 1 : 0)) {
      try {
        const r = JSON.parse(l) as { step?: number; eval_success?: number };
        if (typeof r.step === 'number') out.step = Math.max(out.step, r.step);
        if (typeof r.eval_success === 'number') out.lastSuccess = r.eval_success;
      } catch {
        // partial line
      }
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

export interface Summary {
  total: number;
  done: number;
  failed: number;
  running: Cell[];
  /** Not started, or interrupted and waiting to resume. */
  left: number;
  /** Seconds, from the work done so far by this process's cells; null before there is a speed. */
  eta: number | null;
}

export function cellStatuses(out: string, cells: Cell[]): Map<string, CellStatus | null> {
  return new Map(cells.map((c) => [c.id, readStatus(cellDir(out, c.id))]));
}

/**
 * Throughput in steps/s over the cells this process watches. Steps of different cells are summed,
 * so the ETA assumes the remaining cells run at the average speed of those seen so far.
 */
export class EtaTracker {
  private readonly start = performance.now();
  private readonly startSteps = new Map<string, number>();

  constructor(private readonly out: string) {}

  update(cells: Cell[], statuses: Map<string, CellStatus | null>): number | null {
    let progressed = 0;
    let remaining = 0;
    for (const c of cells) {
      const steps = Number(c.trainConfig.steps);
      const s = statuses.get(c.id);
      const now = s?.state === 'done' ? steps
        : s?.state === 'running' && !s.interrupted ? cellProgress(cellDir(this.out, c.id)).step
          : (s?.envSteps ?? 0);
      // Cells already done when we started do not count towards the speed.
      if (!this.startSteps.has(c.id)) this.startSteps.set(c.id, now);
      progressed += Math.max(0, now - this.startSteps.get(c.id)!);
      if (s?.state !== 'done' && s?.state !== 'failed') remaining += Math.max(0, steps - now);
    }
    if (remaining === 0) return 0;
    const secs = (performance.now() - this.start) / 1000;
    return progressed > 0 && secs >= 1 ? remaining / (progressed / secs) : null;
  }
}

export function summarize(cells: Cell[], statuses: Map<string, CellStatus | null>, eta: number | null): Summary {
  let done = 0;
  let failed = 0;
  const running: Cell[] = [];
  for (const c of cells) {
    const s = statuses.get(c.id);
    if (s?.state === 'done') done++;
    else if (s?.state === 'failed') failed++;
    else if (s?.state === 'running' && !s.interrupted) running.push(c);
  }
  return { total: cells.length, done, failed, running, left: cells.length - done - failed - running.length, eta };
}

export function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '-';
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  return h > 0 ? `${h}h${String(m % 60).padStart(2, '0')}m` : m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export function cellLabel(c: Cell): string {
  const a = c.axes;
  return [a.task, c.group, `seed ${a.seed}`].join(' ');
}

/**
 * The live display: a cli-progress MultiBar on a terminal; elsewhere (CI logs, pipes) a line per
 * change of the counts and one every `quietSeconds`.
 */
export class ProgressView {
  private multi: MultiBar | null = null;
  private overall: SingleBar | null = null;
  private readonly lines = new Map<string, SingleBar>();
  private lastText = '';
  private lastPrint = 0;
  private readonly eta: EtaTracker;
  private readonly width: number;

  constructor(private readonly out: string, private readonly cells: Cell[], private readonly opts: { enabled: boolean; quietSeconds?: number }) {
    this.eta = new EtaTracker(out);
    this.width = Math.max(5, ...cells.map((c) => cellLabel(c).length + 2));
    if (opts.enabled && process.stderr.isTTY) {
      this.multi = new MultiBar({
        stream: process.stderr, hideCursor: true, clearOnComplete: false, autopadding: true,
        format: '{label} {bar} {value}/{total} {info}',
      });
      this.overall = this.multi.create(cells.length, 0, { label: 'cells'.padEnd(this.width), info: '' });
    }
  }

  refresh(): Summary {
    const statuses = cellStatuses(this.out, this.cells);
    const eta = this.eta.update(this.cells, statuses);
    const sum = summarize(this.cells, statuses, eta);
    if (!this.opts.enabled) return sum;
    const counts = `done ${sum.done} | running ${sum.running.length} | failed ${sum.failed} | left ${sum.left}`;
    const head = `${counts} | ETA ${formatEta(sum.eta)}`;
    if (this.multi && this.overall) {
      this.overall.update(sum.done + sum.failed, { label: 'cells'.padEnd(this.width), info: head });
      const live = new Set(sum.running.map((c) => c.id));
      for (const [id, bar] of this.lines) {
        if (!live.has(id)) {
          this.multi.remove(bar);
          this.lines.delete(id);
        }
      }
      for (const c of sum.running) {
        const p = cellProgress(cellDir(this.out, c.id));
        const info = `steps | last success ${p.lastSuccess === null ? '-' : p.lastSuccess.toFixed(2)}`;
        const bar = this.lines.get(c.id);
        if (bar) bar.update(p.step, { info });
        else this.lines.set(c.id, this.multi.create(Number(c.trainConfig.steps), p.step, { label: `  ${cellLabel(c)}`.padEnd(this.width), info }));
      }
    } else {
      const now = performance.now();
      if (counts !== this.lastText || now - this.lastPrint > (this.opts.quietSeconds ?? 30) * 1000) {
        const live = sum.running.map((c) => {
          const p = cellProgress(cellDir(this.out, c.id));
          return `${cellLabel(c)} @${p.step}${p.lastSuccess === null ? '' : ` (success ${p.lastSuccess.toFixed(2)})`}`;
        });
        console.error(`[bench] ${head}${live.length ? `; ${live.join('; ')}` : ''}`);
        this.lastText = counts;
        this.lastPrint = now;
      }
    }
    return sum;
  }

  /** A message that does not tear the bars apart. */
  log(msg: string): void {
    if (this.multi) this.multi.log(`${msg}\n`);
    else console.error(msg);
  }

  stop(): void {
    this.multi?.stop();
    this.multi = null;
  }
}
