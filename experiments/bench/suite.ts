/**
 * Benchmark suites: a typed spec (zod) of a grid — algorithms x tasks x seeds x feedback budgets x
 * teachers x query strategies (online), or algorithms x tasks x seeds x dataset kinds x teachers
 * (offline) — with config overrides for every cell, per algorithm and per task. `expandSuite`
 * resolves every cell's training config through the same schema `pbrl train` uses, so a bad field
 * is refused, with its name, before anything runs.
 *
 * Axes that an algorithm does not read collapse for it: SAC learns from the true reward, so it gets
 * one cell per (task, seed) however many teachers the suite lists — the baseline every PbRL curve
 * is compared with, run once.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Rng } from '../../core/rng.js';
import { taskNames } from '../../envs/registry.js';
import { OFFLINE_ALGOS, isOfflineAlgoName } from '../../agents/offline/index.js';
import { QUERY_STRATEGIES } from '../../reward/query/select.js';
import { BPREF_TEACHERS, parseTeacher } from '../../reward/teachers/parse.js';
import { ALGOS, parseTrainConfig } from '../train-config.js';
import { parseOfflineTrainConfig } from '../offline-runner.js';
import { MakeDatasetSchema } from '../datasets/make.js';

const ONLINE = ALGOS as readonly string[];
const OFFLINE = OFFLINE_ALGOS as readonly string[];
/** Algorithms that learn a reward from a teacher's labels online (read teacher, feedback, query). */
const PBRL_ONLINE = new Set(['pebble', 'surf', 'qpa']);
/** Online algorithms whose teacher is in their own config section (not the teacher axis): how to name it. */
const OWN_TEACHER: Record<string, (c: Record<string, unknown>) => string> = {
  rbrl: (c) => (c.rbrl as { teacher: string }).teacher,
  heron: () => 'heron',
};

const overrides = z.record(z.string(), z.unknown());

function axis<T extends z.ZodType>(item: T) {
  return z.array(item).min(1, { message: 'must list at least one value (an empty axis would make an empty grid)' });
}

const teacherSpec = z.string().superRefine((s, ctx) => {
  try {
    // V* comes from the dataset or the run; a stand-in lets the spec itself be checked now.
    parseTeacher(BPREF_TEACHERS[s] ?? s, new Rng(0), { valueFn: () => 0 });
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `unknown or invalid teacher "${s}": ${(e as Error).message}` });
  }
});

const feedbackBudget = z.union([
  z.number().int().min(0),
  z.object({ maxFeedback: z.number().int().min(0), queriesPerRound: z.number().int().positive() }).strict(),
]);

const datasetPartial = z.record(z.string(), z.unknown());

