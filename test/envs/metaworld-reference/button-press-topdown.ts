/**
 * button-press-topdown-v2 reward and success, from Meta-World's sawyer_button_press_topdown_v2.py
 * (v3's sawyer_button_press_topdown_v3.py differs only in the success band: 0.024 instead of 0.02).
 * Inputs: obs[3], obs[4:7] (cap top), tcp_center, init_tcp, target_pos ("hole" site),
 * obj_to_target_init (|hole.z - buttonStart.z| at reset).
 */
import { scalar, vec3, type RefResult, type RefStep, type ScorerOptions } from './types.js';
import { dist3, hamacher, obs3, tol } from './common-articulated.js';

export const task = 'button-press-topdown';

export function makeScorer(opts: ScorerOptions = {}): (s: RefStep) => RefResult {
  const band = (opts.version ?? 'v2') === 'v3' ? 0.024 : 0.02;
  return ({ obs, inputs }) => {
    const obj = obs3(obs, 4);
    const tcp = vec3(inputs, 'tcp_center');
    const target = vec3(inputs, 'target_pos');
    const tcpToObj = dist3(obj, tcp);
    const tcpToObjInit = dist3(obj, vec3(inputs, 'init_tcp'));
    const objToTarget = Math.abs(target[2] - obj[2]);
    const near = tol(tcpToObj, 0, 0.01, tcpToObjInit, 'long_tail');
    const pressed = tol(objToTarget, 0, 0.005, scalar(inputs, 'obj_to_target_init'), 'long_tail');
    let reward = 5 * hamacher(1 - obs[3], near);
    if (tcpToObj <= 0.03) reward += 5 * pressed;
    return { reward, success: objToTarget <= band };
  };
}
