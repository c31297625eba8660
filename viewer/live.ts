/**
 * Live labeling for online training (PEBBLE with --teacher human): the trainer starts the label
 * server once, then at each feedback session calls requestLabels(pairs) (or, for rating-based RL,
 * requestRatings(segments)) and awaits the people's answers, with a timeout and a fallback it
 * chooses. Answers land in the same SQLite store (and export to the same JSON-lines format) as
 * offline labeling. See viewer/README.md.
 */
import type { FastifyInstance } from 'fastify';
import type { PreferenceLabel, Segment } from '../core/types.js';
import type { SceneGeometry } from '../envs/geometry.js';
import { answerToPreference, answerToRating, CONFIDENCE_LEVELS, LabelStore, type AnswerRow, type Confidence, type PoolRow, type PoolSpec, type QueryInput } from './label-store.js';
import { MemorySegmentSource } from './run-data.js';
import { buildServer, isLoopback, listen } from './server.js';
import { randomBytes } from 'node:crypto';
import type { HumanRatingLabel, LabelSource, RatingSource } from '../reward/label-source.js';
import { effectiveLabel, type HumanAnswerPolicy } from '../reward/preference-dataset.js';

export interface LabelServerOptions {
  /** SQLite file the labels are written to (created if missing). */
  dbPath: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Name put in the printed URL; every person can open the page with ?teacher=<their name>. */
  teacherName?: string;
  /** Scene geometry per task; more can be added with addGeometry or per request. */
  geometry?: Record<string, SceneGeometry>;
  /** Distinct people who must answer each pair before it counts as done (default 1). */
  labelsPerPair?: number;
  /** Shown above each pair, e.g. "Which arm gets the puck closer to the red goal?". */
  instructions?: string;
  /** Prefix of the pool names this server creates (default "live-<start time>"). */
  poolPrefix?: string;
  /**
   * Access token; required (and generated when not given) for a host other than loopback, where
   * anyone on the network could otherwise label. `url` carries it.
   */
  accessToken?: string;
  /**
   * How long a pair shown to one person is held for them (default 10 minutes): meanwhile others get
   * other pairs; an abandoned pair goes to someone else after this.
   */
  leaseMs?: number;
}

/**
 * What requestLabels does with pairs nobody answered before the timeout:
 * - 'skip': return them with label null (the trainer's skip handling drops them),
 * - 'drop': leave them out of the result,
 * - a function: its answer is used (e.g. a scripted teacher), marked with `fallbackTeacher`.
 */
export type LabelFallback = 'skip' | 'drop' | ((pair: { a: Segment; b: Segment }) => PreferenceLabel['label'] | Promise<PreferenceLabel['label']>);

/** What every request waits under, pairs or ratings. */
interface WaitOptions {
  /** How long to wait for people, in ms (default: forever). */
  timeoutMs?: number;
  geometry?: Record<string, SceneGeometry>;
  signal?: AbortSignal;
}

export interface RequestLabelsOptions extends WaitOptions {
  fallback?: LabelFallback;
  /** Teacher name recorded on fallback labels (default "fallback:<kind>"). */
  fallbackTeacher?: string;
  /**
   * What "both bad" / "can't tell" / low-confidence answers hand the trainer (reward/
   * preference-dataset's policy): by default label null with `answer` saying which (a trainer
   * drops them like skips); `{bothBad: 'equal'}` etc. returns label 0.5 instead (and no `answer`:
   * the label is what training uses; the database keeps what was answered).
   */
  answers?: HumanAnswerPolicy;
}

/**
 * What requestRatings does with segments nobody rated before the timeout: 'skip' leaves them out of
 * the result (RatingLabel has no skip); a function's rating (0-based, e.g. a synthetic rating
 * teacher's) is used instead, marked with `fallbackTeacher`.
 */
export type RatingFallback = 'skip' | ((segment: Segment) => number | Promise<number>);

export interface RequestRatingsOptions extends WaitOptions {
  /** Number of ordered levels the page offers (2..10); ratings are 0-based, lowest = worst. */
  classes: number;
  /** What each level means, lowest first (shown on the page, kept with the answers). */
  levelNames?: string[];
  fallback?: RatingFallback;
  /** Teacher name recorded on fallback ratings (default "fallback:function"). */
  fallbackTeacher?: string;
  /** Ratings a person marked below this confidence are left out, as pairs' are (unset: all count). */
  minConfidence?: Confidence;
}

