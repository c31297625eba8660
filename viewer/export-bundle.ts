/**
 * A label export a model can train on without the run folder: every active answer with its
 * segments' observations and actions, who answered, when, and what, as JSON lines and as NumPy
 * arrays (.npz), plus meta.json describing the pools. The ids-only JSON lines export stays the
 * format reward/'s label source reads; this is for trainers elsewhere (e.g. Python).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Segment } from '../core/types.js';
import type { LabelStore, PoolRow } from './label-store.js';
import { pairsFilePool } from './pools.js';
import { loadRun, runSegmentSource, type SegmentSource } from './run-data.js';
import { npz, type NpyArray } from './npz.js';

/**
 * Where a stored pool's segments are: the run or pairs file its spec names, checked against the
 * sha256 recorded when the pool was made (a rewritten file would pair stored answers with other data).
 */
export function segmentSourceForPool(pool: PoolRow): SegmentSource {
  const spec = JSON.parse(pool.spec) as { source?: string; file?: string; sha256?: string; manifest?: string; live?: boolean };
  if (spec.live) throw new Error(`pool "${pool.name}" was labelled live: its segments lived in the trainer's memory; pass --segments <run> holding them`);
  if (spec.manifest) throw new Error(`pool "${pool.name}" labels video files; pass --segments <run> holding the segments its ids name`);
  if (spec.file) {
    const f = pairsFilePool(spec.file, pool.kind === 'rating' ? { ratingClasses: pool.classes! } : {});
    if (f.pool.spec.sha256 !== spec.sha256) throw new Error(`pool "${pool.name}": ${spec.file} (or its run) changed since the pool was made; pass --segments with the original data`);
    return f.source;
  }
  if (spec.source) {
    const run = loadRun(spec.source);
    if (run.sha256 !== spec.sha256) throw new Error(`pool "${pool.name}": ${spec.source} was rewritten since the pool was made; pass --segments with the original run`);
    return runSegmentSource(run);
  }
  throw new Error(`pool "${pool.name}": its definition names no run or pairs file; pass --segments <run>`);
}

interface Row {
  pool: string;
  query: number;
  teacher: string;
  time: number;
  durationMs: number | null;
  confidence: string | null;
  answer: string;
  segments: Segment[];
}

function stack(segs: Segment[], field: 'obs' | 'actions', H: number): { dtype: '<f4'; data: Float32Array; shape: number[] } {
  const dim = field === 'obs' ? segs[0].obsDim : segs[0].actDim;
  const out = new Float32Array(segs.length * H * dim).fill(NaN);
  segs.forEach((s, i) => out.set(s[field], i * H * dim));
  return { dtype: '<f4', data: out, shape: [segs.length, H, dim] };
}

const rows2d = (a: Float32Array, dim: number) => Array.from({ length: a.length / dim }, (_, t) => Array.from(a.subarray(t * dim, (t + 1) * dim)));

function writeAtomic(file: string, data: string | Buffer): void {
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
}

export interface BundleResult {
  preferences: number;
  ratings: number;
  files: string[];
}

