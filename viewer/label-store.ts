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
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PreferenceLabel, RatingLabel } from '../core/types.js';

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
}

/** What a person answered, in the segment's own terms (the page's left/right is mapped before this). */
export type Answer = { kind: 'pair'; choice: 'a' | 'b' | 'equal' | 'skip' } | { kind: 'rating'; rating: number | null };

export interface AnswerRow {
  id: number;
  query: number;
  teacher: string;
  label: number | null;
  rating: number | null;
  skipped: boolean;
  time: number;
  durationMs: number | null;
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

const QUERY_COLS = 'q.id AS id, q.pool AS pool, q.a AS a, q.b AS b, q.media_a AS mediaA, q.media_b AS mediaB';

export class LabelStore {
  readonly path: string;
  private readonly db: Database.Database;

  constructor(path: string) {
    this.path = path === ':memory:' ? path : resolve(path);
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    // FULL: each commit is fsynced, so a label survives even a machine crash, not only a killed process.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  pool(name: string): PoolRow | undefined {
    return this.db
      .prepare('SELECT name, kind, classes, spec, labels_per_query AS labelsPerQuery, created FROM pools WHERE name = ?')
      .get(name) as PoolRow | undefined;
  }

  pools(): PoolRow[] {
    return this.db.prepare('SELECT name, kind, classes, spec, labels_per_query AS labelsPerQuery, created FROM pools ORDER BY created, name').all() as PoolRow[];
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
    const spec = JSON.stringify(p.spec);
    const existing = this.pool(p.name);
    if (existing) {
      const same = existing.kind === p.kind && existing.spec === spec && (existing.classes ?? undefined) === p.classes;
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
        .prepare('INSERT INTO pools (name, kind, classes, spec, labels_per_query, created) VALUES (?, ?, ?, ?, ?, ?)')
        .run(p.name, p.kind, p.classes ?? null, spec, p.labelsPerQuery ?? null, Date.now());
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

  /** The first query in these pools (in pool order, then query order) this labeller still has to answer. */
  next(pools: readonly string[], teacher: string): QueryRow | null {
    for (const pool of pools) {
      const row = this.db
        .prepare(
          `SELECT ${QUERY_COLS} FROM queries q JOIN pools p ON p.name = q.pool
           WHERE q.pool = ?
             AND NOT EXISTS (SELECT 1 FROM answers x WHERE x.query = q.id AND x.teacher = ? AND x.undone = 0)
             AND (p.labels_per_query IS NULL OR
                  (SELECT COUNT(DISTINCT x.teacher) FROM answers x WHERE x.query = q.id AND x.undone = 0) < p.labels_per_query)
           ORDER BY q.id LIMIT 1`,
        )
        .get(pool, teacher) as QueryRow | undefined;
      if (row) return row;
    }
    return null;
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
    const { teacher, answer } = input;
    if (typeof teacher !== 'string' || teacher.trim() === '') throw new LabelConflictError('teacher name must be a non-empty string', 400);
    return this.db
      .transaction((): AnswerRow => {
        const q = this.db.prepare('SELECT q.id, p.kind AS kind, p.classes AS classes FROM queries q JOIN pools p ON p.name = q.pool WHERE q.id = ?').get(input.query) as
          | { id: number; kind: PoolKind; classes: number | null }
          | undefined;
        if (!q) throw new LabelConflictError(`no query with id ${input.query}`, 404);
        if (q.kind !== answer.kind) throw new LabelConflictError(`query ${q.id} is a ${q.kind} query; got a ${answer.kind} answer`, 400);
        const dup = this.db.prepare('SELECT id FROM answers WHERE query = ? AND teacher = ? AND undone = 0').get(q.id, teacher);
        if (dup) throw new LabelConflictError(`${teacher} already answered query ${q.id} (undo it first to change the answer)`, 409);
        let label: number | null = null;
        let rating: number | null = null;
        let skipped = false;
        if (answer.kind === 'pair') {
          if (answer.choice === 'skip') skipped = true;
          else label = answer.choice === 'a' ? 1 : answer.choice === 'b' ? 0 : 0.5;
        } else if (answer.rating === null) {
          skipped = true;
        } else {
          if (!(Number.isInteger(answer.rating) && answer.rating >= 0 && answer.rating < q.classes!)) {
            throw new LabelConflictError(`rating must be an integer in [0, ${q.classes! - 1}], got ${answer.rating}`, 400);
          }
          rating = answer.rating;
        }
        const time = input.time ?? Date.now();
        const duration = input.durationMs === undefined ? null : Math.max(0, Math.round(input.durationMs));
        const info = this.db
          .prepare('INSERT INTO answers (query, teacher, label, rating, skipped, time, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(q.id, teacher, label, rating, skipped ? 1 : 0, time, duration);
        return { id: Number(info.lastInsertRowid), query: q.id, teacher, label, rating, skipped, time, durationMs: duration };
      })
      .immediate();
  }

  /** Marks this labeller's latest active answer in these pools as undone (kept, not deleted); returns its query. */
  undo(pools: readonly string[], teacher: string): QueryRow | null {
    if (pools.length === 0) return null;
    return this.db
      .transaction((): QueryRow | null => {
        const marks = pools.map(() => '?').join(', ');
        const last = this.db
          .prepare(`SELECT a.id AS id, a.query AS query FROM answers a JOIN queries q ON q.id = a.query WHERE a.teacher = ? AND a.undone = 0 AND q.pool IN (${marks}) ORDER BY a.id DESC LIMIT 1`)
          .get(teacher, ...pools) as { id: number; query: number } | undefined;
        if (!last) return null;
        this.db.prepare('UPDATE answers SET undone = 1 WHERE id = ?').run(last.id);
        return this.query(last.query)!;
      })
      .immediate();
  }

  /** Active (not undone) answers, oldest first; optionally of one pool only. */
  answers(pool?: string): (AnswerRow & { a: string; b: string | null; pool: string })[] {
    const rows = this.db
      .prepare(
        `SELECT a.id AS id, a.query AS query, a.teacher AS teacher, a.label AS label, a.rating AS rating, a.skipped AS skipped,
                a.time AS time, a.duration_ms AS durationMs, q.a AS a, q.b AS b, q.pool AS pool
         FROM answers a JOIN queries q ON q.id = a.query
         WHERE a.undone = 0 ${pool === undefined ? '' : 'AND q.pool = ?'} ORDER BY a.id`,
      )
      .all(...(pool === undefined ? [] : [pool])) as (AnswerRow & { a: string; b: string | null; pool: string; skipped: number | boolean })[];
    return rows.map((r) => ({ ...r, skipped: Boolean(r.skipped) }));
  }

  /** Active pair answers as core PreferenceLabels (skips kept, as label null). */
  preferences(pool?: string): PreferenceLabel[] {
    const kinds = new Map(this.pools().map((p) => [p.name, p.kind]));
    return this.answers(pool)
      .filter((r) => kinds.get(r.pool) === 'pair')
      .map((r) => ({
        a: r.a,
        b: r.b!,
        label: r.skipped ? null : (r.label as 1 | 0 | 0.5),
        teacher: r.teacher,
        time: r.time,
        ...(r.durationMs !== null ? { durationMs: r.durationMs } : {}),
      }));
  }

  /** Active rating answers as core RatingLabels; skipped ratings are left out (RatingLabel has no skip). */
  ratings(pool?: string): RatingLabel[] {
    const pools = new Map(this.pools().map((p) => [p.name, p]));
    return this.answers(pool)
      .filter((r) => pools.get(r.pool)?.kind === 'rating' && !r.skipped)
      .map((r) => ({
        segment: r.a,
        rating: r.rating!,
        classes: pools.get(r.pool)!.classes!,
        teacher: r.teacher,
        time: r.time,
        ...(r.durationMs !== null ? { durationMs: r.durationMs } : {}),
      }));
  }
}

/** JSON lines, one label per line: the format reward/'s label source reads. */
export function toJsonLines(labels: readonly object[]): string {
  return labels.map((l) => JSON.stringify(l)).join('\n') + (labels.length ? '\n' : '');
}
