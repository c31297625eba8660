/**
 * push-v2 (v2/sawyer_push_v2.py, compute_reward): 2 x the shared caging reward (high density);
 * with the TCP within 2 cm of the puck and the gripper reading open (> 0) the reward becomes
 * 1 + 2 x caging + 2 x caging + 5 x in_place (Meta-World adds `1 + reward + 5 in_place` to reward);
 * 10 once the puck is within TARGET_RADIUS of the goal.
 */
import { dist, gripperCaging, input3, obs3, tol, TARGET_RADIUS } from './common.js';
import type { RefResult, RefStep, ScorerOptions } from './types.js';

export const task = 'push';

export function makeScorer(_opts?: ScorerOptions): (s: RefStep) => RefResult {
  return (s) => {
    const obj = obs3(s, 4);
    const tcp = input3(s, 'tcp_center');
    const target = input3(s, 'target_pos');
    const objInit = input3(s, 'obj_init_pos');
    const tcpOpened = s.obs[3];
    const tcpToObj = dist(obj, tcp);
    const targetToObj = dist(obj, target);
    const inPlace = tol(targetToObj, 0, TARGET_RADIUS, dist(objInit, target));
    const grasped = gripperCaging({
      action: s.action,
      obj,
      objInit,
      tcp,
      initTcp: input3(s, 'init_tcp'),
      leftPad: input3(s, 'leftpad'),
      rightPad: input3(s, 'rightpad'),
      objRadius: 0.015,
      padSuccessThresh: 0.05,
      objectReachRadius: 0.01,
      xzThresh: 0.005,
      highDensity: true,
    });
    let reward = 2 * grasped;
    if (tcpToObj < 0.02 && tcpOpened > 0) reward += 1 + reward + 5 * inPlace;
    if (targetToObj < TARGET_RADIUS) reward = 10;
    return { reward, success: targetToObj <= TARGET_RADIUS };
  };
}
