/**
 * Shared shape of the independent Meta-World reward formulas used by the fidelity tests.
 *
 * Each task has its own module `./<task>.ts` written from Meta-World's v2 source (not from envs/):
 *
 *   export const task = '<task name>';
 *   export function makeScorer(opts?: ScorerOptions): (s: RefStep) => RefResult;
 *
 * `makeScorer` is called once per episode, so formulas that keep state across steps (margins taken
 * at the first step, Meta-World's init-pad aliasing, ...) keep it in the closure.
 */
export interface RefStep {
  /** Observation after the step (39 floats, as the env returned it). */
  obs: Float32Array;
  /** The action as the env applied it (clipped to [-1, 1]). */
  action: Float32Array;
  /** `env.rewardInputs()` read right after the step: Meta-World's names (tcp_center, leftpad, ...). */
  inputs: Record<string, number | number[]>;
  /** Steps taken in the episode, 1 for the first step. */
  t: number;
}

export interface RefResult {
  reward: number;
  success: boolean;
}

export interface ScorerOptions {
  /** Meta-World reference version the env was built for (default 'v2'). */
  version?: 'v2' | 'v3';
}

export type MakeScorer = (opts?: ScorerOptions) => (s: RefStep) => RefResult;

/** Reads a 3-vector input by name; a missing name is a test bug and throws. */
export function vec3(inputs: RefStep['inputs'], name: string): [number, number, number] {
  const v = inputs[name];
  if (!Array.isArray(v) || v.length !== 3) throw new Error(`rewardInputs has no 3-vector "${name}"`);
  return [v[0], v[1], v[2]];
}

/** Reads a scalar input by name. */
export function scalar(inputs: RefStep['inputs'], name: string): number {
  const v = inputs[name];
  if (typeof v !== 'number') throw new Error(`rewardInputs has no number "${name}"`);
  return v;
}