export const SuiteSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'letters, digits, ".", "_" and "-" only' }),
    description: z.string().default(''),
    /** A smoke-scale suite shows the pipeline and a first ordering, not paper numbers; the report says so. */
    smokeScale: z.boolean().default(false),
    axes: z
      .object({
        algo: axis(z.string().refine((a) => ONLINE.includes(a) || OFFLINE.includes(a), {
          message: `unknown algorithm; online: ${ONLINE.join(', ')}; offline: ${OFFLINE.join(', ')}`,
        })),
        task: axis(z.string().refine((t) => taskNames().includes(t), { message: `unknown task; valid tasks: ${taskNames().join(', ')}` })),
        seed: axis(z.number().int().nonnegative()),
        /** PEBBLE/SURF: total queries (max_feedback), optionally with the queries per round. */
        feedback: axis(feedbackBudget).optional(),
        /** Teacher specs or B-Pref names (oracle, stoc, mistake, skip, equal, myopic); offline: the dataset's labels. */
        teacher: axis(teacherSpec).optional(),
        /** PEBBLE/SURF query selection. */
        query: axis(z.string().refine((q) => QUERY_STRATEGIES.has(q), { message: `unknown query strategy; known: ${[...QUERY_STRATEGIES.keys()].join(', ')}` })).optional(),
        /** Offline: dataset kinds. */
        data: axis(z.enum(['dense', 'sparse'])).optional(),
        /** Goal in the observation, as an axis (a per-task choice goes in taskConfig). */
        goalObservable: axis(z.boolean()).optional(),
        /** Named config variants (ablations, diagnostics), each defined in `variants`. */
        variant: axis(z.string()).optional(),
      })
      .strict(),
    /** Env steps (online) or gradient steps (offline) per cell. */
    steps: z.number().int().positive(),
    evalEvery: z.number().int().positive().optional(),
    evalEpisodes: z.number().int().positive().optional(),
    /** Any field `pbrl train` accepts (train-config.ts / offline-runner.ts), for every cell. */
    config: overrides.default({}),
    /** The same, per algorithm (applied over `config`). */
    algoConfig: z.record(z.string(), overrides).default({}),
    /** The same, per task (applied last: e.g. goal visibility chosen per task). */
    taskConfig: z.record(z.string(), overrides).default({}),
    /**
     * Variants named on axes.variant: config overrides applied last, to the listed algorithms only
     * (default: all). An algorithm no variant applies to runs once, without one.
     */
    variants: z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'letters, digits, ".", "_" and "-" only' }), z
        .object({ algos: z.array(z.string()).min(1).optional(), config: overrides })
        .strict())
      .default({}),
    /**
     * Offline, the CPL reference's data recipe: the SAC runs (on the true reward) that the datasets'
     * `policy` / `valueFrom` name inside the results directory (e.g. `sac/{task}`). The local runner
     * trains each one that is missing or unfinished before building datasets, with
     * `pbrl train --algo sac --task T --steps <steps>` and these config fields.
     */
    behaviourSac: z.object({ steps: z.number().int().positive(), config: overrides.default({}) }).strict().optional(),
    /** Offline: options of `pbrl dataset make` (experiments/datasets/make.ts) shared by all kinds, then per kind. */
    datasets: z
      .object({ common: datasetPartial.default({}), dense: datasetPartial.default({}), sparse: datasetPartial.default({}) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const online = s.axes.algo.filter((a) => ONLINE.includes(a));
    const offline = s.axes.algo.filter((a) => OFFLINE.includes(a));
    if (online.length && offline.length) {
      ctx.addIssue({ code: 'custom', path: ['axes', 'algo'], message: `mixes online (${online.join(', ')}) and offline (${offline.join(', ')}) algorithms; make two suites` });
    }
    for (const k of Object.keys(s.algoConfig)) {
      if (!s.axes.algo.includes(k)) ctx.addIssue({ code: 'custom', path: ['algoConfig', k], message: `"${k}" is not in axes.algo` });
    }
    for (const k of Object.keys(s.taskConfig)) {
      if (!s.axes.task.includes(k)) ctx.addIssue({ code: 'custom', path: ['taskConfig', k], message: `"${k}" is not in axes.task` });
    }
    if (offline.length) {
      for (const k of ['feedback', 'query'] as const) {
        if (s.axes[k]) ctx.addIssue({ code: 'custom', path: ['axes', k], message: 'applies to online PbRL (pebble, surf) only' });
      }
    } else if (s.axes.data) {
      ctx.addIssue({ code: 'custom', path: ['axes', 'data'], message: 'applies to offline algorithms only' });
    }
    for (const v of s.axes.variant ?? []) {
      if (!s.variants[v]) ctx.addIssue({ code: 'custom', path: ['axes', 'variant'], message: `"${v}" is not defined in variants (defined: ${Object.keys(s.variants).join(', ') || 'none'})` });
    }
    for (const [name, v] of Object.entries(s.variants)) {
      if (!(s.axes.variant ?? []).includes(name)) ctx.addIssue({ code: 'custom', path: ['variants', name], message: `"${name}" is not in axes.variant` });
      for (const a of v.algos ?? []) {
        if (!s.axes.algo.includes(a)) ctx.addIssue({ code: 'custom', path: ['variants', name, 'algos'], message: `"${a}" is not in axes.algo` });
      }
    }
    if (!offline.length && s.datasets) ctx.addIssue({ code: 'custom', path: ['datasets'], message: 'applies to offline algorithms only' });
  });

export type SuiteSpec = z.input<typeof SuiteSchema>;
export type Suite = z.infer<typeof SuiteSchema>;

