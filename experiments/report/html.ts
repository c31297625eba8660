/** report.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched). */
import { AGGREGATE_NAMES, AGGREGATE_TITLES, SCORES, type CellRow, type Summary } from './summary.js';
import type { Estimate } from '../stats/index.js';

export interface RenderedFigure {
  name: string;
  title: string;
  caption: string;
  svg: string;
}

export interface MachineInfo {
  hostname: string;
  platform: string;
  cpus: string;
  memoryGiB: number;
  node: string;
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const f2 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));
const f0 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const ci = (e: Estimate) => `${f2(e.point)} <span class="ci">[${f2(e.lo)}, ${f2(e.hi)}]</span>`;

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function figure(f: RenderedFigure | undefined): string {
  if (!f) return '';
  return `<figure id="fig-${esc(f.name)}" data-figure="${esc(f.name)}"><div class="fig-title">${esc(f.title)}</div>${f.svg}<figcaption>${esc(f.caption)} <span class="file">figures/${esc(f.name)}.svg</span></figcaption></figure>`;
}

const STATE_NOTE: Record<string, string> = {
  running: 'still running; left out of the statistics',
  failed: 'failed; left out of the statistics',
  missing: 'not run yet',
  unreadable: 'results unreadable; left out of the statistics',
};

function statusSection(s: Summary): string {
  const c = s.counts;
  const parts = [`<b>${c.done}</b> of ${c.total} cells done`];
  for (const k of ['running', 'failed', 'missing', 'unreadable'] as const) if (c[k]) parts.push(`<span class="st-${k}">${c[k]} ${k}</span>`);
  const bad = s.cells.filter((x) => x.state !== 'done');
  const rows = bad.map((x) => [esc(x.id), esc(x.group ?? '–'), esc(x.task ?? '–'), esc(x.seed ?? '–'), `<span class="st-${x.state}">${x.state}</span>`, esc(x.problem ?? STATE_NOTE[x.state])]);
  const stray = s.stray.length ? `<p class="note">${s.stray.length} cell folder(s) in cells/ are not in this suite (an earlier version of it) and are ignored: ${s.stray.map(esc).join(', ')}</p>` : '';
  return `<section id="status"><h2>Cells</h2><p>${parts.join(' · ')}.</p>${bad.length ? table(['cell', 'group', 'task', 'seed', 'state', 'why'], rows, 'problems') : ''}${stray}</section>`;
}

function aggregateTable(s: Summary, score: (typeof SCORES)[number]): string {
  const rows = s.groups.map((g) => [esc(g.group), String(g.runs.length), String(g.tasks.length), ...AGGREGATE_NAMES.map((a) => ci(g.aggregates[score][a]))]);
  return table(['group', 'runs', 'tasks', ...AGGREGATE_NAMES.map((a) => AGGREGATE_TITLES[a])], rows);
}

function teacherTable(s: Summary): string {
  const { rows, algos, cells } = s.teacherTable;
  const body = rows.map((r) => [esc(r), ...algos.map((a) => {
    const c = cells.find((x) => x.row === r && x.algo === a);
    return c ? `${ci(c)} <span class="n">n=${c.runs}</span>` : '–';
  })]);
  return table(['teacher \\ algorithm', ...algos.map(esc)], body);
}

function cellTable(cells: CellRow[]): string {
  const rows = cells.map((c) => [
    `<code>${esc(c.id)}</code>`, esc(c.group ?? '–'), esc(c.task ?? '–'), esc(c.seed ?? '–'), `<span class="st-${c.state}">${c.state}</span>`,
    f2(c.final_success), f2(c.auc_success), f2(c.max_success), f0(c.steps), f0(c.env_steps), c.wall_seconds === null ? '–' : c.wall_seconds.toFixed(1),
    f0(c.env_steps_per_s), c.labels === null ? '–' : `${f0(c.labels)}${c.labelled !== null && c.labelled !== c.labels ? ` (${f0(c.labelled)} labelled)` : ''}`,
    esc(c.worker ?? '–'), esc(c.attempts ?? '–'),
  ]);
  return table(['cell', 'group', 'task', 'seed', 'state', 'final success', 'AUC', 'best eval', 'steps', 'env steps', 'wall s', 'env steps/s', 'labels', 'worker', 'attempts'], rows, 'cells');
}