export interface LabelServer {
  /** The labeling page for the default teacher. */
  url: string;
  /** Base URL of the server. */
  baseUrl: string;
  store: LabelStore;
  app: FastifyInstance;
  addGeometry(task: string, geometry: SceneGeometry): void;
  /**
   * Puts the pairs in front of the people on the page and resolves with their labels, in pair
   * order (one per pair and person), when every pair has enough answers — or, at the timeout, with
   * what was answered plus the fallback for the rest.
   */
  requestLabels(pairs: { a: Segment; b: Segment }[], opts?: RequestLabelsOptions): Promise<PreferenceLabel[]>;
  /**
   * The same, as reward/'s LabelSource (exactly one label per pair, in order: the first person's
   * answer, or the fallback's), so a trainer can swap a scripted teacher for people unchanged.
   */
  labelSource(opts?: Omit<RequestLabelsOptions, 'fallback'> & { fallback?: Exclude<LabelFallback, 'drop'> }): LabelSource;
  /**
   * Puts each segment in front of the people to rate and resolves, like requestLabels, with their
   * ratings in segment order (one per segment and person). A segment skipped by the person, or
   * unanswered at the timeout with fallback 'skip', has none.
   */
  requestRatings(segments: Segment[], opts: RequestRatingsOptions): Promise<HumanRatingLabel[]>;
  /** The same as reward/'s RatingSource: at most one rating per segment (the first person's), skipped ones left out. */
  ratingSource(opts: RequestRatingsOptions): RatingSource;
  close(): Promise<void>;
}

