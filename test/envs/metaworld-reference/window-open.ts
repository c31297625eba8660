/**
 * window-open-v2 reward and success, from Meta-World's sawyer_window_open_v2.py. Inputs: obs[4:7]
 * (site handleOpenStart), tcp_center, init_tcp, target_pos (window + 0.2 in x), obj_init_pos (the
 * window body position, not the handle) and window_handle_pos_init (the handle site at reset).
 */
import { vec3, type RefResult, type RefStep, type ScorerOptions } from './types.js';
import { dist3, hamacher, obs3, tol } from './common-articulated.js';

export const task = 'window-open';
const TARGET_RADIUS = 0.05;
const HANDLE_RADIUS = 0.02;

export function makeScorer(_opts: ScorerOptions = {}): (s: RefStep) => RefResult {
  return ({ obs, inputs }) => {
    const obj = obs3(obs, 4);
    const target = vec3(inputs, 'target_pos');
    const gap = Math.abs(obj[0] - target[0]);
    const gapInit = Math.abs(vec3(inputs, 'obj_init_pos')[0] - target[0]);
    const inPlace = tol(gap, 0, TARGET_RADIUS, Math.abs(gapInit - TARGET_RADIUS), 'long_tail');
    const tcpToObj = dist3(obj, vec3(inputs, 'tcp_center'));
    const tcpToObjInit = dist3(vec3(inputs, 'window_handle_pos_init'), vec3(inputs, 'init_tcp'));
    const reach = tol(tcpToObj, 0, HANDLE_RADIUS, Math.abs(tcpToObjInit - HANDLE_RADIUS), 'long_tail');
    return { reward: 10 * hamacher(reach, inPlace), success: gap <= TARGET_RADIUS };
  };
}