function environmentSection(s: Summary, machine: MachineInfo): string {
  const envs = s.environments.map((e, i) => {
    const v = e.versions ? Object.entries(e.versions).map(([k, x]) => `${esc(k)} ${esc(x ?? 'not installed')}`).join(', ') : 'not recorded';
    const b = e.backend as { backend?: string; nativeGemm?: { active?: boolean; blasCore?: string }; wasmSimd?: boolean } | null;
    const backend = b ? `${esc(b.backend ?? '?')}${b.nativeGemm ? `, native GEMM ${b.nativeGemm.active ? 'on' : 'off'}${b.nativeGemm.blasCore ? ` (${esc(b.nativeGemm.blasCore)})` : ''}` : ''}` : 'not recorded';
    return [String(i + 1), v, backend, `${e.cells.length}`];
  });
  const workers = [...new Set(s.cells.map((c) => c.worker).filter((w): w is string => !!w))];
  return `<section id="environment"><h2>Versions, backend and machine</h2>
${envs.length ? table(['#', 'versions', 'backend', 'cells'], envs) : '<p>No cell recorded a config.json.</p>'}
${envs.length > 1 ? '<p class="warn-inline">Cells ran with different versions or backends: compare with care.</p>' : ''}
<p>Workers that ran cells: ${workers.length ? workers.map(esc).join(', ') : 'not recorded'}.
Report written on ${esc(machine.hostname)}: ${esc(machine.cpus)}, ${machine.memoryGiB.toFixed(0)} GiB, ${esc(machine.platform)}, Node ${esc(machine.node)}.</p></section>`;
}

/** Leaf paths of a JSON value ("a.b[2]" -> its JSON), to say how two configs differ. */
export function flattenJson(v: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v)) {
    if (!v.length) out.set(path, '[]');
    v.forEach((x, i) => flattenJson(x, `${path}[${i}]`, out));
  } else if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (!entries.length) out.set(path, '{}');
    for (const [k, x] of entries) flattenJson(x, path ? `${path}.${k}` : k, out);
  } else {
    out.set(path, JSON.stringify(v));
  }
  return out;
}

function configDiff(ref: Map<string, string>, other: Map<string, string>): string {
  const keys = new Set([...ref.keys(), ...other.keys()]);
  const d: string[] = [];
  for (const k of keys) if (ref.get(k) !== other.get(k)) d.push(`${k}=${other.get(k) ?? '(absent)'}`);
  return d.length ? d.join(', ') : 'identical';
}

/**
 * One full config per group and, for its other cells, only what differs (seed, task, ...): a
 * thousand-cell suite would otherwise print a thousand near-identical configs. Every config is in
 * summary.json in full.
 */
function configSection(s: Summary): string {
  const byGroup = new Map<string, Summary['configs']>();
  for (const c of s.configs) {
    const g = c.group ?? '(no group)';
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push(c);
  }
  const items = [...byGroup.entries()].map(([g, cs]) => {
    const ref = flattenJson(cs[0].config);
    const others = cs.slice(1).map((c) => `<li><code>${esc(c.id)}</code>: ${esc(configDiff(ref, flattenJson(c.config)))}</li>`);
    return `<details><summary><b>${esc(g)}</b> (${cs.length} cell${cs.length > 1 ? 's' : ''})</summary><p>Config of <code>${esc(cs[0].id)}</code>:</p><pre>${esc(JSON.stringify(cs[0].config, null, 2))}</pre>${others.length ? `<p>The group's other cells differ only in:</p><ul>${others.join('')}</ul>` : ''}</details>`;
  });
  return `<section id="configs"><h2>Resolved configs</h2><p>As each run wrote it in its config.json (all of them in full in summary.json).</p>${items.join('\n')}</section>`;
}

