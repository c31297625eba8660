/**
 * Persistent store of human labels (SQLite through better-sqlite3, WAL journal).
 *
 * Every answer is committed, synchronously and with synchronous=FULL, before the HTTP reply that
 * lets the page show the next pair, so killing the server never loses an answered label. Nothing is
 * ever deleted: undo marks an answer as undone and keeps it, and a pool that already exists under a
 * name cannot be silently redefined.
 *
 * Model: a *pool* is a named list of *queries* (a pair of segment/video ids, or one segment to rate).
 * Each labeller walks the pool in order; a query is offered to a labeller only while that labeller
 * has no active answer for it, so nobody sees a pair twice (unless they undo it). With
 * `labelsPerQuery = k` a query also retires once k different people answered it (live training
 * wants one answer per pair, from whoever is there).
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { HumanPreferenceLabel, HumanRatingLabel } from '../reward/label-source.js';

export type PoolKind = 'pair' | 'rating';

export interface PoolSpec {
  name: string;
  kind: PoolKind;
  /** Rating mode: number of ordered classes (2..10). */
  classes?: number;
  /** JSON-able description of where the queries came from; must match when a pool is reopened. */
  spec: Record<string, unknown>;
  /** Retire a query after this many distinct labellers answered it; undefined = everyone labels everything. */
  labelsPerQuery?: number;
  /** Rating mode: what each level means, lowest first (shown on the page, exported beside the number). */
  levelNames?: string[];
}

export interface QueryInput {
  a: string;
  b?: string;
  /** Video mode: absolute paths of the files shown for a and b. */
  mediaA?: string;
  mediaB?: string;
}

export interface QueryRow {
  id: number;
  pool: string;
  a: string;
  b: string | null;
  mediaA: string | null;
  mediaB: string | null;
}

export interface PoolRow {
  name: string;
  kind: PoolKind;
  classes: number | null;
  spec: string;
  labelsPerQuery: number | null;
  created: number;
  /** Rating level names, lowest first, or null. */
  levelNames: string[] | null;
}

/** What a person answered, in the segment's own terms (the page's left/right is mapped before this). */
export type PairChoice = 'a' | 'b' | 'equal' | 'skip' | 'both-bad' | 'cant-tell';
/** How sure the labeller was; absent = not asked / not given. */
export type Confidence = 'low' | 'medium' | 'high';
export const CONFIDENCE_LEVELS: readonly Confidence[] = ['low', 'medium', 'high'];
/**
 * "both bad" and "can't tell" are answers, not skips: the person looked and judged, and training
 * decides (by config) whether they count as equal or are dropped. A skip says nothing.
 */
export type Verdict = 'both-bad' | 'cant-tell';
export type Answer = { kind: 'pair'; choice: PairChoice; confidence?: Confidence } | { kind: 'rating'; rating: number | null; confidence?: Confidence };

export interface AnswerRow {
  id: number;
  query: number;
  teacher: string;
  label: number | null;
  rating: number | null;
  skipped: boolean;
  /** Set for "both bad" / "can't tell" (label is null then, but the pair was judged, not skipped). */
  verdict: Verdict | null;
  confidence: Confidence | null;
  time: number;
  durationMs: number | null;
}

/**
 * One stored pair answer as a PreferenceLabel of segments a and b: skips and "both bad" / "can't tell"
 * have label null (a reader that knows only PreferenceLabel drops them like a skip), the latter saying
 * which in `answer`; confidence rides along.
 */
export function answerToPreference(r: AnswerRow, a: string, b: string): HumanPreferenceLabel {
  return {
    a,
    b,
    label: r.skipped || r.verdict ? null : (r.label as 1 | 0 | 0.5),
    ...(r.verdict ? { answer: r.verdict } : {}),
    ...(r.confidence ? { confidence: r.confidence } : {}),
    teacher: r.teacher,
    time: r.time,
    ...(r.durationMs !== null ? { durationMs: r.durationMs } : {}),
  };
}

