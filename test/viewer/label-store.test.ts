import { afterAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LabelStore, SCHEMA_VERSION } from '../../viewer/label-store.js';
import { existsSync } from 'node:fs';
import { startLabelServer } from '../../viewer/live.js';
import { loadRun, runSegmentSource } from '../../viewer/run-data.js';
import { samplePairs, cutSegment, segmentId, parseSegmentId } from '../../viewer/segments.js';
import { segmentPool } from '../../viewer/pools.js';
import { makeRun, tempDir } from './fixture.js';

const dir = tempDir('viewer-store');
const pairQueries = (n: number) => Array.from({ length: n }, (_, i) => ({ a: `s${i}`, b: `s${i + 1000}` }));
const opened: LabelStore[] = [];
const open = (name: string) => {
  const s = new LabelStore(join(dir, name));
  opened.push(s);
  return s;
};
afterAll(() => opened.forEach((s) => s.close()));

describe('LabelStore', () => {
  it('uses WAL and walks each labeller through the pool without repeating a pair', () => {
    const store = open('walk.sqlite');
    expect(new Database(store.path, { readonly: true }).pragma('journal_mode', { simple: true })).toBe('wal');
    store.ensurePool({ name: 'p', kind: 'pair', spec: { n: 5 } }, pairQueries(5));
    for (const teacher of ['alice', 'bob']) {
      const seen = new Set<number>();
      for (let q = store.next(['p'], teacher); q; q = store.next(['p'], teacher)) {
        expect(seen.has(q.id)).toBe(false);
        seen.add(q.id);
        store.answer({ query: q.id, teacher, answer: { kind: 'pair', choice: 'a' } });
      }
      expect(seen.size).toBe(5);
      expect(store.progress('p', teacher)).toEqual({ done: 5, total: 5 });
    }
    expect(store.preferences('p')).toHaveLength(10);
  });

  it('reopens a pool with the same definition and refuses a different one, keeping its labels', () => {
    const store = open('reopen.sqlite');
    store.ensurePool({ name: 'p', kind: 'pair', spec: { n: 3 } }, pairQueries(3));
    store.answer({ query: store.next(['p'], 'a')!.id, teacher: 'a', answer: { kind: 'pair', choice: 'equal' } });
    store.close();
    const again = open('reopen.sqlite');
    again.ensurePool({ name: 'p', kind: 'pair', spec: { n: 3 } }, pairQueries(3));
    expect(again.queries('p')).toHaveLength(3);
    expect(again.progress('p', 'a')).toEqual({ done: 1, total: 3 });
    expect(() => again.ensurePool({ name: 'p', kind: 'pair', spec: { n: 4 } }, pairQueries(4))).toThrow(/already exists .* different definition.*--pool/);
    expect(again.preferences('p')).toEqual([expect.objectContaining({ label: 0.5, teacher: 'a' })]);
  });

  it('retires a query after labelsPerQuery people, and undo keeps the undone answer on record', () => {
    const store = open('retire.sqlite');
    store.ensurePool({ name: 'p', kind: 'pair', spec: {}, labelsPerQuery: 1 }, pairQueries(2));
    const q1 = store.next(['p'], 'alice')!;
    store.answer({ query: q1.id, teacher: 'alice', answer: { kind: 'pair', choice: 'b' } });
    expect(store.next(['p'], 'bob')!.id).not.toBe(q1.id);
    expect(store.progress('p', 'bob')).toEqual({ done: 1, total: 2 });
    expect(store.unfinished('p')).toBe(1);
    expect(store.undo(['p'], 'alice')!.query.id).toBe(q1.id);
    expect(store.unfinished('p')).toBe(2);
    // Bob keeps the pair he holds; the reopened one comes after it.
    const held = store.next(['p'], 'bob')!;
    expect(held.id).not.toBe(q1.id);
    store.answer({ query: held.id, teacher: 'bob', answer: { kind: 'pair', choice: 'a' } });
    expect(store.next(['p'], 'bob')!.id).toBe(q1.id);
    const raw = new Database(store.path, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM answers WHERE undone = 1').get()).toEqual({ n: 1 });
    raw.close();
  });

  it('rejects bad pools and answers with clear errors', () => {
    const store = open('bad.sqlite');
    expect(() => store.ensurePool({ name: 'r', kind: 'rating', classes: 1, spec: {} }, [{ a: 'x' }])).toThrow(/classes must be an integer in \[2, 10\]/);
    expect(() => store.ensurePool({ name: 'p', kind: 'pair', spec: {} }, [{ a: 'x', b: 'x' }])).toThrow(/two different segments/);
    expect(store.pool('p')).toBeUndefined(); // the failed insert left nothing half-made
    store.ensurePool({ name: 'r', kind: 'rating', classes: 4, spec: {} }, [{ a: 'x' }]);
    const q = store.next(['r'], 't')!;
    expect(() => store.answer({ query: q.id, teacher: 't', answer: { kind: 'pair', choice: 'a' } })).toThrow(/rating query/);
    expect(() => store.answer({ query: q.id, teacher: 't', answer: { kind: 'rating', rating: 4 } })).toThrow(/\[0, 3\]/);
    store.answer({ query: q.id, teacher: 't', answer: { kind: 'rating', rating: 3 }, durationMs: 10 });
    expect(store.ratings()).toEqual([expect.objectContaining({ segment: 'x', rating: 3, shownLevel: 4, classes: 4, teacher: 't', durationMs: 10 })]);
  });

  it('loses no acknowledged answer when the writing process is SIGKILLed', async () => {
    const path = join(dir, 'killed.sqlite');
    const setup = new LabelStore(path);
    setup.ensurePool({ name: 'big', kind: 'pair', spec: {} }, pairQueries(5000));
    setup.close();
    const child = fork(join(import.meta.dirname, 'store-writer.ts'), [path, 'big', 'kim'], { execArgv: ['--import', 'tsx'], stdio: 'pipe' });
    let acked = 0;
    const killedAt = await new Promise<number>((resolve, reject) => {
      child.on('message', (m: { acked?: number; finished?: number }) => {
        if (m.acked) acked = m.acked;
        // Kill in the middle of the stream of writes, not after it ended.
        if (acked >= 40 && !child.killed) {
          child.kill('SIGKILL');
          resolve(acked);
        }
        if (m.finished) reject(new Error('child finished before it was killed'));
      });
      child.on('error', reject);
      child.on('exit', (code, sig) => sig !== 'SIGKILL' && reject(new Error(`child exited early (${code})`)));
    });
    await new Promise((r) => child.once('exit', r));
    expect(killedAt).toBeGreaterThanOrEqual(40);
    const store = open('killed.sqlite');
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    const answers = store.answers('big');
    // Every answer the child reported is there (one more may have committed after its last report).
    expect(answers.length).toBeGreaterThanOrEqual(acked);
    expect(answers.length).toBeLessThanOrEqual(acked + 1);
    expect(answers.slice(0, acked).map((a) => a.durationMs)).toEqual(Array.from({ length: acked }, (_, i) => i));
    // Restarting resumes at the first unanswered pair.
    expect(store.next(['big'], 'kim')!.id).toBe(store.queries('big')[answers.length].id);
  });
});

describe('segments', () => {
  it('cuts reproducible pairs whose ids round-trip through the trajectory file', async () => {
    const run = loadRun(await makeRun(tempDir('viewer-seg'), 2, 40));
    const p1 = samplePairs(run.trajectories, { count: 10, length: 10, seed: 3 });
    expect(samplePairs(run.trajectories, { count: 10, length: 10, seed: 3 })).toEqual(p1);
    for (const [a, b] of p1) {
      for (const ref of [a, b]) {
        const id = segmentId(run.trajectories, ref);
        expect(id).toMatch(/^reach:[01]:\d+:10$/);
        expect(parseSegmentId(run.trajectories, id)).toEqual(ref);
        const seg = cutSegment(run.trajectories, ref);
        expect(seg.poses!.data.length).toBe(11 * seg.poses!.bodyNames.length * 7);
        expect(Array.from(seg.rewards)).toEqual(Array.from(run.trajectories[ref.trajectory].rewards.slice(ref.start, ref.start + 10)));
      }
    }
    expect(() => parseSegmentId(run.trajectories, 'reach:7:0:10')).toThrow(/no trajectory 7/);
    expect(() => parseSegmentId(run.trajectories, 'garbage')).toThrow(/task>:<seed/);
    expect(() => samplePairs(run.trajectories, { count: 5, length: 41, seed: 0 })).toThrow(/at least 41 steps/);
  });

  it('will not resume a pool after its run file was rewritten (stored ids would point at other data)', async () => {
    const d = tempDir('viewer-rewrite');
    const store = open('rewrite.sqlite');
    const first = segmentPool(loadRun(await makeRun(d, 2, 40)), { count: 3, length: 10, seed: 0 });
    store.ensurePool(first.pool, first.queries);
    store.ensurePool(first.pool, first.queries); // same data: resumes
    const again = segmentPool(loadRun(await makeRun(d, 2, 45)), { count: 3, length: 10, seed: 0 });
    expect(again.pool.name).toBe(first.pool.name);
    expect(() => store.ensurePool(again.pool, again.queries)).toThrow(/different definition.*sha256/);
    expect(store.queries(first.pool.name)).toHaveLength(3);
  });
});

describe('live labeling (startLabelServer)', () => {
  it('waits for a person, times out to the chosen fallback, and serves on 127.0.0.1', async () => {
    const run = loadRun(await makeRun(tempDir('viewer-live'), 2, 40));
    const src = runSegmentSource(run);
    const refs = samplePairs(run.trajectories, { count: 3, length: 10, seed: 0 });
    const pairs = refs.map(([a, b]) => ({ a: src.get(segmentId(run.trajectories, a))!, b: src.get(segmentId(run.trajectories, b))! }));
    const server = await startLabelServer({ dbPath: join(dir, 'live.sqlite'), teacherName: 'dana', geometry: run.geometry, poolPrefix: 'live' });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/label\?teacher=dana$/);
      const idle = await (await fetch(`${server.baseUrl}/api/label/next?teacher=dana`)).json();
      expect(idle).toMatchObject({ waiting: true, query: null });

      // A person answers all pairs while the trainer waits.
      const pending = server.requestLabels(pairs, { timeoutMs: 20_000, fallback: 'skip' });
      const answered: string[] = [];
      for (let i = 0; i < 3; i++) {
        const next = await (await fetch(`${server.baseUrl}/api/label/next?teacher=dana`)).json();
        expect(next.waiting).toBe(false);
        answered.push(next.query.left.id);
        const res = await fetch(`${server.baseUrl}/api/label/answer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ teacher: 'dana', query: next.query.id, choice: 'left' }),
        });
        expect(res.status).toBe(200);
      }
      const t0 = Date.now();
      const labels = await pending;
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(labels.map((l) => [l.a, l.b])).toEqual(pairs.map((p) => [p.a.id, p.b.id]));
      labels.forEach((l, i) => {
        expect(l.teacher).toBe('dana');
        // The person picked the left one each time; left was a unless the page swapped the sides.
        expect(l.label).toBe(answered[i] === pairs[i].a.id ? 1 : 0);
      });

      // Nobody answers: the timeout hands back the fallback's labels.
      const skipped = await server.requestLabels(pairs.slice(0, 2), { timeoutMs: 200, fallback: 'skip' });
      expect(skipped.map((l) => [l.label, l.teacher])).toEqual([[null, 'fallback:skip'], [null, 'fallback:skip']]);
      expect(await server.requestLabels(pairs.slice(0, 2), { timeoutMs: 100, fallback: 'drop' })).toEqual([]);
      const scripted = await server.requestLabels(pairs.slice(0, 1), { timeoutMs: 100, fallback: () => 0.5, fallbackTeacher: 'scripted' });
      expect(scripted).toEqual([expect.objectContaining({ label: 0.5, teacher: 'scripted' })]);
      await expect(server.requestLabels([{ a: pairs[0].a, b: pairs[0].a }])).rejects.toThrow(/both sides/);
      // As reward/'s LabelSource: exactly one label per pair, in order.
      const asSource = server.labelSource({ timeoutMs: 100, fallback: () => 1, fallbackTeacher: 'oracle' });
      expect(asSource.name).toBe('labeling-page');
      const viaSource = await asSource.label(pairs.map((p) => [p.a, p.b]));
      expect(viaSource.map((l) => [l.a, l.b, l.label, l.teacher])).toEqual(pairs.map((p) => [p.a.id, p.b.id, 1, 'oracle']));
      // The people's answers are in the store too, for export.
      expect(server.store.preferences().filter((l) => l.teacher === 'dana')).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('opens a database written before schema versioning, migrates it once, and keeps its labels', () => {
    // The schema as the first release wrote it (no user_version, no verdict/confidence/leases).
    const path = join(dir, 'old.sqlite');
    const old = new Database(path);
    old.exec(`
      CREATE TABLE pools (name TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('pair', 'rating')), classes INTEGER, spec TEXT NOT NULL, labels_per_query INTEGER, created INTEGER NOT NULL);
      CREATE TABLE queries (id INTEGER PRIMARY KEY AUTOINCREMENT, pool TEXT NOT NULL REFERENCES pools(name), a TEXT NOT NULL, b TEXT, media_a TEXT, media_b TEXT);
      CREATE INDEX queries_pool ON queries(pool, id);
      CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, query INTEGER NOT NULL REFERENCES queries(id), teacher TEXT NOT NULL, label REAL, rating INTEGER, skipped INTEGER NOT NULL, time INTEGER NOT NULL, duration_ms INTEGER, undone INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX answers_query ON answers(query, teacher, undone);
      CREATE INDEX answers_teacher ON answers(teacher, undone, id);
      INSERT INTO pools VALUES ('p', 'pair', NULL, '{"n":2}', 1, 5);
      INSERT INTO queries (pool, a, b) VALUES ('p', 's0', 's1'), ('p', 's2', 's3');
      INSERT INTO answers (query, teacher, label, rating, skipped, time, duration_ms) VALUES (1, 'old', 1, NULL, 0, 7, 100);
    `);
    expect(old.pragma('user_version', { simple: true })).toBe(0);
    old.close();
    const store = open('old.sqlite');
    expect(store.preferences('p')).toEqual([{ a: 's0', b: 's1', label: 1, teacher: 'old', time: 7, durationMs: 100 }]);
    expect(store.pool('p')).toMatchObject({ labelsPerQuery: 1, levelNames: null });
    // The new answer kinds and leases work on the migrated file.
    const q = store.next(['p'], 'new')!;
    expect(q.id).toBe(2);
    store.answer({ query: q.id, teacher: 'new', answer: { kind: 'pair', choice: 'both-bad', confidence: 'low' } });
    expect(store.preferences('p')[1]).toMatchObject({ label: null, answer: 'both-bad', confidence: 'low' });
    store.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
    // Reopening does not migrate twice; a database from a newer pbrl is refused, not damaged.
    const again = open('old.sqlite');
    expect(again.answers('p')).toHaveLength(2);
    again.close();
    const w = new Database(path);
    w.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    w.close();
    expect(() => new LabelStore(path)).toThrow(/newer than this pbrl understands/);
    expect(() => LabelStore.openExisting(join(dir, 'nope', 'x.sqlite'))).toThrow(/no such label database/);
    expect(existsSync(join(dir, 'nope'))).toBe(false);
  });
});
