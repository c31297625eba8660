/** Synthetic trajectories and segments for the reward tests (no physics). */
import type { Trajectory } from '../../core/types.js';
import { Rng } from '../../core/rng.js';
import { segmentId, type RewardSegment } from '../../reward/segments.js';

let counter = 0;

/** A segment with the given per-step rewards; obs/actions filled from rng (or zeros). */
export function makeSegment(rewards: ArrayLike<number>, opts: { obsDim?: number; actDim?: number; rng?: Rng; id?: string; obs?: Float32Array; finalObs?: Float32Array } = {}): RewardSegment {
  const H = rewards.length;
  const obsDim = opts.obsDim ?? 3;
  const actDim = opts.actDim ?? 2;
  const obs = opts.obs ?? new Float32Array(H * obsDim);
  const actions = new Float32Array(H * actDim);
  if (opts.rng && !opts.obs) opts.rng.fillUniform(obs, -1, 1);
  if (opts.rng) opts.rng.fillUniform(actions, -1, 1);
  const n = counter++;
  return {
    id: opts.id ?? segmentId('synthetic', n, 0, H),
    task: 'synthetic',
    source: { trajectory: n, start: 0 },
    length: H,
    obsDim,
    actDim,
    obs,
    actions,
    rewards: Float32Array.from(rewards),
    success: new Uint8Array(H),
    ...(opts.finalObs ? { finalObs: opts.finalObs } : {}),
  };
}

/** A segment whose H rewards are all `total / H`, so its return is exactly `total`. */
export function segmentWithReturn(total: number, H = 10): RewardSegment {
  return makeSegment(new Float32Array(H).fill(total / H));
}

/** A trajectory of length T with rewards 0, 1, 2, ... and obs[t] = [t, t, ...] so slices are checkable. */
export function countingTrajectory(T: number, opts: { obsDim?: number; actDim?: number; poses?: boolean; seed?: number } = {}): Trajectory {
  const obsDim = opts.obsDim ?? 2;
  const actDim = opts.actDim ?? 1;
  const obs = new Float32Array((T + 1) * obsDim);
  for (let t = 0; t <= T; t++) obs.fill(t, t * obsDim, (t + 1) * obsDim);
  const actions = new Float32Array(T * actDim);
  for (let t = 0; t < T; t++) actions.fill(-t, t * actDim, (t + 1) * actDim);
  const traj: Trajectory = {
    task: 'counting',
    seed: opts.seed ?? 7,
    obsDim,
    actDim,
    length: T,
    obs,
    actions,
    rewards: Float32Array.from({ length: T }, (_, t) => t),
    success: Uint8Array.from({ length: T }, (_, t) => (t % 2)),
    terminated: false,
    truncated: true,
  };
  if (opts.poses) {
    const data = new Float32Array((T + 1) * 2 * 7);
    for (let t = 0; t <= T; t++) data.fill(t, t * 14, (t + 1) * 14);
    traj.poses = { bodyNames: ['hand', 'obj'], data };
  }
  return traj;
}

/**
 * A random-walk trajectory whose true reward is a simple function of (obs, action):
 * r_t = obs_t[0] + 0.5 * action_t[0]. Reward models should learn it from a few hundred pairs.
 */
export function randomWalkTrajectory(T: number, rng: Rng, opts: { obsDim?: number; actDim?: number; seed?: number; drift?: number } = {}): Trajectory {
  const obsDim = opts.obsDim ?? 3;
  const actDim = opts.actDim ?? 2;
  const obs = new Float32Array((T + 1) * obsDim);
  const actions = new Float32Array(T * actDim);
  const rewards = new Float32Array(T);
  rng.fillUniform(obs.subarray(0, obsDim), -1, 1);
  const drift = opts.drift ?? rng.range(-0.05, 0.05);
  for (let t = 0; t < T; t++) {
    rng.fillUniform(actions.subarray(t * actDim, (t + 1) * actDim), -1, 1);
    rewards[t] = obs[t * obsDim] + 0.5 * actions[t * actDim];
    for (let i = 0; i < obsDim; i++) {
      const next = obs[t * obsDim + i] + drift + 0.1 * actions[t * actDim + (i % actDim)];
      obs[(t + 1) * obsDim + i] = Math.max(-2, Math.min(2, next));
    }
  }
  return {
    task: 'walk', seed: opts.seed ?? 0, obsDim, actDim, length: T, obs, actions, rewards,
    success: new Uint8Array(T), terminated: false, truncated: true,
  };
}

export function randomWalks(n: number, T: number, seed: number): Trajectory[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => randomWalkTrajectory(T, rng, { seed: seed * 1000 + i }));
}
