/**
 * Cutting trajectories into the length-H windows that teachers and people compare, and sampling
 * random segments and pairs of segments from a set of trajectories (B-Pref / PEBBLE: two episodes
 * chosen uniformly with replacement, an independent random start in each).
 *
 * A segment keeps everything needed to show it to a person later: observations, actions, true
 * rewards, success flags and, when the trajectory recorded them, the body poses of the same steps.
 */
import type { PoseTrack, Segment, Trajectory } from '../core/types.js';
import { Rng } from '../core/rng.js';

/** Segment length used by PEBBLE / B-Pref on Meta-World. */
export const DEFAULT_SEGMENT_LENGTH = 50;

/**
 * A segment as this module produces it. `finalObs` is the observation reached after the last action
 * (obs[start + H] of the trajectory): the regret teacher needs V*(s_H). It is optional so segments
 * that come back from a label store without it still work.
 */
export interface RewardSegment extends Segment {
  finalObs?: Float32Array;
}

export type SegmentPair = [RewardSegment, RewardSegment];

/** The id a segment gets from its source, stable across runs: "task:trajectory:start:length". */
export function segmentId(task: string, trajectory: string | number, start: number, length: number): string {
  return `${task}:${trajectory}:${start}:${length}`;
}

function checkTrajectory(traj: Trajectory, where: string): void {
  const T = traj.length;
  if (!Number.isInteger(T) || T < 0) throw new Error(`${where}.length must be a non-negative integer, got ${T}`);
  if (traj.obs.length !== (T + 1) * traj.obsDim) {
    throw new Error(`${where}.obs has ${traj.obs.length} values, expected (length + 1) * obsDim = ${(T + 1) * traj.obsDim}`);
  }
  if (traj.actions.length !== T * traj.actDim) {
    throw new Error(`${where}.actions has ${traj.actions.length} values, expected length * actDim = ${T * traj.actDim}`);
  }
  if (traj.rewards.length !== T) throw new Error(`${where}.rewards has ${traj.rewards.length} values, expected length = ${T}`);
  if (traj.success.length !== T) throw new Error(`${where}.success has ${traj.success.length} values, expected length = ${T}`);
}

function checkLength(H: number, field = 'segment length'): void {
  if (!Number.isInteger(H) || H < 1) throw new Error(`${field} must be an integer >= 1, got ${H}`);
}

/**
 * The window [start, start + H) of a trajectory. Poses keep H + 1 frames (the state before each
 * action and the state after the last one) so a replay shows the segment's final state too.
 */
export function extractSegment(traj: Trajectory, start: number, H: number, trajectoryId: string | number = traj.seed): RewardSegment {
  checkLength(H);
  if (!Number.isInteger(start) || start < 0 || start + H > traj.length) {
    throw new Error(`segment start must be an integer in [0, ${traj.length - H}] for a trajectory of length ${traj.length} and H = ${H}, got ${start}`);
  }
  const { obsDim, actDim } = traj;
  let poses: PoseTrack | undefined;
  if (traj.poses) {
    const per = traj.poses.bodyNames.length * 7;
    poses = { bodyNames: [...traj.poses.bodyNames], data: traj.poses.data.slice(start * per, (start + H + 1) * per) };
  }
  return {
    id: segmentId(traj.task, trajectoryId, start, H),
    task: traj.task,
    source: { trajectory: trajectoryId, start },
    length: H,
    obsDim,
    actDim,
    obs: traj.obs.slice(start * obsDim, (start + H) * obsDim),
    actions: traj.actions.slice(start * actDim, (start + H) * actDim),
    rewards: traj.rewards.slice(start, start + H),
    success: traj.success.slice(start, start + H),
    finalObs: traj.obs.slice((start + H) * obsDim, (start + H + 1) * obsDim),
    ...(poses ? { poses } : {}),
    ...(traj.factors ? { factors: { names: [...traj.factors.names], data: traj.factors.data.slice(start * traj.factors.names.length, (start + H) * traj.factors.names.length) } } : {}),
  };
}

export interface CutOptions {
  /** Window length H (default 50). */
  length?: number;
  /** Step between window starts (default H: non-overlapping windows). */
  stride?: number;
  /** Id of the trajectory used in segment ids (default the trajectory's seed). */
  trajectoryId?: string | number;
}

/** All windows of a trajectory at the given stride; a tail shorter than H is dropped. */
export function cutSegments(traj: Trajectory, opts: CutOptions = {}): RewardSegment[] {
  const H = opts.length ?? DEFAULT_SEGMENT_LENGTH;
  const stride = opts.stride ?? H;
  checkLength(H);
  checkLength(stride, 'stride');
  checkTrajectory(traj, 'trajectory');
  const out: RewardSegment[] = [];
  for (let s = 0; s + H <= traj.length; s += stride) out.push(extractSegment(traj, s, H, opts.trajectoryId ?? traj.seed));
  return out;
}

export interface SampleOptions {
  /** Window length H (default 50). */
  length?: number;
  /** Ids for the trajectories (same order); default their index in the array. */
  trajectoryIds?: (string | number)[];
}

/**
 * Draws segments from a set of trajectories: each draw picks a trajectory uniformly (with
 * replacement) among those at least H long, then a uniform start in [0, T - H].
 */
export class SegmentSampler {
  readonly length: number;
  private readonly eligible: number[];

