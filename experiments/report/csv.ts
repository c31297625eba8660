/**
 * summary.csv: every number the report shows, one per row, in long form so a spreadsheet or pandas
 * can pivot it any way: section, group, task, seed, cell, metric, x, value, lo, hi, n.
 */
import { AGGREGATE_NAMES, SCORES, type Summary } from './summary.js';

export const CSV_COLUMNS = ['section', 'group', 'task', 'seed', 'cell', 'metric', 'x', 'value', 'lo', 'hi', 'n'] as const;
type Row = Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null>>;

function field(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function summaryRows(s: Summary): Row[] {
  const rows: Row[] = [];
  for (const g of s.groups) {
    const n = g.runs.length;
    for (const score of SCORES) {
      for (const a of AGGREGATE_NAMES) {
        const e = g.aggregates[score][a];
        rows.push({ section: 'aggregate', group: g.group, metric: `${score}_${a}`, value: e.point, lo: e.lo, hi: e.hi, n });
      }
    }
    for (const p of g.profile) rows.push({ section: 'profile', group: g.group, metric: 'fraction_above_tau', x: p.tau, value: p.point, lo: p.lo, hi: p.hi, n });
    for (const p of g.efficiencySteps) rows.push({ section: 'efficiency_steps', group: g.group, metric: 'iqm_success', x: p.x, value: p.point, lo: p.lo, hi: p.hi, n });
    for (const p of g.efficiencyLabels ?? []) rows.push({ section: 'efficiency_labels', group: g.group, metric: 'iqm_success', x: p.x, value: p.point, lo: p.lo, hi: p.hi, n });
    for (const c of g.learningCurves) {
      for (const p of c.curve) rows.push({ section: 'learning_curve', group: g.group, task: c.task, metric: 'mean_success', x: p.x, value: p.point, lo: p.lo, hi: p.hi, n: c.runs });
    }
    if (g.labels) {
      rows.push({ section: 'labels', group: g.group, metric: 'queries_mean', value: g.labels.queries, n });
      rows.push({ section: 'labels', group: g.group, metric: 'labelled_mean', value: g.labels.labelled, n });
    }
  }
  for (const p of s.improvement) {
    rows.push({ section: 'improvement', group: `${p.x} > ${p.y}`, task: p.tasks.join(' '), metric: 'probability_of_improvement', value: p.point, lo: p.lo, hi: p.hi });
  }
  for (const c of s.teacherTable.cells) {
    rows.push({ section: 'teacher_table', group: `${c.row} | ${c.algo}`, metric: 'final_success_iqm', value: c.point, lo: c.lo, hi: c.hi, n: c.runs });
  }
  const cellMetrics = ['final_success', 'auc_success', 'max_success', 'steps', 'env_steps', 'wall_seconds', 'env_steps_per_s', 'labels', 'labelled'] as const;
  for (const c of s.cells) {
    const base = { section: 'cell', group: c.group, task: c.task, seed: c.seed, cell: c.id };
    rows.push({ ...base, metric: 'state', value: c.state });
    for (const m of cellMetrics) if (c[m] !== null) rows.push({ ...base, metric: m, value: c[m] });
  }
  return rows;
}

export function toCsv(s: Summary): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of summaryRows(s)) lines.push(CSV_COLUMNS.map((c) => field(r[c])).join(','));
  return lines.join('\n') + '\n';
}
