/**
 * Every number the report shows, computed from the readable cells with experiments/stats. The
 * HTML, the CSV, the JSON and the figures are all drawn from this one object, so they cannot
 * disagree.
 */
import {
  AGGREGATES, aggregateEstimates, areaUnderCurve, finalScore, maxScore, improvementEstimate, performanceProfile, sampleEfficiency,
  DEFAULT_REPS, type AggregateName, type Curve, type Estimate, type ProfilePoint, type SamplePoint, type Stratified,
} from '../stats/index.js';
import { labelCurve, successCurve, type CellRecord, type CellState, type Results } from './read.js';

export const SCORES = ['final_success', 'auc_success', 'max_success'] as const;
export type ScoreName = (typeof SCORES)[number];
export const SCORE_TITLES: Record<ScoreName, string> = {
  final_success: 'final success (last evaluation)',
  auc_success: 'area under the success curve (normalised)',
  max_success: 'best evaluation of each run (the CPL paper\'s number; optimistic)',
};
export const AGGREGATE_NAMES = Object.keys(AGGREGATES) as AggregateName[];
export const AGGREGATE_TITLES: Record<AggregateName, string> = { iqm: 'IQM', mean: 'mean', median: 'median', optimality_gap: 'optimality gap' };

/** Thresholds of the performance profiles: success rates from 0 to 1. */
export const PROFILE_TAUS = Array.from({ length: 41 }, (_, i) => i / 40);

export interface RunScore {
  cell: string;
  task: string;
  seed: number;
  final_success: number;
  auc_success: number;
  max_success: number;
}

export interface TaskCurve {
  task: string;
  /** Mean success over the group's seeds at each evaluation step, with a bootstrap band. */
  curve: SamplePoint[];
  runs: number;
}

export interface GroupSummary {
  group: string;
  /** online: steps are env steps; offline: gradient steps. */
  kind: 'online' | 'offline' | null;
  algo: string;
  teacher: string | null;
  feedback: number | null;
  tasks: string[];
  runs: RunScore[];
  aggregates: Record<ScoreName, Record<AggregateName, Estimate>>;
  /** Run-score distribution of final success. */
  profile: ProfilePoint[];
  /** IQM of success vs env (or gradient) steps. */
  efficiencySteps: SamplePoint[];
  /** IQM of success vs labels used; null for groups that asked no teacher. */
  efficiencyLabels: SamplePoint[] | null;
  /** Mean over runs of the queries asked and the labels given (a skipping teacher gives fewer). */
  labels: { queries: number; labelled: number } | null;
  learningCurves: TaskCurve[];
}

export interface Improvement extends Estimate {
  x: string;
  y: string;
  tasks: string[];
}

export interface TeacherCell extends Estimate {
  row: string;
  algo: string;
  runs: number;
}

export interface CellRow {
  id: string;
  group: string | null;
  algo: string | null;
  task: string | null;
  seed: number | null;
  teacher: string | null;
  feedback: number | null;
  state: CellState;
  problem: string | null;
  final_success: number | null;
  auc_success: number | null;
  max_success: number | null;
  steps: number | null;
  env_steps: number | null;
  wall_seconds: number | null;
  env_steps_per_s: number | null;
  labels: number | null;
  labelled: number | null;
  worker: string | null;
  attempts: number | null;
}

export interface Environment {
  versions: Record<string, string | null> | null;
  backend: unknown;
  cells: string[];
}

export interface Summary {
  suite: { name: string; description: string; smokeScale: boolean; axes: unknown };
  resultsDir: string;
  bootstrap: { reps: number; seed: number; confidence: number; method: string };
  counts: Record<CellState, number> & { total: number };
  groups: GroupSummary[];
  improvement: Improvement[];
  teacherTable: { rows: string[]; algos: string[]; cells: TeacherCell[] };
  cells: CellRow[];
  stray: string[];
  environments: Environment[];
  configs: { id: string; group: string | null; config: unknown }[];
}

export interface SummaryOptions {
  reps?: number;
  seed?: number;
}

