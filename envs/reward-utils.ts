/**
 * Meta-World's shaped-reward helpers (dm_control's `tolerance` family, the Hamacher t-norm, and the
 * gripper caging reward), written once here and shared by every task.
 */
import { dist, distXZ, type Vec3 } from './vec.js';

export type Sigmoid = 'gaussian' | 'long_tail' | 'hyperbolic' | 'reciprocal' | 'cosine' | 'linear' | 'quadratic' | 'tanh_squared';

function sigmoid(d: number, valueAt1: number, kind: Sigmoid): number {
  switch (kind) {
    case 'gaussian': {
      const s = Math.sqrt(-2 * Math.log(valueAt1));
      return Math.exp(-0.5 * (d * s) ** 2);
    }
    case 'long_tail': {
      const s = Math.sqrt(1 / valueAt1 - 1);
      return 1 / ((d * s) ** 2 + 1);
    }
    case 'hyperbolic': {
      const s = Math.acosh(1 / valueAt1);
      return 1 / Math.cosh(d * s);
    }
    case 'reciprocal': {
      const s = 1 / valueAt1 - 1;
      return 1 / (Math.abs(d) * s + 1);
    }
    case 'cosine': {
      const s = Math.acos(2 * valueAt1 - 1) / Math.PI;
      const x = d * s;
      return Math.abs(x) < 1 ? (1 + Math.cos(Math.PI * x)) / 2 : 0;
    }
    case 'linear': {
      const x = d * (1 - valueAt1);
      return Math.abs(x) < 1 ? 1 - x : 0;
    }
    case 'quadratic': {
      const x = d * Math.sqrt(1 - valueAt1);
      return Math.abs(x) < 1 ? 1 - x * x : 0;
    }
    case 'tanh_squared': {
      const s = Math.atanh(Math.sqrt(1 - valueAt1));
      return 1 - Math.tanh(d * s) ** 2;
    }
  }
}

/**
 * 1 inside [lo, hi]; outside, a sigmoid of the distance to the nearer bound in units of `margin`,
 * equal to `valueAtMargin` one margin away. margin 0 makes it a hard indicator.
 */
export function tolerance(
  x: number,
  bounds: [number, number],
  margin = 0,
  kind: Sigmoid = 'gaussian',
  valueAtMargin = 0.1,
): number {
  const [lo, hi] = bounds;
  if (lo > hi) throw new Error(`tolerance: lower bound ${lo} > upper bound ${hi}`);
  if (margin < 0) throw new Error(`tolerance: margin must be >= 0, got ${margin}`);
  if (x >= lo && x <= hi) return 1;
  if (margin === 0) return 0;
  const d = (x < lo ? lo - x : x - hi) / margin;
  return sigmoid(d, valueAtMargin, kind);
}

export function inverseTolerance(x: number, bounds: [number, number], margin = 0, kind: Sigmoid = 'reciprocal'): number {
  const [lo, hi] = bounds;
  if (x >= lo && x <= hi) return 0;
  if (margin === 0) return 1;
  const d = (x < lo ? lo - x : x - hi) / margin;
  return 1 - sigmoid(d, 0, kind);
}

/** Product over axes of the fractional position inside the box spanned by `zero`..`one`; 1 outside it. */
export function rectPrismTolerance(curr: Vec3, zero: Vec3, one: Vec3): number {
  const inside = (i: number) => {
    const a = Math.min(zero[i], one[i]);
    const b = Math.max(zero[i], one[i]);
    return curr[i] >= a && curr[i] <= b;
  };
  if (!(inside(0) && inside(1) && inside(2))) return 1;
  let p = 1;
  for (let i = 0; i < 3; i++) p *= (curr[i] - zero[i]) / (one[i] - zero[i]);
  return p;
}

/** Hamacher t-norm: a soft AND on [0, 1]. */
export function hamacherProduct(a: number, b: number): number {
  if (!(a >= 0 && a <= 1 && b >= 0 && b <= 1)) {
    throw new Error(`hamacherProduct: inputs must be in [0, 1], got ${a} and ${b}`);
  }
  const den = a + b - a * b;
  return den > 0 ? (a * b) / den : 0;
}

/** What the caging reward needs from the env at the current step and at reset. */
export interface CagingState {
  action: ArrayLike<number>;
  obj: Vec3;
  objInit: Vec3;
  tcp: Vec3;
  initTcp: Vec3;
  leftPad: Vec3;
  rightPad: Vec3;
}

export interface CagingParams {
  objRadius: number;
  padSuccessThresh: number;
  objectReachRadius: number;
  xzThresh: number;
  desiredGripperEffort?: number;
  highDensity?: boolean;
  mediumDensity?: boolean;
}

/** Meta-World's `_gripper_caging_reward` (section 2.3 of the reference). */
export function gripperCagingReward(s: CagingState, p: CagingParams): number {
  if (p.highDensity && p.mediumDensity) throw new Error('gripperCagingReward: highDensity and mediumDensity are exclusive');
  const effort = p.desiredGripperEffort ?? 1;
  const pads = [s.leftPad, s.rightPad];
  const cagingY: number[] = [];
  for (const pad of pads) {
    const x = Math.abs(pad[1] - s.obj[1]);
    const m = Math.abs(Math.abs(pad[1] - s.objInit[1]) - p.padSuccessThresh);
    cagingY.push(tolerance(x, [p.objRadius, p.padSuccessThresh], m, 'long_tail'));
  }
  const yCaging = hamacherProduct(cagingY[0], cagingY[1]);

  const xzMargin = distXZ(s.objInit, s.initTcp) - p.xzThresh;
  const xzCaging = tolerance(distXZ(s.tcp, s.obj), [0, p.xzThresh], Math.max(xzMargin, 0), 'long_tail');

  const closed = Math.min(Math.max(0, s.action[3]), effort) / effort;
  const caging = hamacherProduct(yCaging, xzCaging);
  const gripping = caging > 0.97 ? closed : 0;
  let result = hamacherProduct(caging, gripping);
  if (p.highDensity) result = (result + caging) / 2;
  if (p.mediumDensity) {
    const reachMargin = Math.abs(dist(s.objInit, s.initTcp) - p.objectReachRadius);
    const reach = tolerance(dist(s.obj, s.tcp), [0, p.objectReachRadius], reachMargin, 'long_tail');
    result = (result + reach) / 2;
  }
  return result;
}
