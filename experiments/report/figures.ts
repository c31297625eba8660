/**
 * The report's figures as Vega-Lite specs, compiled and rendered to standalone SVG in Node
 * (vega's headless renderer: no canvas, no browser, no network). See README.md here for why Vega-Lite
 * rather than hand-written SVG.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { installTextWidth } from './text-width.js';
import { AGGREGATE_NAMES, AGGREGATE_TITLES, SCORES, SCORE_TITLES, type ScoreName, type Summary } from './summary.js';

export interface Figure {
  /** File stem under figures/ (also the figure's id in the HTML). */
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

// Tableau 10: distinguishable in print and for the common colour-vision deficiencies.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, symbolOpacity: 1, symbolType: 'stroke', symbolStrokeWidth: 3 },
  title: { fontSize: 13 },
};

/** A group keeps its colour in every figure, including figures that show only some groups. */
function colour(groups: string[], shown = groups) {
  return { field: 'group', type: 'nominal' as const, title: 'group', scale: { domain: shown, range: shown.map((g) => PALETTE[groups.indexOf(g) % PALETTE.length]) } };
}

function bandPlot(rows: { group: string; x: number; point: number; lo: number; hi: number }[], groups: string[], xTitle: string, yTitle: string): TopLevelSpec {
  const x = { field: 'x', type: 'quantitative' as const, title: xTitle };
  const shown = groups.filter((g) => rows.some((r) => r.group === g));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 300,
    height: 210,
    config: CONFIG,
    data: { values: rows },
    encoding: { x, color: colour(groups, shown) },
    layer: [
      { mark: { type: 'area', opacity: 0.18, interpolate: 'linear' }, encoding: { y: { field: 'lo', type: 'quantitative', title: yTitle, scale: { domain: [0, 1], padding: 4 } }, y2: { field: 'hi' } } },
      { mark: { type: 'line', strokeWidth: 2, point: { size: 18 } }, encoding: { y: { field: 'point', type: 'quantitative', title: yTitle } } },
    ],
  } as TopLevelSpec;
}

function aggregateSpec(s: Summary, score: ScoreName): TopLevelSpec {
  const groups = s.groups.map((g) => g.group);
  const rows = s.groups.flatMap((g) => AGGREGATE_NAMES.map((a) => ({ group: g.group, metric: AGGREGATE_TITLES[a], ...g.aggregates[score][a] })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: AGGREGATE_NAMES.map((a) => AGGREGATE_TITLES[a]), header: { labelFontSize: 13 } } },
    spec: {
      width: 170,
      height: { step: 26 },
      encoding: {
        y: { field: 'group', type: 'nominal', title: null, sort: groups, axis: { labelLimit: 240 } },
      },
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 8, opacity: 0.55 },
          encoding: {
            x: { field: 'lo', type: 'quantitative', title: null, scale: { domain: [0, 1], padding: 6 }, axis: { values: [0, 0.25, 0.5, 0.75, 1], format: '.2~f' } },
            x2: { field: 'hi' },
            color: { ...colour(groups), legend: null },
          },
        },
        { mark: { type: 'tick', thickness: 2, size: 18, color: 'black' }, encoding: { x: { field: 'point', type: 'quantitative' } } },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  } as TopLevelSpec;
}

function profileSpec(s: Summary): TopLevelSpec {
  const rows = s.groups.flatMap((g) => g.profile.map((p) => ({ group: g.group, x: p.tau, point: p.point, lo: p.lo, hi: p.hi })));
  const spec = bandPlot(rows, s.groups.map((g) => g.group), 'final success threshold τ', 'fraction of runs > τ') as any;
  spec.layer[0].mark.interpolate = 'step-after';
  spec.layer[1].mark = { type: 'line', strokeWidth: 2, interpolate: 'step-after' };
  spec.encoding.x.axis = { values: [0, 0.25, 0.5, 0.75, 1], format: '.2~f' };
  return spec;
}

