/**
 * drawer-close-v2 reward and success, from Meta-World's sawyer_drawer_close_v2.py (TARGET_RADIUS is
 * the base class's 0.05; the class's own _TARGET_RADIUS = 0.04 is never read). Inputs: obs[4:7],
 * action[3], tcp_center, init_tcp, target_pos, obj_init_pos (the observed handle with the drawer
 * pulled open at reset).
 */
import { vec3, type RefResult, type RefStep, type ScorerOptions } from './types.js';
import { dist3, hamacher, obs3, tol } from './common-articulated.js';

export const task = 'drawer-close';
const TARGET_RADIUS = 0.05;
const HANDLE_REACH_RADIUS = 0.005;

export function makeScorer(_opts: ScorerOptions = {}): (s: RefStep) => RefResult {
  return ({ obs, action, inputs }) => {
    const obj = obs3(obs, 4);
    const target = vec3(inputs, 'target_pos');
    const objInit = vec3(inputs, 'obj_init_pos');
    const toTarget = dist3(obj, target);
    const toTargetInit = dist3(objInit, target);
    const inPlace = tol(toTarget, 0, TARGET_RADIUS, Math.abs(toTargetInit - TARGET_RADIUS), 'long_tail');
    const tcpToObj = dist3(obj, vec3(inputs, 'tcp_center'));
    const tcpToObjInit = dist3(objInit, vec3(inputs, 'init_tcp'));
    let reach = tol(tcpToObj, 0, HANDLE_REACH_RADIUS, Math.abs(tcpToObjInit - HANDLE_REACH_RADIUS), 'gaussian');
    reach = hamacher(reach, Math.min(Math.max(0, action[3]), 1));
    const success = toTarget <= TARGET_RADIUS + 0.015;
    const reward = 10 * (success ? 1 : hamacher(reach, inPlace));
    return { reward, success };
  };
}
