/**
 * reach-v2 (metaworld/envs/mujoco/sawyer_xyz/v2/sawyer_reach_v2.py, compute_reward): the TCP's
 * distance to the goal under a long-tail tolerance whose margin is the distance from Meta-World's
 * hand_init_pos (a class constant, not the measured initial TCP) to the goal.
 */
import { dist, input3, tol, TARGET_RADIUS, type V3 } from './common.js';
import type { RefResult, RefStep, ScorerOptions } from './types.js';

export const task = 'reach';

const HAND_INIT_POS: V3 = [0, 0.6, 0.2];

export function makeScorer(_opts?: ScorerOptions): (s: RefStep) => RefResult {
  return (s) => {
    const tcp = input3(s, 'tcp_center');
    const target = input3(s, 'target_pos');
    const tcpToTarget = dist(tcp, target);
    const inPlace = tol(tcpToTarget, 0, TARGET_RADIUS, dist(HAND_INIT_POS, target));
    return { reward: 10 * inPlace, success: tcpToTarget <= 0.05 };
  };
}