function byTask<T>(items: T[], task: (t: T) => string): { tasks: string[]; strata: T[][] } {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = task(it);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(it);
  }
  const tasks = [...m.keys()].sort();
  return { tasks, strata: tasks.map((t) => m.get(t)!) };
}

/** Teacher x algorithm table row: the teacher, plus the budget or dataset kind where the cell has one. */
function teacherRow(c: CellRecord): string {
  const a = c.info!.axes;
  const parts = [a.teacher ?? 'true reward'];
  if (a.feedback != null) parts.push(`${a.feedback} labels`);
  if (typeof a.data === 'string') parts.push(`${a.data} data`);
  return parts.join(', ');
}

function lastEval(c: CellRecord) {
  return c.evals.length ? c.evals[c.evals.length - 1] : null;
}

function cellRow(c: CellRecord): CellRow {
  const a = c.info?.axes;
  const last = lastEval(c);
  const curve = successCurve(c);
  const wall = c.status?.wallSeconds ?? null;
  const envSteps = c.status?.envSteps ?? null;
  return {
    id: c.id,
    group: c.info?.group ?? null,
    algo: a?.algo ?? null,
    task: a?.task ?? null,
    seed: a?.seed ?? null,
    teacher: a?.teacher ?? null,
    feedback: a?.feedback ?? null,
    state: c.state,
    problem: c.problem ?? null,
    final_success: curve.length ? finalScore(curve) : null,
    auc_success: curve.length ? areaUnderCurve(curve) : null,
    max_success: curve.length ? maxScore(curve) : null,
    steps: last?.step ?? null,
    env_steps: envSteps,
    wall_seconds: wall,
    // The runner's own measure when it logged one (online runs); offline runs take no env steps.
    env_steps_per_s: last?.envStepsPerS ?? (wall && envSteps ? envSteps / wall : null),
    labels: last?.labels ?? null,
    labelled: last?.labelled ?? null,
    worker: c.status?.worker ?? null,
    attempts: c.status?.attempts ?? null,
  };
}

function summarizeGroup(group: string, cells: CellRecord[], opts: Required<SummaryOptions>): GroupSummary {
  const boot = (label: string) => ({ reps: opts.reps, seed: opts.seed, label: `${group}:${label}` });
  const axes = cells[0].info!.axes;
  const runs: RunScore[] = cells
    .map((c) => {
      const curve = successCurve(c);
      return { cell: c.id, task: c.info!.axes.task, seed: c.info!.axes.seed, final_success: finalScore(curve), auc_success: areaUnderCurve(curve), max_success: maxScore(curve) };
    })
    .sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : a.seed - b.seed));
  const { tasks, strata } = byTask(runs, (r) => r.task);
  const scores = (s: ScoreName): Stratified => strata.map((rs) => rs.map((r) => r[s]));
  const aggregates = Object.fromEntries(SCORES.map((s) => [s, aggregateEstimates(scores(s), boot(s))])) as GroupSummary['aggregates'];

  const byTaskCells = byTask(cells, (c) => c.info!.axes.task);
  const stepCurves: Stratified<Curve> = byTaskCells.strata.map((cs) => cs.map(successCurve));
  const labelCurves = byTaskCells.strata.map((cs) => cs.map(labelCurve));
  const hasLabels = labelCurves.every((t) => t.every((c) => c !== null));
  const finalLabels = cells.map((c) => lastEval(c)!).filter((e) => e.labels !== null);

  return {
    group,
    kind: cells[0].info!.kind === 'online' || cells[0].info!.kind === 'offline' ? cells[0].info!.kind : null,
    algo: axes.algo,
    teacher: axes.teacher ?? null,
    feedback: axes.feedback ?? null,
    tasks,
    runs,
    aggregates,
    profile: performanceProfile(scores('final_success'), PROFILE_TAUS, boot('profile')),
    efficiencySteps: sampleEfficiency(stepCurves, boot('steps')),
    efficiencyLabels: hasLabels ? sampleEfficiency(labelCurves as Stratified<Curve>, boot('labels')) : null,
    labels: finalLabels.length
      ? { queries: finalLabels.reduce((a, e) => a + e.labels!, 0) / finalLabels.length, labelled: finalLabels.reduce((a, e) => a + (e.labelled ?? e.labels!), 0) / finalLabels.length }
      : null,
    learningCurves: byTaskCells.tasks.map((task, t) => ({
      task,
      runs: stepCurves[t].length,
      curve: sampleEfficiency([stepCurves[t]], { ...boot(`curve:${task}`), statistic: 'mean' }),
    })),
  };
}