/** Writes preferences.{jsonl,npz}, ratings.{jsonl,npz} (those that have rows) and meta.json into outDir. */
export function writeBundle(o: { store: LabelStore; pools: string[]; outDir: string; source?: SegmentSource }): BundleResult {
  const pools = o.pools.map((name) => {
    const p = o.store.pool(name);
    if (!p) throw new Error(`no label pool named "${name}" in ${o.store.path}`);
    return p;
  });
  const pairs: Row[] = [];
  const ratings: (Row & { rating: number; classes: number; level: string })[] = [];
  // Resolve everything before writing a byte, so a missing segment leaves no half bundle.
  for (const p of pools) {
    const src = o.source ?? segmentSourceForPool(p);
    const get = (id: string) => {
      const s = src.get(id);
      if (!s) throw new Error(`pool "${p.name}": segment "${id}" is not in its source; pass --segments <run> that holds it`);
      return s;
    };
    for (const r of o.store.answers(p.name)) {
      const base = { pool: p.name, query: r.query, teacher: r.teacher, time: r.time, durationMs: r.durationMs, confidence: r.confidence };
      if (p.kind === 'pair') {
        const answer = r.skipped ? 'skip' : r.verdict ? r.verdict : r.label === 1 ? 'a' : r.label === 0 ? 'b' : 'equal';
        pairs.push({ ...base, answer, segments: [get(r.a), get(r.b!)] });
      } else {
        ratings.push({ ...base, answer: r.skipped ? 'skip' : 'rated', segments: [get(r.a)], rating: r.rating ?? -1, classes: p.classes!, level: r.rating !== null && p.levelNames ? p.levelNames[r.rating] : '' });
      }
    }
  }
  const all = [...pairs, ...ratings].flatMap((r) => r.segments);
  if (all.length && all.some((s) => s.obsDim !== all[0].obsDim || s.actDim !== all[0].actDim)) throw new Error('segments in these pools have different observation or action sizes; export the pools one at a time (--pool)');
  mkdirSync(o.outDir, { recursive: true });
  const files: string[] = [];
  const common = (rs: Row[]): Record<string, NpyArray> => ({
    query: { dtype: '<i4', data: Int32Array.from(rs.map((r) => r.query)), shape: [rs.length] },
    pool: { dtype: 'str', data: rs.map((r) => r.pool), shape: [rs.length] },
    teacher: { dtype: 'str', data: rs.map((r) => r.teacher), shape: [rs.length] },
    time_ms: { dtype: '<i8', data: BigInt64Array.from(rs.map((r) => BigInt(r.time))), shape: [rs.length] },
    duration_ms: { dtype: '<f8', data: Float64Array.from(rs.map((r) => r.durationMs ?? NaN)), shape: [rs.length] },
    answer: { dtype: 'str', data: rs.map((r) => r.answer), shape: [rs.length] },
    confidence: { dtype: 'str', data: rs.map((r) => r.confidence ?? ''), shape: [rs.length] },
  });
  if (pairs.length) {
    const A = pairs.map((r) => r.segments[0]);
    const B = pairs.map((r) => r.segments[1]);
    const H = Math.max(...A.map((s) => s.length), ...B.map((s) => s.length));
    const label = pairs.map((r) => (r.answer === 'a' ? 1 : r.answer === 'b' ? 0 : r.answer === 'equal' ? 0.5 : NaN));
    const f = join(o.outDir, 'preferences.npz');
    writeAtomic(
      f,
      npz({
        ...common(pairs),
        seg_a: { dtype: 'str', data: A.map((s) => s.id), shape: [A.length] },
        seg_b: { dtype: 'str', data: B.map((s) => s.id), shape: [B.length] },
        label: { dtype: '<f4', data: Float32Array.from(label), shape: [pairs.length] },
        obs_a: stack(A, 'obs', H),
        act_a: stack(A, 'actions', H),
        len_a: { dtype: '<i4', data: Int32Array.from(A.map((s) => s.length)), shape: [A.length] },
        obs_b: stack(B, 'obs', H),
        act_b: stack(B, 'actions', H),
        len_b: { dtype: '<i4', data: Int32Array.from(B.map((s) => s.length)), shape: [B.length] },
      }),
    );
    const lines = pairs.map((r, i) => {
      const [a, b] = r.segments;
      return JSON.stringify({
        pool: r.pool, query: r.query, a: a.id, b: b.id, answer: r.answer, label: Number.isNaN(label[i]) ? null : label[i], confidence: r.confidence,
        teacher: r.teacher, time: r.time, durationMs: r.durationMs, task: a.task,
        obs_a: rows2d(a.obs, a.obsDim), act_a: rows2d(a.actions, a.actDim), obs_b: rows2d(b.obs, b.obsDim), act_b: rows2d(b.actions, b.actDim),
      });
    });
    writeAtomic(join(o.outDir, 'preferences.jsonl'), lines.join('\n') + '\n');
    files.push(join(o.outDir, 'preferences.jsonl'), f);
  }
  if (ratings.length) {
    const S = ratings.map((r) => r.segments[0]);
    const H = Math.max(...S.map((s) => s.length));
    const f = join(o.outDir, 'ratings.npz');
    writeAtomic(
      f,
      npz({
        ...common(ratings),
        segment: { dtype: 'str', data: S.map((s) => s.id), shape: [S.length] },
        rating: { dtype: '<i4', data: Int32Array.from(ratings.map((r) => r.rating)), shape: [ratings.length] },
        classes: { dtype: '<i4', data: Int32Array.from(ratings.map((r) => r.classes)), shape: [ratings.length] },
        level: { dtype: 'str', data: ratings.map((r) => r.level), shape: [ratings.length] },
        obs: stack(S, 'obs', H),
        act: stack(S, 'actions', H),
        len: { dtype: '<i4', data: Int32Array.from(S.map((s) => s.length)), shape: [S.length] },
      }),
    );
    const lines = ratings.map((r) => {
      const s = r.segments[0];
      return JSON.stringify({
        pool: r.pool, query: r.query, segment: s.id, answer: r.answer, rating: r.answer === 'skip' ? null : r.rating, classes: r.classes, level: r.level || null,
        confidence: r.confidence, teacher: r.teacher, time: r.time, durationMs: r.durationMs, task: s.task, obs: rows2d(s.obs, s.obsDim), act: rows2d(s.actions, s.actDim),
      });
    });
    writeAtomic(join(o.outDir, 'ratings.jsonl'), lines.join('\n') + '\n');
    files.push(join(o.outDir, 'ratings.jsonl'), f);
  }
  const meta = {
    format: 'pbrl-label-bundle',
    version: 1,
    exported: new Date().toISOString(),
    db: o.store.path,
    pools: pools.map((p) => ({ name: p.name, kind: p.kind, classes: p.classes, levelNames: p.levelNames, labelsPerQuery: p.labelsPerQuery, spec: JSON.parse(p.spec) })),
    counts: { preferences: pairs.length, ratings: ratings.length },
    notes: {
      answer: 'pairs: a | b | equal (label 1 / 0 / 0.5 = P(a preferred)) | both-bad | cant-tell | skip (label null / NaN); ratings: rated | skip',
      rating: 'ratings are 0-based: the page shows level rating + 1 (rating 0 = level 1, the worst); level is the level name when the pool has names',
      arrays: 'obs_* / act_* are [N, H, dim] float32 padded with NaN after len_* steps; time_ms is ms since the epoch; duration_ms is NaN when not recorded',
    },
  };
  writeAtomic(join(o.outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  files.push(join(o.outDir, 'meta.json'));
  return { preferences: pairs.length, ratings: ratings.length, files };
}
