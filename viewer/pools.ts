/**
 * Building label pools: random segment pairs (or single segments for rating) from a run, or video
 * pairs from a manifest. A pool's spec records everything that determined its queries, so reopening
 * the same database with the same options resumes it, and different options cannot silently reuse it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import type { PoolSpec, QueryInput } from './label-store.js';
import { loadRun, MemorySegmentSource, runSegmentSource, type RunData, type SegmentSource } from './run-data.js';
import type { SceneGeometry } from '../envs/geometry.js';
import { segmentFromJSON } from '../reward/segment-io.js';
import { checkRef, cutSegment, parseSegmentId, samplePairs, sampleWindows, segmentId, type SegmentRef } from './segments.js';
import { poseDifference } from './similarity.js';

export interface SegmentPoolOptions {
  count: number;
  length: number;
  seed: number;
  /** Rating mode with this many classes; pairs otherwise. */
  ratingClasses?: number;
  labelsPerQuery?: number;
  name?: string;
  /** Pairs mode: turn down pairs whose segments differ by less than this (metres, see similarity.ts). */
  dropSimilar?: number;
}

export function segmentPool(run: RunData, o: SegmentPoolOptions): { pool: PoolSpec; queries: QueryInput[] } {
  const kind = o.ratingClasses === undefined ? 'pair' : 'rating';
  if (o.dropSimilar !== undefined && kind !== 'pair') throw new Error('dropping near-identical pairs applies to pairs, not ratings');
  // Recorded only when used, so pools made before the option existed reopen unchanged.
  const spec = { source: run.file, sha256: run.sha256, length: o.length, count: o.count, seed: o.seed, ...(o.dropSimilar !== undefined ? { dropSimilar: o.dropSimilar } : {}) };
  const minDiff = o.dropSimilar;
  const accept =
    minDiff === undefined
      ? undefined
      : (a: SegmentRef, b: SegmentRef) => poseDifference(cutSegment(run.trajectories, a).poses!, cutSegment(run.trajectories, b).poses!) >= minDiff;
  const name = o.name ?? (kind === 'pair' ? `${run.name}-pairs-H${o.length}-n${o.count}-s${o.seed}` : `${run.name}-rating${o.ratingClasses}-H${o.length}-n${o.count}-s${o.seed}`);
  const queries =
    kind === 'pair'
      ? samplePairs(run.trajectories, { count: o.count, length: o.length, seed: o.seed, ...(accept ? { accept } : {}) }).map(([a, b]) => ({ a: segmentId(run.trajectories, a), b: segmentId(run.trajectories, b) }))
      : sampleWindows(run.trajectories, o).map((r) => ({ a: segmentId(run.trajectories, r) }));
  return {
    pool: { name, kind, spec, ...(o.ratingClasses !== undefined ? { classes: o.ratingClasses } : {}), ...(o.labelsPerQuery !== undefined ? { labelsPerQuery: o.labelsPerQuery } : {}) },
    queries,
  };
}

/**
 * A video manifest: `{ "pairs": [ { "a": "left.mp4", "b": "right.webm" }, ... ] }` (a bare array works
 * too). A side may be `{ "file": "x.mp4", "id": "reach:3:100:50" }` to give the label a segment id;
 * otherwise the id is the path as written in the manifest. Paths are relative to the manifest.
 */
