/**
 * pick-place-v2 (v2/sawyer_pick_place_v2.py): its own caging variant with signed pad-object y
 * offsets (left pad minus object, object minus right pad), averaged with the raw caging.
 *
 * The y-caging margins use `self.init_left_pad` / `self.init_right_pad`, which reset_model sets to
 * `get_body_com('leftpad')`: in mujoco-py that returns a row view of `data.xpos` (no copy), which
 * MuJoCo overwrites every step. So the "initial" pads are the live pads, and the margin is
 * | |obj.y - pad.y| - 0.05 | with the pad where it is now. This module reproduces that.
 */
import { dist, distXZ, hamacher, input3, obs3, tol, TARGET_RADIUS, type V3 } from './common.js';
import type { RefResult, RefStep, ScorerOptions } from './types.js';

export const task = 'pick-place';

function objectGrasped(s: RefStep, obj: V3): number {
  const padMargin = 0.05;
  const xzMargin = 0.005;
  const objRadius = 0.015;
  const tcp = input3(s, 'tcp_center');
  const left = input3(s, 'leftpad');
  const right = input3(s, 'rightpad');
  // init pads alias the live pads (see the module comment).
  const initLeft = left;
  const initRight = right;
  const rightMargin = Math.abs(Math.abs(obj[1] - initRight[1]) - padMargin);
  const leftMargin = Math.abs(Math.abs(obj[1] - initLeft[1]) - padMargin);
  const rightCaging = tol(obj[1] - right[1], objRadius, padMargin, rightMargin);
  const leftCaging = tol(left[1] - obj[1], objRadius, padMargin, leftMargin);
  const yCaging = hamacher(leftCaging, rightCaging);
  const objInit = input3(s, 'obj_init_pos');
  const initTcp = input3(s, 'init_tcp');
  const xzCaging = tol(distXZ(tcp, obj), 0, xzMargin, distXZ(objInit, initTcp) - xzMargin);
  const closed = Math.min(Math.max(0, s.action[3]), 1);
  const caging = hamacher(yCaging, xzCaging);
  const gripping = caging > 0.97 ? closed : 0;
  return (hamacher(caging, gripping) + caging) / 2;
}

export function makeScorer(_opts?: ScorerOptions): (s: RefStep) => RefResult {
  return (s) => {
    const obj = obs3(s, 4);
    const tcp = input3(s, 'tcp_center');
    const target = input3(s, 'target_pos');
    const objInit = input3(s, 'obj_init_pos');
    const objToTarget = dist(obj, target);
    const tcpToObj = dist(obj, tcp);
    const inPlace = tol(objToTarget, 0, TARGET_RADIUS, dist(objInit, target));
    const grasped = objectGrasped(s, obj);
    let reward = hamacher(grasped, inPlace);
    if (tcpToObj < 0.02 && s.obs[3] > 0 && obj[2] - 0.01 > objInit[2]) reward += 1 + 5 * inPlace;
    if (objToTarget < TARGET_RADIUS) reward = 10;
    return { reward, success: objToTarget <= 0.07 };
  };
}
