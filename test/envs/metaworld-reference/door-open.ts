/**
 * door-open-v2 reward and success, from Meta-World's sawyer_door_v2.py (_reward_grab_effort,
 * _reward_pos, compute_reward, evaluate_state). Uses the hand obs[0:3], the handle obs[4:7], the
 * gripper effort action[3], target_pos and the hinge angle doorjoint (negative = open).
 */
import { scalar, vec3, type RefResult, type RefStep, type ScorerOptions } from './types.js';
import { hamacher, norm3, obs3, tol } from './common-articulated.js';

export const task = 'door-open';

export function makeScorer(_opts: ScorerOptions = {}): (s: RefStep) => RefResult {
  return ({ obs, action, inputs }) => {
    const hand = obs3(obs, 0);
    const handle = obs3(obs, 4);
    const theta = scalar(inputs, 'doorjoint');
    const target = vec3(inputs, 'target_pos');
    const grab = (Math.min(Math.max(action[3], -1), 1) + 1) / 2;

    const door = [handle[0] - 0.05, handle[1], handle[2]];
    const threshold = 0.12;
    const radius = Math.hypot(hand[0] - door[0], hand[1] - door[1]);
    const floor = radius <= threshold ? 0 : 0.04 * Math.log(radius - threshold) + 0.4;
    const aboveFloor = hand[2] >= floor ? 1 : tol(floor - hand[2], 0, 0.01, floor / 2, 'long_tail');
    const inPlace = tol(
      norm3([hand[0] - door[0] - 0.05, hand[1] - door[1] - 0.03, hand[2] - door[2] + 0.01]),
      0,
      threshold / 2,
      0.5,
      'long_tail',
    );
    const ready = hamacher(aboveFloor, inPlace);
    const opened = 0.2 * (theta < -Math.PI / 90 ? 1 : 0) + 0.8 * tol(Math.PI / 2 + Math.PI / 6 - -theta, 0, 0.5, Math.PI / 3, 'long_tail');

    const success = Math.abs(obs[4] - target[0]) <= 0.08;
    const reward = success ? 10 : 2 * hamacher(ready, grab) + 8 * opened;
    return { reward, success };
  };
}
