/**
 * sweep-into-v2 (v2/sawyer_sweep_into_goal_v2.py): its own caging variant. Pad offsets are signed
 * (left pad minus cube, cube minus right pad; a pad on the wrong side of the cube is negative and
 * falls below the obj_radius bound). The margins use `init_left_pad` / `init_right_pad`, which only
 * SawyerXYZEnv.__init__ sets, to `get_body_com(...)`: mujoco-py returns a view of `data.xpos`, so
 * they are the live pads. The distance to the target ignores z (target z = the cube's z).
 */
import { dist, distXZ, hamacher, input3, obs3, tol, type V3 } from './common.js';
import type { RefResult, RefStep, ScorerOptions } from './types.js';

export const task = 'sweep-into';

const OBJ_RADIUS = 0.02;

function objectGrasped(s: RefStep, obj: V3): number {
  const padMargin = 0.05;
  const gripMargin = OBJ_RADIUS + 0.005;
  const xzMargin = 0.01;
  const tcp = input3(s, 'tcp_center');
  const left = input3(s, 'leftpad');
  const right = input3(s, 'rightpad');
  const dLeft = left[1] - obj[1];
  const dRight = obj[1] - right[1];
  // The "initial" pads alias the live ones (module comment).
  const rightMarginY = Math.abs(Math.abs(obj[1] - right[1]) - padMargin);
  const leftMarginY = Math.abs(Math.abs(obj[1] - left[1]) - padMargin);
  const rightCaging = tol(dRight, OBJ_RADIUS, padMargin, rightMarginY);
  const leftCaging = tol(dLeft, OBJ_RADIUS, padMargin, leftMarginY);
  const rightGripping = tol(dRight, OBJ_RADIUS, gripMargin, rightMarginY);
  const leftGripping = tol(dLeft, OBJ_RADIUS, gripMargin, leftMarginY);
  const yCaging = hamacher(rightCaging, leftCaging);
  const yGripping = hamacher(rightGripping, leftGripping);
  const objInit = input3(s, 'obj_init_pos');
  const initTcp = input3(s, 'init_tcp');
  const xzCaging = tol(distXZ(tcp, obj), 0, xzMargin, distXZ(objInit, initTcp) - xzMargin);
  const caging = hamacher(yCaging, xzCaging);
  const gripping = caging > 0.95 ? yGripping : 0;
  return (caging + gripping) / 2;
}

export function makeScorer(_opts?: ScorerOptions): (s: RefStep) => RefResult {
  return (s) => {
    const obj = obs3(s, 4);
    const goal = input3(s, 'target_pos');
    const target: V3 = [goal[0], goal[1], obj[2]];
    const objInit = input3(s, 'obj_init_pos');
    const objToTarget = dist(obj, target);
    const inPlace = tol(objToTarget, 0, 0.05, dist(objInit, target));
    const grasped = objectGrasped(s, obj);
    let reward = 2 * grasped + 6 * hamacher(grasped, inPlace);
    if (objToTarget < 0.05) reward = 10;
    return { reward, success: objToTarget <= 0.05 };
  };
}