/** One stored, not skipped, rating answer of segment `segment` as a HumanRatingLabel. */
export function answerToRating(r: AnswerRow, segment: string, classes: number, levelNames: readonly string[] | null): HumanRatingLabel {
  return {
    segment,
    rating: r.rating!,
    // The page numbers levels 1..k; the export says so on every line rather than only in the docs.
    shownLevel: r.rating! + 1,
    classes,
    ...(levelNames ? { level: levelNames[r.rating!] } : {}),
    ...(r.confidence ? { confidence: r.confidence } : {}),
    teacher: r.teacher,
    time: r.time,
    ...(r.durationMs !== null ? { durationMs: r.durationMs } : {}),
  };
}

/** A person's name as stored: trimmed, so "m " and "m" are one labeller everywhere. */
export function normalizeTeacher(name: unknown): string {
  if (typeof name !== 'string') throw new LabelConflictError(`teacher name must be a string, got ${JSON.stringify(name)}`, 400);
  const t = name.trim();
  if (t === '') throw new LabelConflictError('teacher name must be a non-empty string', 400);
  if (t.length > 100) throw new LabelConflictError(`teacher name is ${t.length} characters; at most 100`, 400);
  return t;
}

export interface TeacherStats {
  teacher: string;
  /** Judged: a side, equal, or a rating. */
  answered: number;
  skipped: number;
  bothBad: number;
  cantTell: number;
  /** Of this person's judgements on queries someone else also judged: how many pairings matched, of how many. */
  agreed: number;
  compared: number;
}

export interface PoolStats {
  pool: string;
  kind: PoolKind;
  queries: number;
  /** Queries with at least one active answer of any kind. */
  answeredQueries: number;
  /** Queries judged by two or more people. */
  overlapQueries: number;
  /** Share of agreeing labeller pairs over those queries; null when there are none. */
  agreement: number | null;
  teachers: TeacherStats[];
}

/** Thrown for requests that conflict with what is stored (answering twice, unknown query). */
export class LabelConflictError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 | 400,
  ) {
    super(message);
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pools (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('pair', 'rating')),
  classes INTEGER,
  spec TEXT NOT NULL,
  labels_per_query INTEGER,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  pool TEXT NOT NULL REFERENCES pools(name),
  a TEXT NOT NULL,
  b TEXT,
  media_a TEXT,
  media_b TEXT
);
CREATE INDEX IF NOT EXISTS queries_pool ON queries(pool, id);
CREATE TABLE IF NOT EXISTS answers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  query INTEGER NOT NULL REFERENCES queries(id),
  teacher TEXT NOT NULL,
  label REAL,
  rating INTEGER,
  skipped INTEGER NOT NULL,
  time INTEGER NOT NULL,
  duration_ms INTEGER,
  undone INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS answers_query ON answers(query, teacher, undone);