/** Parses a suite, naming every bad field. */
export function parseSuite(raw: unknown, source = 'suite'): Suite {
  const r = SuiteSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`invalid ${source}:\n${r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return r.data;
}

/** JSON with object keys sorted at every level: equal values give equal strings. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function hashOf(v: unknown, chars = 10): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, chars);
}

/** Plain objects merge key by key; anything else (arrays included) replaces. */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

/** An offline dataset a suite needs: built once, shared by every cell on it. */
export interface DatasetJob {
  id: string;
  /** Relative to the results directory. */
  path: string;
  /** Resolved `pbrl dataset make` options. */
  options: z.infer<typeof MakeDatasetSchema>;
  /** Paths of the plan's behaviour SAC runs (Plan.sacRuns) this dataset reads; empty when none. */
  sacRuns?: string[];
}

/** A behaviour SAC run the suite's datasets read (suite.behaviourSac), trained before them. */
export interface SacRunJob {
  task: string;
  /** Relative to the results directory (a dataset's `policy` / `valueFrom` with `{task}` filled in). */
  path: string;
  /** The resolved `pbrl train --algo sac` config. */
  trainConfig: Record<string, unknown>;
}

export interface CellAxes {
  algo: string;
  task: string;
  seed: number;
  feedback?: number;
  teacher?: string;
  query?: string;
  data?: 'dense' | 'sparse';
  goalObservable: boolean;
  variant?: string;
}

export interface Cell {
  id: string;
  suite: string;
  kind: 'online' | 'offline';
  axes: CellAxes;
  /** The label a learning curve gets: algo, algo/teacher (+ /budget etc. where the suite varies them). */
  group: string;
  /** The fully resolved config passed to `pbrl train`. */
  trainConfig: Record<string, unknown>;
  /** Offline: the dataset the cell trains on. */
  dataset?: { id: string; path: string };
}

export interface Plan {
  suite: Suite;
  cells: Cell[];
  datasets: DatasetJob[];
  /** Behaviour SAC runs the datasets need (suite.behaviourSac), in plan order. */
  sacRuns: SacRunJob[];
}

/** The plan's datasets that `cells` train on (offline suites), each once, in plan order. */
export function datasetsFor(plan: Plan, cells: Cell[]): DatasetJob[] {
  const needed = new Set(cells.map((c) => c.dataset?.id).filter((x): x is string => Boolean(x)));
  return plan.datasets.filter((d) => needed.has(d.id));
}

function bprefSpec(teacher: string): string {
  return BPREF_TEACHERS[teacher] ?? teacher;
}

function budgetOf(b: z.infer<typeof feedbackBudget>): { maxFeedback: number; queriesPerRound?: number } {
  return typeof b === 'number' ? { maxFeedback: b } : b;
}

/**
 * Every cell of the suite with its resolved config. Errors name the cell and the field; nothing is
 * written or run here.
 */
export function expandSuite(suite: Suite): Plan {
  const offline = suite.axes.algo.some((a) => OFFLINE.includes(a));
  const cells: Cell[] = [];
  const datasets = new Map<string, DatasetJob>();
  const errors: string[] = [];
  const several = (k: keyof Suite['axes']) => ((suite.axes[k] as unknown[] | undefined)?.length ?? 0) > 1;
  const goalAxis: (boolean | undefined)[] = suite.axes.goalObservable ?? [undefined];

  for (const algo of suite.axes.algo) {
    const pbrl = PBRL_ONLINE.has(algo);
    const teachers: (string | undefined)[] = pbrl || offline ? (suite.axes.teacher ?? ['oracle']) : [undefined];
    const budgets = pbrl ? (suite.axes.feedback ?? [undefined]) : [undefined];
    const queries: (string | undefined)[] = pbrl ? (suite.axes.query ?? [undefined]) : [undefined];
    const kinds: ('dense' | 'sparse' | undefined)[] = offline ? (suite.axes.data ?? ['dense']) : [undefined];
    const applying = (suite.axes.variant ?? []).filter((v) => !suite.variants[v].algos || suite.variants[v].algos!.includes(algo));
    const variants: (string | undefined)[] = applying.length ? applying : [undefined];
    for (const task of suite.axes.task) {
      for (const seed of suite.axes.seed) {
        for (const teacher of teachers) {
          for (const budget of budgets) {
            for (const query of queries) {
              for (const data of kinds) {
                for (const goal of goalAxis) for (const variant of variants) {
                  const where = [algo, task, `seed ${seed}`, teacher, budget !== undefined ? `feedback ${budgetOf(budget).maxFeedback}` : undefined, query, data,
                    goal === undefined ? undefined : `goal ${goal ? 'visible' : 'hidden'}`, variant && `variant ${variant}`].filter((x) => x !== undefined).join(' / ');
                  try {
                    let raw: Record<string, unknown> = { steps: suite.steps };
                    if (suite.evalEvery) raw.evalEvery = suite.evalEvery;
                    if (suite.evalEpisodes) raw.evalEpisodes = suite.evalEpisodes;
                    raw = deepMerge(raw, suite.config);
                    raw = deepMerge(raw, suite.algoConfig[algo] ?? {});
                    raw = deepMerge(raw, suite.taskConfig[task] ?? {});
                    if (variant) raw = deepMerge(raw, suite.variants[variant].config);
                    raw = deepMerge(raw, { algo, task, seed });
                    if (goal !== undefined && !offline) raw.goalObservable = goal;
                    let dataset: DatasetJob | undefined;
                    let trainConfig: Record<string, unknown>;
                    if (offline) {
                      const opts = deepMerge(deepMerge(suite.datasets?.common ?? {}, suite.datasets?.[data!] ?? {}), { task, kind: data, teacher: bprefSpec(teacher!) });
                      if (goal !== undefined) opts.goalObservable = goal;
                      const dr = MakeDatasetSchema.safeParse(opts);
                      if (!dr.success) throw new Error(`invalid dataset options:\n${dr.error.issues.map((i) => `  datasets.${i.path.join('.')}: ${i.message}`).join('\n')}`);
                      const dsId = `${task}-${data}-${hashOf(dr.data)}`;
                      dataset = datasets.get(dsId) ?? { id: dsId, path: `datasets/${dsId}.pbrlds`, options: dr.data };
                      datasets.set(dsId, dataset);
                      raw.dataset = dataset.path;
                      // The policy sees what the dataset recorded; `pbrl train` would fill these from it anyway.
                      const dopts = dataset.options as Record<string, unknown>;
                      for (const k of ['goalObservable', 'envVersion']) if (dopts[k] !== undefined) raw[k] = dopts[k];
                      trainConfig = parseOfflineTrainConfig(raw) as unknown as Record<string, unknown>;
                    } else {
                      if (pbrl) {
                        const fb: Record<string, unknown> = { teacher: bprefSpec(teacher!) };
                        if (budget !== undefined) Object.assign(fb, budgetOf(budget));
                        if (query !== undefined) fb.strategy = query;
                        raw = deepMerge(raw, { reward: { feedback: fb } });
                        // As `pbrl train --algo surf` does: SURF is PEBBLE with feedback.surf set.
                        if (algo === 'surf' && !(raw.reward as { feedback: Record<string, unknown> }).feedback.surf) {
                          raw = deepMerge(raw, { reward: { feedback: { surf: {} } } });
                        }
                      }
                      trainConfig = parseTrainConfig(raw) as unknown as Record<string, unknown>;
                    }
                    const fb = (trainConfig.reward as { feedback?: { maxFeedback: number; strategy: string } } | undefined)?.feedback;
                    // Both schemas resolve it: the train config's default, or the dataset's (copied above).
                    const goalObservable = trainConfig.goalObservable as boolean;
                    const axes: CellAxes = { algo, task, seed, goalObservable };
                    if (teacher !== undefined) axes.teacher = teacher;
                    if (pbrl && fb) {
                      axes.feedback = fb.maxFeedback;
                      axes.query = fb.strategy;
                    }
                    // rbrl and heron bring their own teacher: the report names it and their budget.
                    const own = OWN_TEACHER[algo]?.(trainConfig);
                    if (own && fb) {
                      axes.teacher = own;
                      axes.feedback = fb.maxFeedback;
                    }
                    if (data) axes.data = data;
                    if (variant) axes.variant = variant;
                    const groupParts = [algo];
                    if (offline) groupParts.push(data!);
                    if (pbrl || (offline && several('teacher'))) groupParts.push(teacher!);
                    if (pbrl && several('feedback')) groupParts.push(String(axes.feedback));
                    if (pbrl && several('query')) groupParts.push(axes.query!);
                    if (several('goalObservable')) groupParts.push(goalObservable ? 'goal-visible' : 'goal-hidden');
                    if (variant) groupParts.push(variant);
                    const kind = offline ? 'offline' : 'online';
                    const id = `${algo}-${task}-s${seed}-${hashOf({ kind, trainConfig })}`;
                    cells.push({ id, suite: suite.name, kind, axes, group: groupParts.join('/'), trainConfig, ...(dataset ? { dataset: { id: dataset.id, path: dataset.path } } : {}) });
                  } catch (e) {
                    errors.push(`cell ${where}: ${(e as Error).message.replace(/\n/g, '\n  ')}`);
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  if (errors.length) throw new Error(`invalid suite "${suite.name}":\n${[...new Set(errors)].slice(0, 10).join('\n')}${errors.length > 10 ? `\n(${errors.length - 10} more)` : ''}`);
  const seen = new Set<string>();
  const unique = cells.filter((c) => (seen.has(c.id) ? false : (seen.add(c.id), true)));
  const dsList = [...datasets.values()];
  return { suite, cells: unique, datasets: dsList, sacRuns: behaviourSacRuns(suite, dsList) };
}

/**
 * The SAC runs behind the datasets' `policy` / `valueFrom` when the suite says how to train them
 * (behaviourSac): one per distinct path inside the results directory, each dataset's own in its
 * `sacRuns`. Absolute paths and paths leaving the directory are the user's own runs and are left alone.
 */
function behaviourSacRuns(suite: Suite, datasets: DatasetJob[]): SacRunJob[] {
  const spec = suite.behaviourSac;
  if (!spec) return [];
  const runs = new Map<string, SacRunJob>();
  for (const d of datasets) {
    const o = d.options;
    for (const p of [o.policy, o.valueFrom]) {
      if (p === undefined) continue;
      const path = p.replaceAll('{task}', o.task);
      if (path.startsWith('/') || path.split('/').includes('..')) continue;
      if (!(d.sacRuns ??= []).includes(path)) d.sacRuns.push(path);
      if (runs.has(path)) continue;
      let raw: Record<string, unknown> = deepMerge(spec.config, { algo: 'sac', task: o.task, steps: spec.steps });
      if (o.goalObservable !== undefined) raw = deepMerge(raw, { goalObservable: o.goalObservable });
      if (o.envVersion !== undefined) raw = deepMerge(raw, { envVersion: o.envVersion });
      let trainConfig: Record<string, unknown>;
      try {
        trainConfig = parseTrainConfig(raw) as unknown as Record<string, unknown>;
      } catch (e) {
        throw new Error(`invalid suite "${suite.name}": behaviourSac for ${o.task}: ${(e as Error).message}`);
      }
      runs.set(path, { task: o.task, path, trainConfig });
    }
  }
  return [...runs.values()];
}

/** The resolved suite as written to <out>/suite.json (a contract with experiments/report). */
export function suiteJson(plan: Plan): Record<string, unknown> {
  const { suite } = plan;
  const axes: Record<string, unknown[]> = {};
  for (const c of plan.cells) {
    for (const [k, v] of Object.entries(c.axes)) {
      const list = (axes[k] ??= []);
      if (!list.some((x) => canonicalJson(x) === canonicalJson(v))) list.push(v);
    }
  }
  return {
    name: suite.name, description: suite.description, smokeScale: suite.smokeScale,
    kind: plan.cells[0]?.kind ?? 'online', steps: suite.steps, axes, cells: plan.cells.map((c) => c.id),
    datasets: plan.datasets.map((d) => ({ id: d.id, path: d.path })), spec: suite,
  };
}

export function isOffline(algo: string): boolean {
  return isOfflineAlgoName(algo);
}
