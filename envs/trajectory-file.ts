/**
 * Trajectory files: many episodes of one or more tasks plus the scene geometry, in core/serialize's
 * checksummed binary container. Arrays of all episodes are concatenated; the JSON header carries
 * each episode's length and metadata, and everything is cross-checked on read so a truncated,
 * corrupt or foreign file is a clear error.
 */
import { readBinFile, writeBinFile } from '../core/serialize.js';
import type { Trajectory } from '../core/types.js';
import type { SceneGeometry } from './geometry.js';

const KIND = 'pbrl-trajectories';
const VERSION = 1;

interface EpisodeHeader {
  task: string;
  seed: number;
  length: number;
  obsDim: number;
  actDim: number;
  terminated: boolean;
  truncated: boolean;
  poseBodies: string[] | null;
  meta?: Record<string, unknown>;
}

export interface TrajectoryFile {
  trajectories: Trajectory[];
  /** Scene geometry per task name, for a viewer. */
  geometry: Record<string, SceneGeometry>;
  meta: Record<string, unknown>;
}

export function saveTrajectories(
  path: string,
  trajectories: Trajectory[],
  geometry: Record<string, SceneGeometry> = {},
  meta: Record<string, unknown> = {},
): void {
  const episodes: EpisodeHeader[] = [];
  const sizes = { obs: 0, actions: 0, rewards: 0, poses: 0 };
  for (const [i, t] of trajectories.entries()) {
    const expectObs = (t.length + 1) * t.obsDim;
    if (t.obs.length !== expectObs) throw new Error(`trajectory ${i}: obs has ${t.obs.length} values, expected (length + 1) * obsDim = ${expectObs}`);
    if (t.actions.length !== t.length * t.actDim) throw new Error(`trajectory ${i}: actions has ${t.actions.length} values, expected ${t.length * t.actDim}`);
    if (t.rewards.length !== t.length || t.success.length !== t.length) throw new Error(`trajectory ${i}: rewards/success must have length ${t.length}`);
    if (t.poses && t.poses.data.length !== (t.length + 1) * t.poses.bodyNames.length * 7) {
      throw new Error(`trajectory ${i}: poses has ${t.poses.data.length} values, expected (length + 1) * bodies * 7`);
    }
    episodes.push({
      task: t.task,
      seed: t.seed,
      length: t.length,
      obsDim: t.obsDim,
      actDim: t.actDim,
      terminated: t.terminated,
      truncated: t.truncated,
      poseBodies: t.poses ? t.poses.bodyNames : null,
      ...(t.meta ? { meta: t.meta } : {}),
    });
    sizes.obs += t.obs.length;
    sizes.actions += t.actions.length;
    sizes.rewards += t.length;
    sizes.poses += t.poses ? t.poses.data.length : 0;
  }
  const obs = new Float32Array(sizes.obs);
  const actions = new Float32Array(sizes.actions);
  const rewards = new Float32Array(sizes.rewards);
  const success = new Uint8Array(sizes.rewards);
  const poses = new Float32Array(sizes.poses);
  const at = { obs: 0, actions: 0, rewards: 0, poses: 0 };
  for (const t of trajectories) {
    obs.set(t.obs, at.obs);
    at.obs += t.obs.length;
    actions.set(t.actions, at.actions);
    at.actions += t.actions.length;
    rewards.set(t.rewards, at.rewards);
    success.set(t.success, at.rewards);
    at.rewards += t.length;
    if (t.poses) {
      poses.set(t.poses.data, at.poses);
      at.poses += t.poses.data.length;
    }
  }
  writeBinFile(path, { kind: KIND, version: VERSION, episodes, geometry, meta }, { obs, actions, rewards, success, poses });
}

export function loadTrajectories(path: string): TrajectoryFile {
  const { header, arrays } = readBinFile(path);
  if (header.kind !== KIND) throw new Error(`${path}: not a trajectory file (kind ${JSON.stringify(header.kind)})`);
  if (header.version !== VERSION) throw new Error(`${path}: trajectory file version ${header.version}, this reader knows ${VERSION}`);
  const episodes = header.episodes as EpisodeHeader[];
  if (!Array.isArray(episodes)) throw new Error(`${path}: header has no episode list`);
  const need = (name: string, ctor: Function) => {
    const a = arrays[name];
    if (!(a instanceof ctor)) throw new Error(`${path}: array "${name}" is missing or has the wrong type`);
    return a;
  };
  const obs = need('obs', Float32Array) as Float32Array;
  const actions = need('actions', Float32Array) as Float32Array;
  const rewards = need('rewards', Float32Array) as Float32Array;
  const success = need('success', Uint8Array) as Uint8Array;
  const poses = need('poses', Float32Array) as Float32Array;
  const at = { obs: 0, actions: 0, rewards: 0, poses: 0 };
  const trajectories: Trajectory[] = episodes.map((e, i) => {
    if (!(Number.isInteger(e.length) && e.length >= 0 && e.obsDim > 0 && e.actDim > 0)) throw new Error(`${path}: episode ${i} has a bad header`);
    const nObs = (e.length + 1) * e.obsDim;
    const nAct = e.length * e.actDim;
    const nPose = e.poseBodies ? (e.length + 1) * e.poseBodies.length * 7 : 0;
    if (at.obs + nObs > obs.length || at.actions + nAct > actions.length || at.rewards + e.length > rewards.length || at.poses + nPose > poses.length) {
      throw new Error(`${path}: episode ${i} runs past the end of the stored arrays`);
    }
    const t: Trajectory = {
      task: e.task,
      seed: e.seed,
      obsDim: e.obsDim,
      actDim: e.actDim,
      length: e.length,
      obs: obs.slice(at.obs, at.obs + nObs),
      actions: actions.slice(at.actions, at.actions + nAct),
      rewards: rewards.slice(at.rewards, at.rewards + e.length),
      success: success.slice(at.rewards, at.rewards + e.length),
      terminated: e.terminated,
      truncated: e.truncated,
      ...(e.meta ? { meta: e.meta } : {}),
    };
    if (e.poseBodies) t.poses = { bodyNames: e.poseBodies, data: poses.slice(at.poses, at.poses + nPose) };
    at.obs += nObs;
    at.actions += nAct;
    at.rewards += e.length;
    at.poses += nPose;
    return t;
  });
  if (at.obs !== obs.length || at.actions !== actions.length || at.rewards !== rewards.length || at.poses !== poses.length) {
    throw new Error(`${path}: stored arrays are longer than the episodes in the header describe`);
  }
  return {
    trajectories,
    geometry: (header.geometry ?? {}) as Record<string, SceneGeometry>,
    meta: (header.meta ?? {}) as Record<string, unknown>,
  };
}
