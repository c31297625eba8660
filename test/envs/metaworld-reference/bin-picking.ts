/**
 * bin-picking-v2 (v2/sawyer_bin_picking_v2.py): shared caging (effort 0.7, high density) times the
 * in-place term, whose margin is the cube-target distance at the first step (it is cached on the
 * first compute_reward call). A grasp bonus 1 + 5 hamacher(above_floor, in_place) applies when the
 * cube is within 4 cm of the hand origin (obs[0:3], not the TCP), lifted 2 cm above obj_init_pos
 * and the gripper not pinched shut (obs[3] >= 0.43). The "floor" is a pair of log funnels around
 * the cube's initial xy and the target's xy that keeps the hand above the bin walls.
 */
import { dist, distXY, gripperCaging, hamacher, input3, obs3, tol, TARGET_RADIUS, type V3 } from './common.js';
import type { RefResult, RefStep, ScorerOptions } from './types.js';

export const task = 'bin-picking';

/** `_target_pos = get_body_com('bin_goal')`: the goal bin's body position from the XML (a fixed body). */
const BIN_GOAL: V3 = [0.12, 0.7, 0];

export function makeScorer(_opts?: ScorerOptions): (s: RefStep) => RefResult {
  let targetToObjInit: number | null = null;
  return (s) => {
    const hand = obs3(s, 0);
    const obj = obs3(s, 4);
    const objInit = input3(s, 'obj_init_pos');
    const target = BIN_GOAL;
    const targetToObj = dist(obj, target);
    if (targetToObjInit === null) targetToObjInit = targetToObj;
    const inPlace = tol(targetToObj, 0, TARGET_RADIUS, targetToObjInit);

    const threshold = 0.03;
    const floor = Math.min(
      ...[distXY(hand, objInit), distXY(hand, target)].map((r) => (r > threshold ? 0.02 * Math.log(r - threshold) + 0.2 : 0)),
    );
    const aboveFloor = hand[2] >= floor ? 1 : tol(Math.max(floor - hand[2], 0), 0, 0.01, 0.05);

    const grasped = gripperCaging({
      action: s.action,
      obj,
      objInit,
      tcp: input3(s, 'tcp_center'),
      initTcp: input3(s, 'init_tcp'),
      leftPad: input3(s, 'leftpad'),
      rightPad: input3(s, 'rightpad'),
      objRadius: 0.015,
      padSuccessThresh: 0.05,
      objectReachRadius: 0.01,
      xzThresh: 0.01,
      desiredGripperEffort: 0.7,
      highDensity: true,
    });
    let reward = hamacher(grasped, inPlace);
    const nearObject = dist(obj, hand) < 0.04;
    const pinchedWithoutObj = s.obs[3] < 0.43;
    const lifted = obj[2] - 0.02 > objInit[2];
    if (nearObject && lifted && !pinchedWithoutObj) reward += 1 + 5 * hamacher(aboveFloor, inPlace);
    if (targetToObj < TARGET_RADIUS) reward = 10;
    return { reward, success: targetToObj <= 0.05 };
  };
}