export function summarize(results: Results, options: SummaryOptions = {}): Summary {
  const opts = { reps: options.reps ?? DEFAULT_REPS, seed: options.seed ?? 0 };
  if (!Number.isInteger(opts.reps) || opts.reps < 1) throw new Error(`reps must be a positive integer, got ${opts.reps}`);
  const done = results.cells.filter((c) => c.state === 'done');
  const groupsMap = new Map<string, CellRecord[]>();
  for (const c of done) {
    const g = c.info!.group;
    if (!groupsMap.has(g)) groupsMap.set(g, []);
    groupsMap.get(g)!.push(c);
  }
  // Suite order (the order the suite lists its cells) keeps colours and rows stable across reruns.
  const groups = [...groupsMap.entries()].map(([g, cs]) => summarizeGroup(g, cs, opts));

  const improvement: Improvement[] = [];
  for (const gx of groups) {
    for (const gy of groups) {
      if (gx === gy) continue;
      const tasks = gx.tasks.filter((t) => gy.tasks.includes(t));
      if (!tasks.length) continue;
      const strata = (g: GroupSummary) => tasks.map((t) => g.runs.filter((r) => r.task === t).map((r) => r.final_success));
      const e = improvementEstimate(strata(gx), strata(gy), { reps: opts.reps, seed: opts.seed, label: `poi:${gx.group}>${gy.group}` });
      improvement.push({ x: gx.group, y: gy.group, tasks, ...e });
    }
  }

  const rows: string[] = [];
  const algos: string[] = [];
  const cellsByKey = new Map<string, CellRecord[]>();
  for (const c of done) {
    const row = teacherRow(c);
    const algo = c.info!.axes.algo;
    if (!rows.includes(row)) rows.push(row);
    if (!algos.includes(algo)) algos.push(algo);
    const k = JSON.stringify([row, algo]);
    if (!cellsByKey.has(k)) cellsByKey.set(k, []);
    cellsByKey.get(k)!.push(c);
  }
  const teacherCells: TeacherCell[] = [...cellsByKey.entries()].map(([k, cs]) => {
    const [row, algo] = JSON.parse(k) as [string, string];
    const { strata } = byTask(cs, (c) => c.info!.axes.task);
    const est = aggregateEstimates(strata.map((s) => s.map((c) => finalScore(successCurve(c)))), { reps: opts.reps, seed: opts.seed, label: `table:${k}` });
    return { row, algo, runs: cs.length, ...est.iqm };
  });

  const counts = { done: 0, running: 0, failed: 0, missing: 0, unreadable: 0, total: results.cells.length };
  for (const c of results.cells) counts[c.state]++;

  const envs = new Map<string, Environment>();
  for (const c of results.cells) {
    if (!c.config) continue;
    const env = { versions: c.config.versions ?? null, backend: c.config.backend ?? null };
    const k = JSON.stringify(env);
    if (!envs.has(k)) envs.set(k, { ...env, cells: [] });
    envs.get(k)!.cells.push(c.id);
  }

  return {
    suite: { name: results.suite.name, description: results.suite.description, smokeScale: results.suite.smokeScale, axes: results.suite.axes ?? null },
    resultsDir: results.dir,
    bootstrap: { reps: opts.reps, seed: opts.seed, confidence: 0.95, method: 'stratified bootstrap (tasks as strata, runs resampled within each task), percentile intervals' },
    counts,
    groups,
    improvement,
    teacherTable: { rows, algos, cells: teacherCells },
    cells: results.cells.map(cellRow),
    stray: results.stray,
    environments: [...envs.values()],
    configs: results.cells.filter((c) => c.config).map((c) => ({ id: c.id, group: c.info?.group ?? null, config: c.config!.config })),
  };
}