export function videoPool(manifestPath: string, o: { labelsPerQuery?: number; name?: string } = {}): { pool: PoolSpec; queries: QueryInput[] } {
  const file = resolve(manifestPath);
  if (!existsSync(file)) throw new Error(`${manifestPath}: no such video manifest`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${manifestPath}: not valid JSON (${(e as Error).message})`);
  }
  const pairs = Array.isArray(doc) ? doc : (doc as { pairs?: unknown })?.pairs;
  if (!Array.isArray(pairs) || pairs.length === 0) throw new Error(`${manifestPath}: expected {"pairs": [{"a": "x.mp4", "b": "y.mp4"}, ...]} with at least one pair`);
  const side = (v: unknown, where: string): { id: string; media: string } => {
    const entry = typeof v === 'string' ? { file: v } : (v as { file?: unknown; id?: unknown });
    if (!entry || typeof entry.file !== 'string' || entry.file === '') throw new Error(`${manifestPath}: ${where} must be a file path or {"file": ..., "id": ...}`);
    if (entry.id !== undefined && (typeof entry.id !== 'string' || entry.id === '')) throw new Error(`${manifestPath}: ${where}.id must be a non-empty string`);
    const ext = extname(entry.file).toLowerCase();
    if (ext !== '.mp4' && ext !== '.webm') throw new Error(`${manifestPath}: ${where} "${entry.file}" is not an .mp4 or .webm file`);
    const media = resolve(dirname(file), entry.file);
    if (!existsSync(media)) throw new Error(`${manifestPath}: ${where} "${entry.file}" does not exist (looked at ${media})`);
    return { id: (entry.id as string | undefined) ?? entry.file, media };
  };
  const queries = pairs.map((p, i) => {
    const pair = Array.isArray(p) ? { a: p[0], b: p[1] } : (p as { a?: unknown; b?: unknown });
    const a = side(pair?.a, `pairs[${i}].a`);
    const b = side(pair?.b, `pairs[${i}].b`);
    if (a.id === b.id) throw new Error(`${manifestPath}: pairs[${i}] shows "${a.id}" on both sides`);
    return { a: a.id, b: b.id, mediaA: a.media, mediaB: b.media };
  });
  const base = file.replace(/^.*\//, '').replace(/\.json$/i, '');
  return {
    pool: {
      name: o.name ?? `videos-${base}`,
      kind: 'pair',
      spec: { manifest: file, pairs: queries.map((q) => [q.a, q.b]) },
      ...(o.labelsPerQuery !== undefined ? { labelsPerQuery: o.labelsPerQuery } : {}),
    },
    queries,
  };
}

/**
 * A pairs file names exactly which segments to show, e.g. the pairs a query strategy picked.
 * Either by id against a run (`run` is relative to the file):
 *   `{ "run": "runs/push", "pairs": [["push:0:16:50", "push:2:140:50"], ...] }`
 *   `{ "run": ..., "segments": ["push:0:16:50", ...] }` (rating mode)
 * or self-contained, with the segments themselves (reward/segment-io's SegmentJSON, poses included)
 * and the scene geometry per task (or a `run` to take the geometry from):
 *   `{ "geometry": {"push": {...}}, "segments": [{...}, ...], "pairs": [[idA, idB], ...] }`
 * (rating mode rates every embedded segment). Every id is checked before anything is stored.
 */
export function pairsFilePool(
  path: string,
  o: { ratingClasses?: number; labelsPerQuery?: number; name?: string } = {},
): { pool: PoolSpec; queries: QueryInput[]; source: SegmentSource; run: RunData | null } {
  const file = resolve(path);
  if (!existsSync(file)) throw new Error(`${path}: no such pairs file`);
  const text = readFileSync(file, 'utf8');
  let doc: { run?: unknown; pairs?: unknown; segments?: unknown; geometry?: unknown };
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== 'object') throw new Error(`${path}: expected a JSON object`);
  const embedded = Array.isArray(doc.segments) && doc.segments.length > 0 && typeof doc.segments[0] === 'object';
  if (!embedded && typeof doc.run !== 'string') throw new Error(`${path}: needs "run" (the run folder or trajectories.pbrl the ids refer to) or embedded "segments" objects`);
  const run = typeof doc.run === 'string' ? loadRun(resolve(dirname(file), doc.run)) : null;
  let source: SegmentSource;
  const ids = new Set<string>();
  if (embedded) {
    const mem = new MemorySegmentSource();
    (doc.segments as unknown[]).forEach((j, i) => {
      let seg;
      try {
        seg = segmentFromJSON(j, 'segment');
      } catch (e) {
        throw new Error(`${path}: segments[${i}]: ${(e as Error).message}`);
      }
      if (!seg.poses) throw new Error(`${path}: segments[${i}] (${seg.id}) has no poses to show`);
      if (ids.has(seg.id)) throw new Error(`${path}: segments[${i}]: id "${seg.id}" appears twice`);
      ids.add(seg.id);
      mem.add(seg);
    });
    const geometry = (doc.geometry ?? run?.geometry ?? {}) as Record<string, SceneGeometry>;
    for (const id of ids) {
      const task = mem.get(id)!.task;
      if (!geometry[task]) throw new Error(`${path}: no scene geometry for task "${task}" (add "geometry": {"${task}": ...} or a "run")`);
      mem.addGeometry(task, geometry[task]);
    }
    source = mem;
  } else {
    source = runSegmentSource(run!);
  }
  const check = (id: unknown, where: string): string => {
    if (typeof id !== 'string') throw new Error(`${path}: ${where} must be a segment id string`);
    if (embedded) {
      if (!ids.has(id)) throw new Error(`${path}: ${where}: no embedded segment "${id}"`);
      return id;
    }
    try {
      checkRef(run!.trajectories, parseSegmentId(run!.trajectories, id));
    } catch (e) {
      throw new Error(`${path}: ${where}: ${(e as Error).message}`);
    }
    return id;
  };
  const rating = o.ratingClasses !== undefined;
  let queries: QueryInput[];
  if (rating) {
    if (!Array.isArray(doc.segments) || doc.segments.length === 0) throw new Error(`${path}: rating mode needs a non-empty "segments" list`);
    queries = embedded ? [...ids].map((a) => ({ a })) : doc.segments.map((id, i) => ({ a: check(id, `segments[${i}]`) }));
  } else {
    if (!Array.isArray(doc.pairs) || doc.pairs.length === 0) throw new Error(`${path}: needs a non-empty "pairs" list of [idA, idB]`);
    queries = doc.pairs.map((p, i) => {
      if (!Array.isArray(p) || p.length !== 2) throw new Error(`${path}: pairs[${i}] must be [idA, idB]`);
      return { a: check(p[0], `pairs[${i}][0]`), b: check(p[1], `pairs[${i}][1]`) };
    });
  }
  const base = file.replace(/^.*\//, '').replace(/\.json$/i, '');
  // The file's own hash (embedded segments) or the run's: resuming is refused if either changed.
  const sha256 = embedded ? createHash('sha256').update(text).digest('hex') : run!.sha256;
  return {
    pool: {
      name: o.name ?? `${rating ? `rating${o.ratingClasses}` : 'pairs'}-${base}`,
      kind: rating ? 'rating' : 'pair',
      spec: { file, ...(run ? { run: run.file } : {}), sha256, queries: queries.map((q) => (q.b ? [q.a, q.b] : q.a)) },
      ...(rating ? { classes: o.ratingClasses } : {}),
      ...(o.labelsPerQuery !== undefined ? { labelsPerQuery: o.labelsPerQuery } : {}),
    },
    queries,
    source,
    run,
  };
}
