/**
 * Meta-World's reward helpers, re-written from its v2 source (metaworld/envs/reward_utils.py and
 * SawyerXYZEnv._gripper_caging_reward at commit a0009ed9) for the fidelity tests. Nothing here
 * imports envs/: the point is a second, independent reading of the reference.
 */
import { vec3, type RefStep } from './types.js';

export type V3 = [number, number, number];

export const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const add = (a: V3, b: V3): V3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const scale = (a: V3, w: V3): V3 => [a[0] * w[0], a[1] * w[1], a[2] * w[2]];
export const norm = (a: V3): number => Math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
export const dist = (a: V3, b: V3): number => norm(sub(a, b));
/** Distance over x and y only (Meta-World's `[:2]` slices). */
export const distXY = (a: V3, b: V3): number => Math.hypot(a[0] - b[0], a[1] - b[1]);
/** Distance over x and z only (the caging reward's `[0, 2]` slices). */
export const distXZ = (a: V3, b: V3): number => Math.hypot(a[0] - b[0], a[2] - b[2]);

/** obs[i:i+3] as float64 (the env's float32 values, exactly). */
export function obs3(s: RefStep, i: number): V3 {
  return [s.obs[i], s.obs[i + 1], s.obs[i + 2]];
}

export const input3 = (s: RefStep, name: string): V3 => vec3(s.inputs, name);

export type SigmoidKind = 'gaussian' | 'long_tail' | 'hyperbolic' | 'reciprocal' | 'cosine' | 'linear' | 'quadratic' | 'tanh_squared';

/** dm_control's sigmoids as Meta-World copied them: 1 at x = 0, `v` at x = 1. */
export function sigmoids(x: number, v: number, kind: SigmoidKind): number {
  const zeroAllowed = kind === 'cosine' || kind === 'linear' || kind === 'quadratic';
  if (zeroAllowed ? !(v >= 0 && v < 1) : !(v > 0 && v < 1)) throw new Error(`sigmoids: value_at_1 ${v} out of range for ${kind}`);
  switch (kind) {
    case 'gaussian':
      return Math.exp(-0.5 * (x * Math.sqrt(-2 * Math.log(v))) ** 2);
    case 'hyperbolic':
      return 1 / Math.cosh(x * Math.acosh(1 / v));
    case 'long_tail':
      return 1 / ((x * Math.sqrt(1 / v - 1)) ** 2 + 1);
    case 'reciprocal':
      return 1 / (Math.abs(x) * (1 / v - 1) + 1);
    case 'cosine': {
      const y = (x * Math.acos(2 * v - 1)) / Math.PI;
      return Math.abs(y) < 1 ? (1 + Math.cos(Math.PI * y)) / 2 : 0;
    }
    case 'linear': {
      const y = x * (1 - v);
      return Math.abs(y) < 1 ? 1 - y : 0;
    }
    case 'quadratic': {
      const y = x * Math.sqrt(1 - v);
      return Math.abs(y) < 1 ? 1 - y * y : 0;
    }
    case 'tanh_squared':
      return 1 - Math.tanh(x * Math.atanh(Math.sqrt(1 - v))) ** 2;
  }
}

/** reward_utils.tolerance; throws where Meta-World raises (reversed bounds, negative margin). */
export function tol(x: number, lo: number, hi: number, margin: number, kind: SigmoidKind = 'long_tail', valueAtMargin = 0.1): number {
  if (lo > hi) throw new Error(`tolerance: bounds (${lo}, ${hi}) reversed`);
  if (margin < 0) throw new Error(`tolerance: negative margin ${margin}`);
  const inside = lo <= x && x <= hi;
  if (inside) return 1;
  if (margin === 0) return 0;
  const d = (x < lo ? lo - x : x - hi) / margin;
  return sigmoids(d, valueAtMargin, kind);
}

/** reward_utils.hamacher_product; Meta-World raises outside [0, 1]. */
export function hamacher(a: number, b: number): number {
  if (!(a >= 0 && a <= 1 && b >= 0 && b <= 1)) throw new Error(`hamacher_product: ${a}, ${b} outside [0, 1]`);
  const den = a + b - a * b;
  return den > 0 ? (a * b) / den : 0;
}

/**
 * reward_utils.rect_prism_tolerance: inside the box spanned by corners `zero` and `one`, the product
 * of the per-axis fractions (curr - zero) / (one - zero), so 0 at `zero` and 1 at `one`; 1 outside.
 */
export function rectPrism(curr: V3, zero: V3, one: V3): number {
  for (let i = 0; i < 3; i++) {
    const b = zero[i];
    const c = one[i];
    const inRange = c >= b ? b <= curr[i] && curr[i] <= c : c <= curr[i] && curr[i] <= b;
    if (!inRange) return 1;
  }
  return ((curr[0] - zero[0]) / (one[0] - zero[0])) * ((curr[1] - zero[1]) / (one[1] - zero[1])) * ((curr[2] - zero[2]) / (one[2] - zero[2]));
}

export interface CagingArgs {
  action: ArrayLike<number>;
  obj: V3;
  objInit: V3;
  tcp: V3;
  initTcp: V3;
  leftPad: V3;
  rightPad: V3;
  objRadius: number;
  padSuccessThresh: number;
  objectReachRadius: number;
  xzThresh: number;
  desiredGripperEffort?: number;
  highDensity?: boolean;
  mediumDensity?: boolean;
}

/** SawyerXYZEnv._gripper_caging_reward (the shared one; pick-place and sweep-into override it). */
export function gripperCaging(c: CagingArgs): number {
  if (c.highDensity && c.mediumDensity) throw new Error('caging: high_density and medium_density together');
  const effort = c.desiredGripperEffort ?? 1;
  const padsY = [c.leftPad[1], c.rightPad[1]];
  const cagingLR = padsY.map((py) => {
    const x = Math.abs(py - c.obj[1]);
    const margin = Math.abs(Math.abs(py - c.objInit[1]) - c.padSuccessThresh);
    return tol(x, c.objRadius, c.padSuccessThresh, margin);
  });
  const cagingY = hamacher(cagingLR[0], cagingLR[1]);
  const xzMargin = distXZ(c.objInit, c.initTcp) - c.xzThresh;
  const cagingXZ = tol(distXZ(c.tcp, c.obj), 0, c.xzThresh, xzMargin);
  const closed = Math.min(Math.max(0, c.action[3]), effort) / effort;
  const caging = hamacher(cagingY, cagingXZ);
  const gripping = caging > 0.97 ? closed : 0;
  let out = hamacher(caging, gripping);
  if (c.highDensity) out = (out + caging) / 2;
  if (c.mediumDensity) {
    const reachMargin = Math.abs(dist(c.objInit, c.initTcp) - c.objectReachRadius);
    const reach = tol(dist(c.obj, c.tcp), 0, c.objectReachRadius, reachMargin);
    out = (out + reach) / 2;
  }
  return out;
}

/** Meta-World's TARGET_RADIUS class constant. */
export const TARGET_RADIUS = 0.05;
