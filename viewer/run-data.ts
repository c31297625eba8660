/**
 * Loading a recorded run for the viewer, and the JSON shapes the pages fetch. Poses travel as
 * base64 little-endian float32 (a 500-step episode is ~140 kB that way, ~5x less than JSON numbers).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadTrajectories } from '../envs/trajectory-file.js';
import type { SceneGeometry } from '../envs/geometry.js';
import type { PoseTrack, Segment, Trajectory } from '../core/types.js';
import { cutSegment, parseSegmentId } from './segments.js';

export interface RunData {
  /** The trajectory file that was read. */
  file: string;
  /** Short name for messages and pool names: the run folder's name. */
  name: string;
  trajectories: Trajectory[];
  geometry: Record<string, SceneGeometry>;
  /** sha256 of the trajectory file: label pools record it, so a rewritten run cannot silently change what stored ids point at. */
  sha256: string;
}

/** Accepts a run folder (holding trajectories.pbrl) or the trajectory file itself. */
export function resolveRunFile(path: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new Error(`${path}: no such file or folder (expected a run folder from \`pbrl rollout --out\` or its trajectories.pbrl)`);
  if (statSync(p).isDirectory()) {
    const f = join(p, 'trajectories.pbrl');
    if (!existsSync(f)) throw new Error(`${path}: folder has no trajectories.pbrl (write one with \`pbrl rollout --out ${path}\`)`);
    return f;
  }
  return p;
}

export function loadRun(path: string): RunData {
  const file = resolveRunFile(path);
  const { trajectories, geometry } = loadTrajectories(file);
  if (trajectories.length === 0) throw new Error(`${path}: the trajectory file holds no episodes`);
  const name = basename(file) === 'trajectories.pbrl' ? basename(dirname(file)) : basename(file).replace(/\.pbrl$/, '');
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  return { file, name, trajectories, geometry, sha256 };
}

export function encodeFloats(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** What the pages need to replay a window: poses per frame, plus (viewer only) reward and success per step. */
export interface ReplayPayload {
  id: string;
  task: string;
  /** Number of actions; frames = length + 1. */
  length: number;
  frames: number;
  bodyNames: string[];
  /** base64 float32, frames * bodies * 7 (x, y, z, qx, qy, qz, qw). */
  poses: string;
  rewards?: number[];
  success?: number[];
}

function posePayload(id: string, task: string, length: number, poses: PoseTrack | undefined): ReplayPayload {
  if (!poses) throw new Error(`${id}: no body poses were recorded (rerun the rollout without --no-poses)`);
  const frames = poses.data.length / (poses.bodyNames.length * 7);
  return { id, task, length, frames, bodyNames: poses.bodyNames, poses: encodeFloats(poses.data) };
}

export function episodePayload(run: RunData, index: number): ReplayPayload {
  const t = run.trajectories[index];
  const p = posePayload(String(index), t.task, t.length, t.poses);
  p.rewards = Array.from(t.rewards, (r) => Math.round(r * 1e4) / 1e4);
  p.success = Array.from(t.success);
  return p;
}

/**
 * A segment for the labeling page. True rewards are left out on purpose: a person labeling must
 * judge the behaviour, not read the answer off the screen.
 */
export function segmentPayload(seg: Segment): ReplayPayload {
  return posePayload(seg.id, seg.task, seg.length, seg.poses);
}

/** Where the server finds segments by id: cut from a run, or handed over by a live trainer. */
export interface SegmentSource {
  get(id: string): Segment | undefined;
  geometry(task: string): SceneGeometry | undefined;
}

export function runSegmentSource(run: RunData): SegmentSource {
  const cache = new Map<string, Segment>();
  return {
    get(id) {
      let s = cache.get(id);
      if (!s) {
        try {
          s = cutSegment(run.trajectories, parseSegmentId(run.trajectories, id));
        } catch {
          return undefined;
        }
        cache.set(id, s);
      }
      return s;
    },
    geometry: (task) => run.geometry[task],
  };
}

/** An in-memory source the live trainer fills as it asks for labels. */
export class MemorySegmentSource implements SegmentSource {
  private readonly segments = new Map<string, Segment>();
  private readonly geoms = new Map<string, SceneGeometry>();
  add(seg: Segment): void {
    this.segments.set(seg.id, seg);
  }
  delete(id: string): void {
    this.segments.delete(id);
  }
  addGeometry(task: string, g: SceneGeometry): void {
    this.geoms.set(task, g);
  }
  get(id: string): Segment | undefined {
    return this.segments.get(id);
  }
  geometry(task: string): SceneGeometry | undefined {
    return this.geoms.get(task);
  }
}
