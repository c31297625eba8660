/**
 * drawer-open-v2 reward and success, from Meta-World's sawyer_drawer_open_v2.py. Uses the hand
 * (obs[0:3]) rather than the TCP for the caging term, but init_tcp for its margin, as Meta-World
 * does. Inputs: obs[0:3], obs[4:7] (handle), target_pos, init_tcp.
 */
import { vec3, type RefResult, type RefStep, type ScorerOptions } from './types.js';
import { dist3, norm3, obs3, tol, type Vec } from './common-articulated.js';

export const task = 'drawer-open';
const MAX_DIST = 0.2;

export function makeScorer(_opts: ScorerOptions = {}): (s: RefStep) => RefResult {
  return ({ obs, inputs }) => {
    const gripper = obs3(obs, 0);
    const handle = obs3(obs, 4);
    const target = vec3(inputs, 'target_pos');
    const initTcp = vec3(inputs, 'init_tcp');
    const handleError = dist3(handle, target);
    const opening = tol(handleError, 0, 0.02, MAX_DIST, 'long_tail');
    const handleInit: Vec = [target[0], target[1] + MAX_DIST, target[2]];
    const scale: Vec = [3, 3, 1];
    const err = [0, 1, 2].map((i) => (handle[i] - gripper[i]) * scale[i]);
    const errInit = [0, 1, 2].map((i) => (handleInit[i] - initTcp[i]) * scale[i]);
    const caging = tol(norm3(err), 0, 0.01, norm3(errInit), 'long_tail');
    return { reward: 5 * (caging + opening), success: handleError <= 0.03 };
  };
}
