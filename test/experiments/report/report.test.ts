// writeReport on synthetic results directories: numbers against numpy (test/experiments/stats/
// reference.py) on the values the fixture wrote, cell states and messages, the CSV/JSON/SVG files,
// and the page itself in Debian's chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { writeReport } from '../../../experiments/report/index.js';
import { readEvals, readResults } from '../../../experiments/report/read.js';
import { scopeIds } from '../../../experiments/report/figures.js';
import { textWidth } from '../../../experiments/report/text-width.js';
import { bootstrapIndices, bootstrapRng } from '../../../experiments/stats/index.js';
import { launchChromium } from '../../../viewer/browser.js';
import { makeResults, tempDir, type FixtureCell } from './fixture.js';

const REFERENCE = fileURLToPath(new URL('../stats/reference.py', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/report/', import.meta.url));
const numpy = (job: Record<string, unknown>): any =>
  JSON.parse(execFileSync('/usr/bin/python3', [REFERENCE], { input: JSON.stringify(job), encoding: 'utf8' }));

const REPS = 400;
let dir: string;
let cells: FixtureCell[];
let out: Awaited<ReturnType<typeof writeReport>>;
let summary: any;

beforeAll(async () => {
  dir = tempDir('report');
  // cell 4 failed, 10 still running, 16 never started, 7 has a corrupt metrics line
  cells = makeResults(dir, { failed: [4], running: [10], missing: [16], corrupt: [7] });
  out = await writeReport(dir, { reps: REPS, seed: 5 });
  summary = JSON.parse(readFileSync(out.json, 'utf8'));
});

/** Group -> task (sorted) -> runs sorted by seed, from what the fixture wrote, done cells only. */
function doneRuns(group: string): FixtureCell[][] {
  const done = cells.filter((c) => c.group === group && c.state === 'done' && c.id !== cells[7].id);
  const tasks = [...new Set(done.map((c) => c.task))].sort();
  return tasks.map((t) => done.filter((c) => c.task === t).sort((a, b) => a.seed - b.seed));
}

describe('writeReport numbers', () => {
  it('writes its files next to the cells', () => {
    expect(out.html).toBe(join(dir, 'report.html'));
    expect(out.csv).toBe(join(dir, 'summary.csv'));
    expect(out.json).toBe(join(dir, 'summary.json'));
    expect(out.figures.length).toBeGreaterThanOrEqual(8);
    for (const f of [out.html, out.csv, out.json, ...out.figures]) expect(existsSync(f)).toBe(true);
    for (const f of out.figures) {
      expect(f.startsWith(join(dir, 'figures'))).toBe(true);
      expect(readFileSync(f, 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      // the Vega-Lite spec beside it carries its data
      const spec = JSON.parse(readFileSync(f.replace(/\.svg$/, '.vl.json'), 'utf8'));
      expect(spec.data.values.length).toBeGreaterThan(0);
    }
  });

  it('aggregates of final success, AUC and best evaluation equal numpy on the fixture values, intervals on the same resamples', () => {
    for (const g of summary.groups) {
      const runs = doneRuns(g.group);
      expect(g.runs.length).toBe(runs.flat().length);
      const finals = runs.map((t) => t.map((c) => c.evals[c.evals.length - 1].success));
      const aucs = runs.map((t) => numpy({ kind: 'auc', curves: t.map((c) => c.evals.map((e) => [e.step, e.success])) }));
      // Best evaluation per run (the CPL paper's number), taken directly from the fixture's evaluations.
      const maxes = runs.map((t) => t.map((c) => Math.max(...c.evals.map((e) => e.success))));
      for (const [score, data] of [['final_success', finals], ['auc_success', aucs], ['max_success', maxes]] as const) {
        const idx = bootstrapIndices(bootstrapRng(5, `${g.group}:${score}`), [data.map((t) => t.length)], REPS);
        const ref = numpy({ kind: 'aggregates', data, indices: idx.map((r) => r.map((s) => s.map((t) => Array.from(t)))) });
        ['iqm', 'mean', 'median', 'optimality_gap'].forEach((a, i) => {
          const e = g.aggregates[score][a];
          expect(e.point).toBeCloseTo(ref.point[i], 12);
          expect(e.lo).toBeCloseTo(ref.lo[i], 12);
          expect(e.hi).toBeCloseTo(ref.hi[i], 12);
        });
      }
    }
  });

  it('counts labels from the feedback rows, and leaves them out for groups without a teacher', () => {
    const byName = Object.fromEntries(summary.groups.map((g: any) => [g.group, g]));
    expect(byName.sac.labels).toBeNull();
    expect(byName.sac.efficiencyLabels).toBeNull();
    // the fixture asks 50 queries per round up to the 200 budget, 90% of them answered
    expect(byName['pebble/oracle/200'].labels).toEqual({ queries: 200, labelled: 180 });
    const labelsX = byName['pebble/oracle/200'].efficiencyLabels.map((p: any) => p.x);
    expect(labelsX).toEqual([0, 50, 100, 150, 200]);
  });

  it('probability of improvement covers every ordered pair and is complementary on the points', () => {
    const n = summary.groups.length;
    expect(summary.improvement.length).toBe(n * (n - 1));
    for (const p of summary.improvement) {
      const q = summary.improvement.find((r: any) => r.x === p.y && r.y === p.x);
      // P(X > Y) + P(Y > X) = 1 when ties count half
      expect(p.point + q.point).toBeCloseTo(1, 12);
      expect(p.lo).toBeLessThanOrEqual(p.point);
      expect(p.hi).toBeGreaterThanOrEqual(p.point);
    }
  });

  it('records every cell state, names the broken file, and keeps them out of the statistics', () => {
    expect(summary.counts).toEqual({ done: 14, running: 1, failed: 1, missing: 1, unreadable: 1, total: 18 });
    const byId = Object.fromEntries(summary.cells.map((c: any) => [c.id, c]));
    expect(byId[cells[7].id].problem).toContain(join(dir, 'cells', cells[7].id, 'metrics.jsonl'));
    expect(byId[cells[7].id].problem).toMatch(/line 2 is not JSON/);
    expect(byId[cells[4].id].problem).toMatch(/NaN in critic loss/);
    expect(byId[cells[16].id].state).toBe('missing');
    expect(byId[cells[10].id].state).toBe('running');
    const used = summary.groups.flatMap((g: any) => g.runs.map((r: any) => r.cell));
    for (const i of [4, 7, 10, 16]) expect(used).not.toContain(cells[i].id);
  });

  it('prints one config per group and, for the other cells, what differs', () => {
    const html = readFileSync(out.html, 'utf8');
    // the sac group's first done cell is reach seed 0; its seed-1 sibling differs in seed only
    expect(html).toContain(`<code>${cells[1].id}</code>: seed=1</li>`);
    expect(html).toContain(`<code>${cells[3].id}</code>: task=&quot;button-press-topdown&quot;</li>`);
    expect(summary.configs.length).toBe(17);
  });

  it('summary.csv holds the numbers of summary.json', () => {
    const lines = readFileSync(out.csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('section,group,task,seed,cell,metric,x,value,lo,hi,n');
    const rows = lines.slice(1).map((l) => l.split(','));
    const sac = summary.groups.find((g: any) => g.group === 'sac');
    const iqm = rows.find((r) => r[0] === 'aggregate' && r[1] === 'sac' && r[5] === 'final_success_iqm')!;
    expect(Number(iqm[7])).toBe(sac.aggregates.final_success.iqm.point);
    expect(Number(iqm[8])).toBe(sac.aggregates.final_success.iqm.lo);
    expect(rows.filter((r) => r[0] === 'aggregate').length).toBe(summary.groups.length * 4 * 3); // 4 aggregates x 3 scores
    expect(rows.filter((r) => r[0] === 'improvement').length).toBe(summary.improvement.length);
    expect(rows.filter((r) => r[0] === 'cell' && r[5] === 'state').length).toBe(18);
  });

  it('is reproducible from the seed', async () => {
    const other = tempDir('report-again');
    await writeReport(dir, { reps: REPS, seed: 5, out: other });
    const again = JSON.parse(readFileSync(join(other, 'summary.json'), 'utf8'));
    expect(again.groups).toEqual(summary.groups);
    await writeReport(dir, { reps: REPS, seed: 6, out: other });
    const reseeded = JSON.parse(readFileSync(join(other, 'summary.json'), 'utf8'));
    expect(reseeded.groups.map((g: any) => g.aggregates.final_success.iqm.point)).toEqual(summary.groups.map((g: any) => g.aggregates.final_success.iqm.point));
    expect(JSON.stringify(reseeded.groups.map((g: any) => g.profile))).not.toBe(JSON.stringify(summary.groups.map((g: any) => g.profile)));
  });
});

describe('figure helpers', () => {
  it('scopeIds renames definitions and every reference to them', () => {
    const svg = '<svg><defs><clipPath id="clip1"><rect/></clipPath><linearGradient id="g2"/></defs><g clip-path="url(#clip1)"><path fill="url(#g2)"/><use href="#clip1"/></g></svg>';
    expect(scopeIds(svg, 'f-a')).toBe('<svg><defs><clipPath id="f-a-clip1"><rect/></clipPath><linearGradient id="f-a-g2"/></defs><g clip-path="url(#f-a-clip1)"><path fill="url(#f-a-g2)"/><use href="#f-a-clip1"/></g></svg>');
  });

  it('text widths follow Helvetica metrics (1.12x margin)', () => {
    // "Hi" = H 722 + i 222 per 1000 em; at 10 px: 9.44 px, times the 1.12 margin
    expect(textWidth('Hi', 10)).toBeCloseTo(9.44 * 1.12, 10);
    expect(textWidth('mmmm', 10)).toBeGreaterThan(textWidth('iiii', 10) * 3);
  });
});

describe('bad and partial results', () => {
  it('refuses a folder without suite.json, naming it', async () => {
    const d = tempDir('report-empty');
    await expect(writeReport(d)).rejects.toThrow(join(d, 'suite.json'));
  });

  it('names the field of a malformed cell.json and still reports the rest', () => {
    const d = tempDir('report-badcell');
    const cs = makeResults(d, { tasks: ['reach'], seeds: [0, 1] });
    const p = join(d, 'cells', cs[0].id, 'cell.json');
    const bad = JSON.parse(readFileSync(p, 'utf8'));
    delete bad.axes.task;
    writeFileSync(p, JSON.stringify(bad));
    const r = readResults(d);
    expect(r.cells[0].state).toBe('unreadable');
    expect(r.cells[0].problem).toContain(p);
    expect(r.cells[0].problem).toContain("'axes.task'");
    expect(r.cells.slice(1).every((c) => c.state === 'done')).toBe(true);
  });

  it('lets the rows of a resumed run supersede the ones it logged again', () => {
    // checkpoint at 2000, killed after logging step 3000; the resumed run logs from 2500 on
    const rows = [
      { step: 1000, eval_success: 0.1 },
      { step: 2000, feedback_total: 20, feedback_labelled: 18 },
      { step: 2000, eval_success: 0.2 },
      { step: 2500, feedback_total: 40, feedback_labelled: 36 },
      { step: 3000, eval_success: 0.3 },
      { step: 2500, episode: 5, train_return: 1 },
      { step: 2500, feedback_total: 40, feedback_labelled: 35 },
      { step: 3000, eval_success: 0.5 },
      { step: 4000, eval_success: 0.6 },
      { step: 4000, eval_success: 0.7 },
    ];
    const p = join(tempDir('report-resume'), 'metrics.jsonl');
    writeFileSync(p, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    expect(readEvals(p).map((e) => [e.step, e.success, e.labels, e.labelled])).toEqual([
      [1000, 0.1, null, null],
      [2000, 0.2, 20, 18],
      [3000, 0.5, 40, 35],
      [4000, 0.7, 40, 35],
    ]);
  });

  it('names the line of an eval row without a usable success', () => {
    const p = join(tempDir('report-badrow'), 'metrics.jsonl');
    writeFileSync(p, '{"step": 1, "eval_success": 0.5}\n{"step": 2, "eval_success": 1.5}\n');
    expect(() => readEvals(p)).toThrow(`${p}: line 2: an eval row needs a numeric step and eval_success in [0, 1]`);
  });

  it('renders with no finished cell, saying so', async () => {
    const d = tempDir('report-none');
    makeResults(d, { tasks: ['reach'], seeds: [0], running: [0, 1], missing: [2], smokeScale: false });
    const o = await writeReport(d, { reps: 50 });
    const html = readFileSync(o.html, 'utf8');
    expect(html).toContain('No finished cells yet');
    expect(html).not.toContain('smoke-banner');
    expect(o.figures).toEqual([]);
  });
});

describe('report.html in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('is self-contained: nothing to fetch, no scripts', () => {
    const html = readFileSync(out.html, 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|@import/i);
    // the only URLs are SVG namespace names, which are never fetched
    const urls = html.match(/https?:\/\/[^"'\s)]+/g) ?? [];
    expect(urls.filter((u) => !u.startsWith('http://www.w3.org/'))).toEqual([]);
  });

  it('loads offline with no console errors and shows every figure, the banner and the cell problems', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 }, offline: true } as any);
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(out.html).href);
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);

    const names = out.figures.map((f) => f.split('/').pop()!.replace(/\.svg$/, ''));
    const shown = await page.$$eval('figure[data-figure]', (fs) =>
      fs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { name: f.getAttribute('data-figure'), w: box?.width ?? 0, h: box?.height ?? 0, marks: svg?.querySelectorAll('path').length ?? 0 };
      }),
    );
    expect(shown.map((s) => s.name).sort()).toEqual([...names].sort());
    for (const s of shown) {
      expect(s.w, s.name!).toBeGreaterThan(200);
      expect(s.h, s.name!).toBeGreaterThan(100);
      expect(s.marks, s.name!).toBeGreaterThan(5);
    }
    // several inlined SVGs: their clip-path ids must not collide
    const dupIds = await page.evaluate(() => {
      const seen = new Map<string, number>();
      document.querySelectorAll('[id]').forEach((e) => seen.set(e.id, (seen.get(e.id) ?? 0) + 1));
      return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    });
    expect(dupIds).toEqual([]);
    expect(await page.isVisible('#smoke-banner')).toBe(true);
    // every group lost a seed on some task here, so the report warns that its intervals are thin
    expect(await page.textContent('#few-runs')).toContain('pebble/oracle/200');
    const problems = await page.$$eval('table.problems tbody tr', (rs) => rs.map((r) => r.textContent ?? ''));
    expect(problems.length).toBe(4);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await page.close();
  });
});