function improvementSpec(s: Summary): TopLevelSpec {
  const groups = s.groups.map((g) => g.group);
  // Past five groups the intervals no longer fit in a cell; they stay in the CSV and the JSON.
  const wide = groups.length <= 5;
  const rows = s.improvement.map((p) => ({ ...p, label: wide ? `${p.point.toFixed(2)} [${p.lo.toFixed(2)}, ${p.hi.toFixed(2)}]` : p.point.toFixed(2) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { ...CONFIG, axis: { ...CONFIG.axis, grid: false } },
    width: { step: wide ? 128 : 44 },
    height: { step: wide ? 34 : 26 },
    data: { values: rows },
    encoding: {
      x: { field: 'y', type: 'nominal', title: 'algorithm Y', sort: groups, axis: { labelAngle: -25, labelLimit: 240, orient: 'top' } },
      y: { field: 'x', type: 'nominal', title: 'algorithm X', sort: groups, axis: { labelLimit: 240 } },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'point', type: 'quantitative', title: 'P(X > Y)', scale: { domain: [0, 1], scheme: 'blueorange', domainMid: 0.5 } } } },
      {
        mark: { type: 'text', fontSize: wide ? 11 : 10 },
        encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.point > 0.8 || datum.point < 0.2', value: 'white' }, value: 'black' } },
      },
    ],
  } as TopLevelSpec;
}

/** Every figure the summary supports, in report order (figures with no data are left out). */
export function figureSpecs(s: Summary): Figure[] {
  const groups = s.groups.map((g) => g.group);
  if (!groups.length) return [];
  const kinds = new Set(s.groups.map((g) => g.kind));
  const stepsTitle = kinds.size === 1 && kinds.has('online') ? 'env steps' : kinds.size === 1 && kinds.has('offline') ? 'gradient steps' : 'steps';
  const figs: Figure[] = [];
  for (const score of SCORES) {
    figs.push({
      name: `aggregates-${score}`,
      title: `Aggregate ${SCORE_TITLES[score]}`,
      caption: `Point estimates (black ticks) and 95% stratified-bootstrap intervals (bars) over all runs and tasks. Optimality gap: lower is better.`,
      spec: aggregateSpec(s, score),
    });
  }
  const steps = s.groups.flatMap((g) => g.efficiencySteps.map((p) => ({ group: g.group, ...p })));
  if (steps.length) {
    figs.push({ name: 'efficiency-steps', title: `Sample efficiency: IQM success vs ${stepsTitle}`, caption: 'IQM over runs pooled across tasks at each evaluation step, with 95% bootstrap bands.', spec: bandPlot(steps, groups, stepsTitle, 'IQM success') });
  }
  const labels = s.groups.flatMap((g) => (g.efficiencyLabels ?? []).map((p) => ({ group: g.group, ...p })));
  if (labels.length) {
    figs.push({ name: 'efficiency-labels', title: 'Feedback efficiency: IQM success vs labels used', caption: 'PbRL groups only. A run counts at L labels with its latest evaluation taken having used at most L queries.', spec: bandPlot(labels, groups, 'labels used (queries asked)', 'IQM success') });
  }
  const tasks = [...new Set(s.groups.flatMap((g) => g.tasks))].sort();
  for (const task of tasks) {
    const rows = s.groups.flatMap((g) => (g.learningCurves.find((c) => c.task === task)?.curve ?? []).map((p) => ({ group: g.group, ...p })));
    const spec = bandPlot(rows, groups, stepsTitle, 'success rate');
    figs.push({ name: `curve-${task.replace(/[^A-Za-z0-9._-]/g, "_")}`, title: `Learning curve: ${task}`, caption: 'Mean evaluation success over seeds, with a 95% bootstrap band.', spec });
  }
  figs.push({ name: 'profiles', title: 'Performance profiles (final success)', caption: 'Fraction of runs, over all tasks, whose final success exceeds τ, with 95% bootstrap bands.', spec: profileSpec(s) });
  if (s.improvement.length) {
    figs.push({ name: 'improvement', title: 'Probability of improvement (final success)', caption: 'P(X > Y): the chance a random run of X beats one of Y on a task (ties count half), averaged over common tasks; 95% bootstrap interval in brackets.', spec: improvementSpec(s) });
  }
  return figs;
}

/**
 * Vega numbers its clip paths and gradients from 1 in every SVG; prefixing them keeps several SVGs
 * inlined in one page from pointing at each other's definitions.
 */
export function scopeIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id) => `href="#${prefix}-${id}"`);
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  installTextWidth();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
