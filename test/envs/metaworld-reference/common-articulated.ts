/**
 * Reward helpers for the articulated-task reference formulas, written from Meta-World's
 * `metaworld/envs/reward_utils.py` (v2, itself after dm_control's rewards module). Independent of
 * envs/: the fidelity tests compare the env's reward with these, so they must not share code.
 */
export type Vec = [number, number, number];

/** Only the two sigmoids the articulated v2 tasks use. */
export type RefSigmoid = 'long_tail' | 'gaussian';

/**
 * dm_control/Meta-World `tolerance`: 1 on [lo, hi], else sigmoid(distance to the nearer bound /
 * margin) scaled to equal `valueAtMargin` one margin out; margin 0 is a hard 0/1 test. Meta-World
 * raises on lo > hi and on a negative margin, so a negative margin here is a formula bug.
 */
export function tol(x: number, lo: number, hi: number, margin: number, sigmoid: RefSigmoid, valueAtMargin = 0.1): number {
  if (lo > hi) throw new Error(`tol: lower bound ${lo} > upper bound ${hi}`);
  if (!(margin >= 0)) throw new Error(`tol: margin must be non-negative, got ${margin}`);
  const inside = lo <= x && x <= hi;
  if (inside) return 1;
  if (margin === 0) return 0;
  const d = (x < lo ? lo - x : x - hi) / margin;
  if (sigmoid === 'long_tail') {
    const s = Math.sqrt(1 / valueAtMargin - 1);
    return 1 / ((d * s) * (d * s) + 1);
  }
  const s = Math.sqrt(-2 * Math.log(valueAtMargin));
  return Math.exp(-0.5 * (d * s) * (d * s));
}

/** Hamacher t-norm a·b / (a + b − a·b), 0 when both are 0; Meta-World rejects inputs outside [0, 1]. */
export function hamacher(a: number, b: number): number {
  if (!(a >= 0 && a <= 1 && b >= 0 && b <= 1)) throw new Error(`hamacher: inputs must lie in [0, 1], got ${a}, ${b}`);
  const den = a + b - a * b;
  return den > 0 ? (a * b) / den : 0;
}

export function norm3(v: ArrayLike<number>): number {
  return Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

export function diff3(a: ArrayLike<number>, b: ArrayLike<number>): Vec {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function dist3(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return norm3(diff3(a, b));
}

/** obs[i:i+3] as a plain triple. */
export function obs3(obs: ArrayLike<number>, i: number): Vec {
  return [obs[i], obs[i + 1], obs[i + 2]];
}