CREATE INDEX IF NOT EXISTS answers_teacher ON answers(teacher, undone, id);
`;

/**
 * Migrations by PRAGMA user_version. Version 0 is the original schema above (databases written
 * before versioning have user_version 0 and exactly those tables), so every database, old or new,
 * walks the same steps.
 */
const MIGRATIONS: string[] = [
  // 1: "both bad" / "can't tell" answers, confidence, rating level names, pair leases.
  `ALTER TABLE answers ADD COLUMN verdict TEXT CHECK (verdict IN ('both-bad', 'cant-tell'));
   ALTER TABLE answers ADD COLUMN confidence INTEGER CHECK (confidence BETWEEN 1 AND 3);
   ALTER TABLE pools ADD COLUMN level_names TEXT;
   CREATE TABLE IF NOT EXISTS leases (
     query INTEGER NOT NULL REFERENCES queries(id),
     teacher TEXT NOT NULL,
     expires INTEGER NOT NULL,
     PRIMARY KEY (query, teacher)
   );`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

const POOL_COLS = 'name, kind, classes, spec, labels_per_query AS labelsPerQuery, created, level_names AS levelNames';
const QUERY_COLS = 'q.id AS id, q.pool AS pool, q.a AS a, q.b AS b, q.media_a AS mediaA, q.media_b AS mediaB';

export class LabelStore {
  readonly path: string;
  private readonly db: Database.Database;

  /** How long a handed-out pair stays reserved for its labeller (pools with labelsPerQuery). */
  readonly leaseMs: number;

  constructor(path: string, opts: { leaseMs?: number } = {}) {
    this.leaseMs = opts.leaseMs ?? 10 * 60_000;
    if (!(Number.isInteger(this.leaseMs) && this.leaseMs >= 1)) throw new Error(`leaseMs must be a positive integer, got ${opts.leaseMs}`);
    this.path = path === ':memory:' ? path : resolve(path);
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    // FULL: each commit is fsynced, so a label survives even a machine crash, not only a killed process.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    this.migrate();
  }

  /**
   * Opens an existing database only: export and inspection must not create an empty database (and
   * folders) for a mistyped path.
   */
  static openExisting(path: string, opts: { leaseMs?: number } = {}): LabelStore {
    if (!existsSync(path)) throw new Error(`${path}: no such label database`);
    return new LabelStore(path, opts);
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`${this.path} has label schema version ${version}, newer than this pbrl understands (${SCHEMA_VERSION}); upgrade pbrl to open it`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  pool(name: string): PoolRow | undefined {
    const r = this.db.prepare(`SELECT ${POOL_COLS} FROM pools WHERE name = ?`).get(name) as (Omit<PoolRow, 'levelNames'> & { levelNames: string | null }) | undefined;
    return r && { ...r, levelNames: r.levelNames === null ? null : (JSON.parse(r.levelNames) as string[]) };
  }

  pools(): PoolRow[] {
    const rows = this.db.prepare(`SELECT ${POOL_COLS} FROM pools ORDER BY created, name`).all() as (Omit<PoolRow, 'levelNames'> & { levelNames: string | null })[];
    return rows.map((r) => ({ ...r, levelNames: r.levelNames === null ? null : (JSON.parse(r.levelNames) as string[]) }));
  }

  /**
   * Creates the pool with these queries, or reopens it if it exists with the same definition (that
   * is how a restarted session resumes). A different definition under the same name is refused.
   */
  ensurePool(p: PoolSpec, queries: QueryInput[]): PoolRow {
    if (p.kind === 'rating' && !(Number.isInteger(p.classes) && p.classes! >= 2 && p.classes! <= 10)) {
      throw new Error(`rating pool "${p.name}": classes must be an integer in [2, 10], got ${p.classes}`);
    }
    if (p.labelsPerQuery !== undefined && !(Number.isInteger(p.labelsPerQuery) && p.labelsPerQuery >= 1)) {
      throw new Error(`pool "${p.name}": labelsPerQuery must be an integer >= 1, got ${p.labelsPerQuery}`);
    }
    if (p.levelNames !== undefined) {
      if (p.kind !== 'rating') throw new Error(`pool "${p.name}": level names are for rating pools`);
      if (p.levelNames.length !== p.classes || p.levelNames.some((n) => typeof n !== 'string' || n.trim() === '' || n.length > 60)) {
        throw new Error(`pool "${p.name}": give exactly ${p.classes} non-empty level names (at most 60 characters each), lowest first; got ${JSON.stringify(p.levelNames)}`);
      }
    }
    const spec = JSON.stringify(p.spec);
    const names = p.levelNames === undefined ? null : JSON.stringify(p.levelNames.map((n) => n.trim()));
    const existing = this.pool(p.name);
    if (existing) {
      // Level names give stored numbers their meaning, so they are part of the definition.
      const same =
        existing.kind === p.kind && existing.spec === spec && (existing.classes ?? undefined) === p.classes && JSON.stringify(existing.levelNames) === (names ?? 'null');
      if (!same) {
        throw new Error(
          `label pool "${p.name}" already exists in ${this.path} with a different definition (${existing.kind}, ${existing.spec}); ` +
            `its labels are kept — pick another name with --pool, or reuse the original options and data (a rewritten run file changes its sha256)`,
        );
      }
      return existing;
    }
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO pools (name, kind, classes, spec, labels_per_query, created, level_names) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(p.name, p.kind, p.classes ?? null, spec, p.labelsPerQuery ?? null, Date.now(), names);
      this.insertQueries(p.name, p.kind, queries);
    })();
    return this.pool(p.name)!;
  }

  /** Appends queries to an existing pool (live mode); returns their ids in order. */
  addQueries(pool: string, queries: QueryInput[]): number[] {
    const row = this.pool(pool);
    if (!row) throw new Error(`no label pool named "${pool}"`);
    return this.db.transaction(() => this.insertQueries(pool, row.kind, queries))();
  }

  private insertQueries(pool: string, kind: PoolKind, queries: QueryInput[]): number[] {
    const ins = this.db.prepare('INSERT INTO queries (pool, a, b, media_a, media_b) VALUES (?, ?, ?, ?, ?)');
    return queries.map((q, i) => {
      if (typeof q.a !== 'string' || q.a === '') throw new Error(`query ${i}: "a" must be a non-empty id`);
      if (kind === 'pair' && (typeof q.b !== 'string' || q.b === '')) throw new Error(`query ${i}: a pair query needs "b"`);
      if (kind === 'pair' && q.a === q.b) throw new Error(`query ${i}: a pair must compare two different segments, got "${q.a}" twice`);
      return Number(ins.run(pool, q.a, kind === 'pair' ? q.b : null, q.mediaA ?? null, q.mediaB ?? null).lastInsertRowid);
    });
  }

  query(id: number): QueryRow | undefined {
    return this.db.prepare(`SELECT ${QUERY_COLS} FROM queries q WHERE q.id = ?`).get(id) as QueryRow | undefined;
  }

  queries(pool: string): QueryRow[] {
    return this.db.prepare(`SELECT ${QUERY_COLS} FROM queries q WHERE q.pool = ? ORDER BY q.id`).all(pool) as QueryRow[];
  }

  /**
   * The first query in these pools (in pool order, then query order) this labeller still has to
   * answer. In pools with labelsPerQuery the query is also leased to them (for `leaseMs`): while the
   * lease runs it counts as one of its k answers, so people labelling at once get different pairs,
   * and the holder gets the same one back on reload.
   */
  next(pools: readonly string[], teacherName: string, now = Date.now()): QueryRow | null {
    const teacher = normalizeTeacher(teacherName);
    return this.db
      .transaction((): QueryRow | null => {
        for (const pool of pools) {
          const row = this.db
            .prepare(
              `SELECT ${QUERY_COLS}, p.labels_per_query AS k FROM queries q JOIN pools p ON p.name = q.pool
               WHERE q.pool = @pool
                 AND NOT EXISTS (SELECT 1 FROM answers x WHERE x.query = q.id AND x.teacher = @t AND x.undone = 0)
                 AND (p.labels_per_query IS NULL OR
                      (SELECT COUNT(DISTINCT x.teacher) FROM answers x WHERE x.query = q.id AND x.undone = 0)
                      + (SELECT COUNT(*) FROM leases l WHERE l.query = q.id AND l.teacher <> @t AND l.expires > @now
                           AND NOT EXISTS (SELECT 1 FROM answers y WHERE y.query = q.id AND y.teacher = l.teacher AND y.undone = 0))
                      < p.labels_per_query)
               ORDER BY (SELECT COUNT(*) FROM leases l WHERE l.query = q.id AND l.teacher = @t AND l.expires > @now) DESC, q.id
               LIMIT 1`,
            )
            .get({ pool, t: teacher, now }) as (QueryRow & { k: number | null }) | undefined;
          if (!row) continue;
          const { k, ...q } = row;
          if (k !== null) {
            // One lease per person and pool: taking a new pair frees the one they walked away from.
            this.db.prepare('DELETE FROM leases WHERE teacher = ? AND query IN (SELECT id FROM queries WHERE pool = ?)').run(teacher, pool);
            this.db.prepare('INSERT INTO leases (query, teacher, expires) VALUES (?, ?, ?)').run(q.id, teacher, now + this.leaseMs);
          }
          return q;
        }
        return null;
      })
      .immediate();
  }

  /** How many of a pool's queries this labeller has finished (answered, or retired by others), of all. */
  progress(pool: string, teacher: string): { done: number; total: number } {
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS total,
                SUM(CASE WHEN EXISTS (SELECT 1 FROM answers x WHERE x.query = q.id AND x.teacher = @t AND x.undone = 0)
                      OR (p.labels_per_query IS NOT NULL AND
                          (SELECT COUNT(DISTINCT x.teacher) FROM answers x WHERE x.query = q.id AND x.undone = 0) >= p.labels_per_query)
                    THEN 1 ELSE 0 END) AS done
         FROM queries q JOIN pools p ON p.name = q.pool WHERE q.pool = @pool`,
      )
      .get({ t: teacher, pool }) as { total: number; done: number | null };
    return { done: r.done ?? 0, total: r.total };
  }

  /** Queries of a pool that still lack `labelsPerQuery` distinct answers (pools without that limit: -1). */
  unfinished(pool: string): number {
    const row = this.pool(pool);
    if (!row) throw new Error(`no label pool named "${pool}"`);
    if (row.labelsPerQuery === null) return -1;
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM queries q
         WHERE q.pool = ? AND (SELECT COUNT(DISTINCT x.teacher) FROM answers x WHERE x.query = q.id AND x.undone = 0) < ?`,
      )
      .get(pool, row.labelsPerQuery) as { n: number };
    return r.n;
  }

  /** Stores one answer, durably, and returns it. Refuses a second active answer by the same person. */
  answer(input: { query: number; teacher: string; answer: Answer; durationMs?: number; time?: number }): AnswerRow {
    const { answer } = input;
    const teacher = normalizeTeacher(input.teacher);
    if (answer.confidence !== undefined && !CONFIDENCE_LEVELS.includes(answer.confidence)) {
      throw new LabelConflictError(`confidence must be one of ${CONFIDENCE_LEVELS.join(', ')}, got ${JSON.stringify(answer.confidence)}`, 400);
    }
    return this.db
      .transaction((): AnswerRow => {
        const q = this.db
          .prepare('SELECT q.id, p.kind AS kind, p.classes AS classes, p.labels_per_query AS k FROM queries q JOIN pools p ON p.name = q.pool WHERE q.id = ?')
          .get(input.query) as { id: number; kind: PoolKind; classes: number | null; k: number | null } | undefined;
        if (!q) throw new LabelConflictError(`no query with id ${input.query}`, 404);
        if (q.kind !== answer.kind) throw new LabelConflictError(`query ${q.id} is a ${q.kind} query; got a ${answer.kind} answer`, 400);
        const dup = this.db.prepare('SELECT id FROM answers WHERE query = ? AND teacher = ? AND undone = 0').get(q.id, teacher);
        if (dup) throw new LabelConflictError(`${teacher} already answered query ${q.id} (undo it first to change the answer)`, 409);
        if (q.k !== null) {
          const n = (this.db.prepare('SELECT COUNT(DISTINCT teacher) AS n FROM answers WHERE query = ? AND undone = 0').get(q.id) as { n: number }).n;
          if (n >= q.k) throw new LabelConflictError(`query ${q.id} already has the ${q.k} answer(s) it needs (it went to someone else after your hold on it ran out)`, 409);
        }
        let label: number | null = null;
        let rating: number | null = null;
        let skipped = false;
        let verdict: Verdict | null = null;
        if (answer.kind === 'pair') {
          if (answer.choice === 'skip') skipped = true;
          else if (answer.choice === 'both-bad' || answer.choice === 'cant-tell') verdict = answer.choice;
          else if (answer.choice === 'a' || answer.choice === 'b' || answer.choice === 'equal') label = answer.choice === 'a' ? 1 : answer.choice === 'b' ? 0 : 0.5;
          else throw new LabelConflictError(`unknown pair answer ${JSON.stringify(answer.choice)}`, 400);
        } else if (answer.rating === null) {
          skipped = true;
        } else {
          if (!(Number.isInteger(answer.rating) && answer.rating >= 0 && answer.rating < q.classes!)) {
            throw new LabelConflictError(`rating must be an integer in [0, ${q.classes! - 1}], got ${answer.rating}`, 400);
          }
          rating = answer.rating;
        }
        if (skipped && answer.confidence !== undefined) throw new LabelConflictError('a skip carries no confidence', 400);
        const confidence = answer.confidence ?? null;
        const time = input.time ?? Date.now();
        const duration = input.durationMs === undefined ? null : Math.max(0, Math.round(input.durationMs));
        const info = this.db
          .prepare('INSERT INTO answers (query, teacher, label, rating, skipped, time, duration_ms, verdict, confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(q.id, teacher, label, rating, skipped ? 1 : 0, time, duration, verdict, confidence === null ? null : CONFIDENCE_LEVELS.indexOf(confidence) + 1);
        this.db.prepare('DELETE FROM leases WHERE query = ? AND teacher = ?').run(q.id, teacher);
        return { id: Number(info.lastInsertRowid), query: q.id, teacher, label, rating, skipped, verdict, confidence, time, durationMs: duration };
      })
      .immediate();
  }

  /**
   * Marks this labeller's latest active answer in these pools (or, with `query`, their answer to that
   * query: editing from the review list) as undone, kept not deleted; returns the query and what
   * had been answered.
   */
  undo(pools: readonly string[], teacherName: string, query?: number): { query: QueryRow; previous: AnswerRow } | null {
    const teacher = normalizeTeacher(teacherName);
    if (pools.length === 0) return null;
    return this.db
      .transaction(() => {
        const marks = pools.map(() => '?').join(', ');
        const last = this.db
          .prepare(
            `SELECT a.id AS id FROM answers a JOIN queries q ON q.id = a.query
             WHERE a.teacher = ? AND a.undone = 0 AND q.pool IN (${marks}) ${query === undefined ? '' : 'AND a.query = ?'} ORDER BY a.id DESC LIMIT 1`,
          )
          .get(teacher, ...pools, ...(query === undefined ? [] : [query])) as { id: number } | undefined;
        if (!last) return null;
        const previous = this.answerRows(`a.id = ?`, [last.id])[0];
        this.db.prepare('UPDATE answers SET undone = 1 WHERE id = ?').run(last.id);
        return { query: this.query(previous.query)!, previous };
      })
      .immediate();
  }

  private answerRows(where: string, args: unknown[]): (AnswerRow & { a: string; b: string | null; pool: string })[] {
    const rows = this.db
      .prepare(
        `SELECT a.id AS id, a.query AS query, a.teacher AS teacher, a.label AS label, a.rating AS rating, a.skipped AS skipped,
                a.verdict AS verdict, a.confidence AS confidence, a.time AS time, a.duration_ms AS durationMs, q.a AS a, q.b AS b, q.pool AS pool
         FROM answers a JOIN queries q ON q.id = a.query WHERE ${where} ORDER BY a.id`,
      )
      .all(...args) as (Omit<AnswerRow, 'skipped' | 'confidence'> & { a: string; b: string | null; pool: string; skipped: number; confidence: number | null })[];
    return rows.map((r) => ({ ...r, skipped: Boolean(r.skipped), confidence: r.confidence === null ? null : CONFIDENCE_LEVELS[r.confidence - 1] }));
  }

  /** One labeller's active answers in these pools, newest first (the page's review list). */
  history(pools: readonly string[], teacherName: string, limit = 200): (AnswerRow & { a: string; b: string | null; pool: string })[] {
    const teacher = normalizeTeacher(teacherName);
    if (pools.length === 0) return [];
    const marks = pools.map(() => '?').join(', ');
    return this.answerRows(`a.teacher = ? AND a.undone = 0 AND q.pool IN (${marks})`, [teacher, ...pools]).reverse().slice(0, limit);
  }

  /**
   * Per-pool progress: per labeller how many they answered / skipped, and agreement between people
   * on queries two or more of them judged (a skip or "both bad"/"can't tell" is not a judgement
   * that can agree). Agreement = share of matching pairs of labellers over those queries.
   */
  stats(pool: string): PoolStats {
    const row = this.pool(pool);
    if (!row) throw new Error(`no label pool named "${pool}"`);
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM queries WHERE pool = ?').get(pool) as { n: number }).n;
    const answers = this.answers(pool);
    const per = new Map<string, TeacherStats>();
    const judged = new Map<number, { teacher: string; value: number }[]>();
    for (const a of answers) {
      const t = per.get(a.teacher) ?? { teacher: a.teacher, answered: 0, skipped: 0, bothBad: 0, cantTell: 0, agreed: 0, compared: 0 };
      per.set(a.teacher, t);
      if (a.skipped) t.skipped++;
      else if (a.verdict === 'both-bad') t.bothBad++;
      else if (a.verdict === 'cant-tell') t.cantTell++;
      else {
        t.answered++;
        const value = row.kind === 'pair' ? a.label! : a.rating!;
        const list = judged.get(a.query) ?? [];
        list.push({ teacher: a.teacher, value });
        judged.set(a.query, list);
      }
    }
    let agreePairs = 0, pairs = 0, overlap = 0;
    for (const list of judged.values()) {
      if (list.length < 2) continue;
      overlap++;
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const same = list[i].value === list[j].value;
          pairs++;
          if (same) agreePairs++;
          for (const who of [list[i].teacher, list[j].teacher]) {
            const t = per.get(who)!;
            t.compared++;
            if (same) t.agreed++;
          }
        }
      }
    }
    const answeredQueries = new Set(answers.map((a) => a.query)).size;
    return {
      pool,
      kind: row.kind,
      queries: total,
      answeredQueries,
      overlapQueries: overlap,
      agreement: pairs ? agreePairs / pairs : null,
      teachers: [...per.values()].sort((x, y) => x.teacher.localeCompare(y.teacher)),
    };
  }

  /** Active (not undone) answers, oldest first; optionally of one pool only. */
  answers(pool?: string): (AnswerRow & { a: string; b: string | null; pool: string })[] {
    return this.answerRows(`a.undone = 0 ${pool === undefined ? '' : 'AND q.pool = ?'}`, pool === undefined ? [] : [pool]);
  }

  /**
   * Active pair answers as core PreferenceLabels (skips kept, as label null). "both bad" / "can't
   * tell" have label null too (a reader that knows only PreferenceLabel drops them like a skip) and
   * say which in `answer`; reward/preference-dataset decides by config whether they count as equal.
   */
  preferences(pool?: string): HumanPreferenceLabel[] {
    const kinds = new Map(this.pools().map((p) => [p.name, p.kind]));
    return this.answers(pool)
      .filter((r) => kinds.get(r.pool) === 'pair')
      .map((r) => answerToPreference(r, r.a, r.b!));
  }

  /** Active rating answers as core RatingLabels; skipped ratings are left out (RatingLabel has no skip). */
  ratings(pool?: string): HumanRatingLabel[] {
    const pools = new Map(this.pools().map((p) => [p.name, p]));
    return this.answers(pool)
      .filter((r) => pools.get(r.pool)?.kind === 'rating' && !r.skipped)
      .map((r) => answerToRating(r, r.a, pools.get(r.pool)!.classes!, pools.get(r.pool)!.levelNames));
  }
}

/** JSON lines, one label per line: the format reward/'s label source reads. */
export function toJsonLines(labels: readonly object[]): string {
  return labels.map((l) => JSON.stringify(l)).join('\n') + (labels.length ? '\n' : '');
}
