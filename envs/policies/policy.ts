/**
 * Conventions shared by the scripted experts (after Meta-World's policies/policy.py): each expert is
 * a stateless waypoint machine over the goal-observable 39-dim observation, returning a 4-dim action
 * that the env clips to [-1, 1]. Envs hide the goal by default; `scriptedPolicy(task, env)`
 * (registry.ts) then fills the expert's copy of obs[36:39] from the env, so experts keep reading
 * `goal` here.
 */
import type { Vec3 } from '../vec.js';

export type Policy = (obs: Float32Array) => Float32Array;

export interface ParsedObs {
  hand: Vec3;
  gripper: number;
  obj: Vec3;
  objQuat: [number, number, number, number];
  obj2: Vec3;
  goal: Vec3;
}

export function parseObs(o: Float32Array): ParsedObs {
  return {
    hand: [o[0], o[1], o[2]],
    gripper: o[3],
    obj: [o[4], o[5], o[6]],
    objQuat: [o[7], o[8], o[9], o[10]],
    obj2: [o[11], o[12], o[13]],
    goal: [o[36], o[37], o[38]],
  };
}

/** Proportional move of the hand toward `to` with gain p (Meta-World's `move`). */
export function move(from: Vec3, to: Vec3, p: number): Vec3 {
  return [p * (to[0] - from[0]), p * (to[1] - from[1]), p * (to[2] - from[2])];
}

export function action(delta: Vec3, grab: number): Float32Array {
  const a = new Float32Array(4);
  for (let i = 0; i < 3; i++) a[i] = Math.max(-1, Math.min(1, delta[i]));
  a[3] = Math.max(-1, Math.min(1, grab));
  return a;
}