  constructor(
    private readonly trajectories: readonly Trajectory[],
    private readonly opts: SampleOptions = {},
  ) {
    this.length = opts.length ?? DEFAULT_SEGMENT_LENGTH;
    checkLength(this.length);
    if (opts.trajectoryIds && opts.trajectoryIds.length !== trajectories.length) {
      throw new Error(`trajectoryIds has ${opts.trajectoryIds.length} entries, expected one per trajectory (${trajectories.length})`);
    }
    trajectories.forEach((t, i) => checkTrajectory(t, `trajectories[${i}]`));
    this.eligible = [];
    trajectories.forEach((t, i) => {
      if (t.length >= this.length) this.eligible.push(i);
    });
    if (this.eligible.length === 0) {
      const longest = trajectories.reduce((m, t) => Math.max(m, t.length), 0);
      throw new Error(`no trajectory is at least ${this.length} steps long (got ${trajectories.length} trajectories, longest ${longest}); lower the segment length or collect longer episodes`);
    }
  }

  sample(rng: Rng): RewardSegment {
    const i = this.eligible[rng.int(this.eligible.length)];
    const t = this.trajectories[i];
    const start = rng.int(t.length - this.length + 1);
    return extractSegment(t, start, this.length, this.opts.trajectoryIds?.[i] ?? i);
  }

  sampleMany(n: number, rng: Rng): RewardSegment[] {
    checkCount(n, 'segment count');
    return Array.from({ length: n }, () => this.sample(rng));
  }

  samplePairs(n: number, rng: Rng): SegmentPair[] {
    checkCount(n, 'pair count');
    return Array.from({ length: n }, () => [this.sample(rng), this.sample(rng)] as SegmentPair);
  }
}

function checkCount(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${field} must be a non-negative integer, got ${n}`);
}

/** n random segments of length H from the trajectories. */
export function sampleSegments(trajectories: readonly Trajectory[], n: number, rng: Rng, opts: SampleOptions = {}): RewardSegment[] {
  return new SegmentSampler(trajectories, opts).sampleMany(n, rng);
}

/** n random pairs of segments (each segment drawn independently, as B-Pref does). */
export function sampleSegmentPairs(trajectories: readonly Trajectory[], n: number, rng: Rng, opts: SampleOptions = {}): SegmentPair[] {
  return new SegmentSampler(trajectories, opts).samplePairs(n, rng);
}

/** Undiscounted sum of true rewards. */
export function segmentReturn(seg: Segment): number {
  let s = 0;
  for (let i = 0; i < seg.length; i++) s += seg.rewards[i];
  return s;
}

/**
 * Myopic return: step t (0-based) of an H-step segment has weight gamma^(H-1-t), so the last step
 * counts fully and earlier ones less (B-Pref's myopic teacher).
 */
export function discountedSegmentReturn(seg: Segment, gamma: number): number {
  if (gamma === 1) return segmentReturn(seg);
  let s = 0;
  let w = 1;
  for (let t = seg.length - 1; t >= 0; t--) {
    s += w * seg.rewards[t];
    w *= gamma;
  }
  return s;
}

/**
 * The sub-window [offset, offset + length) of a segment, as a segment of its own (same source, so
 * its id names where it lies in the trajectory). SURF stores H + 2w steps and shows teachers the
 * central H: `subSegment(seg, w, H)`.
 */
export function subSegment(seg: RewardSegment, offset: number, length: number): RewardSegment {
  checkLength(length, 'sub-segment length');
  if (!Number.isInteger(offset) || offset < 0 || offset + length > seg.length) {
    throw new Error(`sub-segment offset must be an integer in [0, ${seg.length - length}] for length ${length} of a ${seg.length}-step segment, got ${offset}`);
  }
  const { obsDim, actDim } = seg;
  const start = seg.source.start + offset;
  let poses: PoseTrack | undefined;
  if (seg.poses) {
    const per = seg.poses.bodyNames.length * 7;
    poses = { bodyNames: [...seg.poses.bodyNames], data: seg.poses.data.slice(offset * per, (offset + length + 1) * per) };
  }
  const end = offset + length;
  const finalObs = end < seg.length ? seg.obs.slice(end * obsDim, (end + 1) * obsDim) : seg.finalObs;
  return {
    id: segmentId(seg.task, seg.source.trajectory, start, length),
    task: seg.task,
    source: { trajectory: seg.source.trajectory, start },
    length,
    obsDim,
    actDim,
    obs: seg.obs.slice(offset * obsDim, end * obsDim),
    actions: seg.actions.slice(offset * actDim, end * actDim),
    rewards: seg.rewards.slice(offset, end),
    success: seg.success.slice(offset, end),
    ...(finalObs ? { finalObs } : {}),
    ...(poses ? { poses } : {}),
  };
}

/** Checks a segment's arrays against its declared sizes (for segments that come from files or people). */
export function validateSegment(seg: Segment, where = 'segment'): void {
  if (!Number.isInteger(seg.length) || seg.length < 1) throw new Error(`${where}.length must be an integer >= 1, got ${seg.length}`);
  if (seg.obs.length !== seg.length * seg.obsDim) throw new Error(`${where}.obs has ${seg.obs.length} values, expected length * obsDim = ${seg.length * seg.obsDim}`);
  if (seg.actions.length !== seg.length * seg.actDim) throw new Error(`${where}.actions has ${seg.actions.length} values, expected length * actDim = ${seg.length * seg.actDim}`);
  if (seg.rewards.length !== seg.length) throw new Error(`${where}.rewards has ${seg.rewards.length} values, expected ${seg.length}`);
}