const CSS = `
body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#222;max-width:1180px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:30px}
.meta{color:#666;font-size:12px}.banner{background:#fff4d6;border:1px solid #e6b800;padding:10px 14px;margin:14px 0;border-radius:4px}
table{border-collapse:collapse;margin:8px 0;font-size:12.5px}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f5f5f5}.ci{color:#777;font-size:11.5px}.n{color:#999;font-size:11px}
figure{display:inline-block;margin:8px 18px 16px 0;vertical-align:top;max-width:100%}.figs{display:flex;flex-wrap:wrap;align-items:flex-start}figure svg{max-width:100%;height:auto}
.fig-title{font-weight:bold;margin-bottom:2px}figcaption{font-size:12px;color:#555;max-width:520px}.file{color:#999;font-family:monospace}
.st-done{color:#2a7a2a}.st-running{color:#b07a00}.st-failed,.st-unreadable{color:#c0392b;font-weight:bold}.st-missing{color:#888}
.problems td:last-child{max-width:560px;word-break:break-word}.cells{font-size:11.5px}pre{background:#f7f7f7;padding:8px;font-size:11.5px;overflow-x:auto}
.note,.warn-inline{color:#a05a00}details{margin:2px 0}
`;

/** With one or two runs per task a bootstrap can only resample the same few values: say so. */
function fewRuns(s: Summary): string {
  const thin = s.groups.filter((g) => g.tasks.some((t) => g.runs.filter((r) => r.task === t).length < 3)).map((g) => g.group);
  return thin.length
    ? `<p class="warn-inline" id="few-runs">Fewer than 3 runs on some task for ${thin.map(esc).join(', ')}: their intervals only resample those runs and understate the uncertainty (one run gives a zero-width interval).</p>`
    : '';
}

export function renderHtml(s: Summary, figures: RenderedFigure[], machine: MachineInfo, generatedAt: string): string {
  const fig = (name: string) => figure(figures.find((f) => f.name === name));
  const curves = figures.filter((f) => f.name.startsWith('curve-'));
  const banner = s.suite.smokeScale
    ? `<div class="banner" id="smoke-banner"><b>Smoke-scale benchmark.</b> Short runs, few seeds and small networks: it shows that the pipeline works end to end and gives coarse comparisons. Intervals are wide and the numbers are not paper results.</div>`
    : '';
  const pbrl = s.groups.filter((g) => g.labels);
  const body = s.groups.length
    ? `
<section id="aggregates"><h2>Aggregate scores</h2>
<p>Scores are evaluation success rates in [0, 1]. IQM is the 25% trimmed mean over all runs pooled across tasks;
mean and median are over tasks of the per-task mean; optimality gap is 1 minus the mean of min(score, 1).
Intervals: ${esc(s.bootstrap.method)}, 95%, ${s.bootstrap.reps} replicates, seed ${s.bootstrap.seed}.</p>
${fewRuns(s)}
${SCORES.map((sc) => `<div class="agg">${fig(`aggregates-${sc}`)}${aggregateTable(s, sc)}</div>`).join('\n')}
</section>
<section id="efficiency"><h2>Sample efficiency</h2><div class="figs">${fig('efficiency-steps')}${fig('efficiency-labels')}</div></section>
<section id="curves"><h2>Learning curves per task</h2><div class="figs">${curves.map(figure).join('')}</div></section>
<section id="profiles"><h2>Performance profiles and probability of improvement</h2><div class="figs">${fig('profiles')}${fig('improvement') || '<p>Probability of improvement needs two groups with a task in common.</p>'}</div></section>
<section id="teachers"><h2>Teacher × algorithm</h2><p>IQM of final success over all tasks and seeds, 95% interval.</p>${teacherTable(s)}</section>
<section id="labels"><h2>Labels used</h2>${pbrl.length ? table(['group', 'queries asked (mean per run)', 'labels given (mean per run)'], pbrl.map((g) => [esc(g.group), f0(g.labels!.queries), f0(g.labels!.labelled)])) : '<p>No group asked a teacher.</p>'}</section>`
    : '<p><b>No finished cells yet</b>: nothing to aggregate. The cells below say where each one stands.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(s.suite.name)} — pbrl benchmark report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
<h1>Benchmark report: ${esc(s.suite.name)}</h1>
<div class="meta">${esc(s.suite.description)}<br>results: <code>${esc(s.resultsDir)}</code> · written ${esc(generatedAt)} · numbers also in summary.csv and summary.json, figures in figures/</div>
${banner}
${statusSection(s)}
${body}
<section id="cell-table"><h2>Per cell: scores, wall time, throughput, labels</h2>${cellTable(s.cells)}</section>
${environmentSection(s, machine)}
${configSection(s)}
</body></html>
`;
}