export async function startLabelServer(opts: LabelServerOptions): Promise<LabelServer> {
  const labelsPerPair = opts.labelsPerPair ?? 1;
  if (!(Number.isInteger(labelsPerPair) && labelsPerPair >= 1)) throw new Error(`labelsPerPair must be an integer >= 1, got ${labelsPerPair}`);
  const store = new LabelStore(opts.dbPath, opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {});
  const source = new MemorySegmentSource();
  for (const [task, g] of Object.entries(opts.geometry ?? {})) source.addGeometry(task, g);
  const active: string[] = [];
  const waiters = new Set<() => void>();
  const prefix = opts.poolPrefix ?? `live-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  let counter = 0;

  const accessToken = opts.host && !isLoopback(opts.host) ? (opts.accessToken ?? randomBytes(16).toString('hex')) : opts.accessToken;
  const app = await buildServer({
    ...(accessToken ? { accessToken } : {}),
    labeling: {
      store,
      pools: () => [...active],
      segments: source,
      live: true,
      ...(opts.teacherName ? { defaultTeacher: opts.teacherName } : {}),
      ...(opts.instructions ? { instructions: opts.instructions } : {}),
      onAnswer: () => {
        for (const w of waiters) w();
      },
    },
  });
  let baseUrl: string;
  try {
    baseUrl = await listen(app, { ...(opts.host ? { host: opts.host } : {}), port: opts.port ?? 0 });
  } catch (e) {
    store.close();
    throw e;
  }
  const teacher = opts.teacherName ?? 'anonymous';

  /** Refuses segments the page could not show, before any pool is opened. */
  function admit(segments: { seg: Segment; where: string }[], ro: WaitOptions): void {
    for (const [task, g] of Object.entries(ro.geometry ?? {})) source.addGeometry(task, g);
    for (const { seg, where } of segments) {
      if (!seg?.poses) throw new Error(`${where}: segment ${seg?.id} has no recorded poses; record rollouts with poses to label them`);
      if (!source.geometry(seg.task)) throw new Error(`${where}: no scene geometry for task "${seg.task}" (pass it in geometry)`);
    }
    if (ro.timeoutMs !== undefined && !(ro.timeoutMs >= 0)) throw new Error(`timeoutMs must be >= 0, got ${ro.timeoutMs}`);
  }

  /**
   * Opens one pool of these queries on the page and resolves, when each query has labelsPerPair
   * answers or at the timeout, with the pool and the answers per query (in query order).
   */
  async function awaitPool(
    def: Omit<PoolSpec, 'name' | 'labelsPerQuery'>, queries: QueryInput[], segments: Segment[], ro: WaitOptions, what: string,
  ): Promise<{ pool: PoolRow; answers: AnswerRow[][] }> {
    for (const s of segments) source.add(s);
    const name = `${prefix}-${++counter}`;
    const pool = store.ensurePool({ ...def, name, labelsPerQuery: labelsPerPair }, queries);
    // Queries are inserted in the given order, so the i-th query of the pool is the i-th asked.
    const queryIds = store.queries(name).map((q) => q.id);
    active.push(name);
    try {
      await new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = () => {
          waiters.delete(check);
          if (timer) clearTimeout(timer);
          ro.signal?.removeEventListener('abort', onAbort);
        };
        const check = () => {
          if (store.unfinished(name) === 0) {
            finish();
            resolve();
          }
        };
        const onAbort = () => {
          finish();
          reject(new Error(`${what} aborted`));
        };
        waiters.add(check);
        if (ro.timeoutMs !== undefined) timer = setTimeout(() => (finish(), resolve()), ro.timeoutMs);
        ro.signal?.addEventListener('abort', onAbort);
        check();
      });
    } finally {
      // Retire the pool: the page stops offering its queries and shows "waiting" until the next request.
      active.splice(active.indexOf(name), 1);
      // Forget segments no open pool shows any more, so a long training run does not pile them up.
      const inUse = new Set(active.flatMap((p) => store.queries(p).flatMap((q) => [q.a, q.b ?? ''])));
      for (const s of segments) if (!inUse.has(s.id)) source.delete(s.id);
    }
    const answered = store.answers(name);
    return { pool, answers: queryIds.map((id) => answered.filter((r) => r.query === id)) };
  }

  /** Labels grouped per pair (several when labelsPerPair > 1, none for a dropped pair). */
  async function collect(pairs: { a: Segment; b: Segment }[], ro: RequestLabelsOptions): Promise<PreferenceLabel[][]> {
    if (pairs.length === 0) return [];
    admit(pairs.flatMap((p, i) => [{ seg: p.a, where: `pair ${i}` }, { seg: p.b, where: `pair ${i}` }]), ro);
    pairs.forEach((p, i) => {
      if (p.a.id === p.b.id) throw new Error(`pair ${i}: both sides are segment ${p.a.id}`);
    });
    const { answers } = await awaitPool(
      { kind: 'pair', spec: { live: true, pairs: pairs.length } }, pairs.map((p) => ({ a: p.a.id, b: p.b.id })), pairs.flatMap((p) => [p.a, p.b]), ro, 'requestLabels',
    );
    const out: PreferenceLabel[][] = [];
    const fallback = ro.fallback ?? 'skip';
    for (const [i, p] of pairs.entries()) {
      const mine = answers[i];
      if (mine.length > 0) {
        out.push(
          mine.map((r) => {
            const l = answerToPreference(r, p.a.id, p.b.id);
            if (!ro.answers) return l;
            const { answer: _answer, ...rest } = l;
            return { ...rest, label: effectiveLabel(l, ro.answers) };
          }),
        );
      } else if (fallback === 'skip') {
        out.push([{ a: p.a.id, b: p.b.id, label: null, teacher: ro.fallbackTeacher ?? 'fallback:skip', time: Date.now() }]);
      } else if (fallback === 'drop') {
        out.push([]);
      } else {
        out.push([{ a: p.a.id, b: p.b.id, label: await fallback(p), teacher: ro.fallbackTeacher ?? 'fallback:function', time: Date.now() }]);
      }
    }
    return out;
  }

  /** Ratings grouped per segment (several when labelsPerPair > 1, none for a skipped one). */
  async function collectRatings(segments: Segment[], ro: RequestRatingsOptions): Promise<HumanRatingLabel[][]> {
    const { classes } = ro;
    if (!(Number.isInteger(classes) && classes >= 2 && classes <= 10)) throw new Error(`rating classes must be an integer in [2, 10], got ${classes}`);
    if (segments.length === 0) return [];
    admit(segments.map((seg, i) => ({ seg, where: `segment ${i}` })), ro);
    const { pool, answers } = await awaitPool(
      { kind: 'rating', classes, ...(ro.levelNames ? { levelNames: ro.levelNames } : {}), spec: { live: true, segments: segments.length } },
      segments.map((s) => ({ a: s.id })), segments, ro, 'requestRatings',
    );
    const minRank = ro.minConfidence === undefined ? -1 : CONFIDENCE_LEVELS.indexOf(ro.minConfidence);
    const counts = (r: AnswerRow) => !r.skipped && (r.confidence === null || CONFIDENCE_LEVELS.indexOf(r.confidence) >= minRank);
    const fallback = ro.fallback ?? 'skip';
    const out: HumanRatingLabel[][] = [];
    for (const [i, s] of segments.entries()) {
      // Someone looked at it: their skip is an answer, so the fallback does not overrule it.
      if (answers[i].length > 0) out.push(answers[i].filter(counts).map((r) => answerToRating(r, s.id, classes, pool.levelNames)));
      else if (fallback === 'skip') out.push([]);
      else {
        const rating = await fallback(s);
        if (!(Number.isInteger(rating) && rating >= 0 && rating < classes)) throw new Error(`rating fallback rated segment ${s.id} ${rating}; expected an integer in [0, ${classes - 1}]`);
        out.push([{ segment: s.id, rating, classes, teacher: ro.fallbackTeacher ?? 'fallback:function', time: Date.now() }]);
      }
    }
    return out;
  }

  const requestLabels = async (pairs: { a: Segment; b: Segment }[], ro: RequestLabelsOptions = {}) => (await collect(pairs, ro)).flat();

  return {
    url: `${baseUrl}/label?teacher=${encodeURIComponent(teacher)}${accessToken ? `&token=${accessToken}` : ''}`,
    baseUrl,
    store,
    app,
    addGeometry: (task, g) => source.addGeometry(task, g),
    requestLabels,
    labelSource: (lo = {}) => ({
      name: 'labeling-page',
      label: async (pairs) => (await collect(pairs.map(([a, b]) => ({ a, b })), lo)).map((labels) => labels[0]),
    }),
    requestRatings: async (segments, ro) => (await collectRatings(segments, ro)).flat(),
    ratingSource: (ro) => ({
      name: 'labeling-page',
      rate: async (segments) => (await collectRatings([...segments], ro)).flatMap((labels) => labels.slice(0, 1)),
    }),
    async close() {
      for (const w of waiters) w();
      await app.close();
      store.close();
    },
  };
}
