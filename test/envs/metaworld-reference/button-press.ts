/**
 * button-press-v2 reward and success, from Meta-World's sawyer_button_press_v2.py (compute_reward,
 * evaluate_state). Inputs: obs[3] (gripper opening), obs[4:7] (button face), tcp_center, init_tcp,
 * target_pos (the "hole" site) and obj_to_target_init (|hole.y - buttonStart.y| at reset).
 */
import { scalar, vec3, type RefResult, type RefStep, type ScorerOptions } from './types.js';
import { dist3, hamacher, obs3, tol } from './common-articulated.js';

export const task = 'button-press';

export function makeScorer(_opts: ScorerOptions = {}): (s: RefStep) => RefResult {
  return ({ obs, inputs }) => {
    const obj = obs3(obs, 4);
    const tcp = vec3(inputs, 'tcp_center');
    const target = vec3(inputs, 'target_pos');
    const tcpToObj = dist3(obj, tcp);
    // Meta-World's "init" margin uses the current button position against the reset TCP.
    const tcpToObjInit = dist3(obj, vec3(inputs, 'init_tcp'));
    const objToTarget = Math.abs(target[1] - obj[1]);
    const near = tol(tcpToObj, 0, 0.05, tcpToObjInit, 'long_tail');
    const pressed = tol(objToTarget, 0, 0.005, scalar(inputs, 'obj_to_target_init'), 'long_tail');
    // Here the gripper term is the opening itself (named tcp_closed in Meta-World's code).
    let reward = 2 * hamacher(Math.max(obs[3], 0), near);
    if (tcpToObj <= 0.05) reward += 8 * pressed;
    return { reward, success: objToTarget <= 0.02 };
  };
}
