/**
 * window-close-v2 reward and success, from Meta-World's sawyer_window_close_v2.py: as window-open,
 * but the target is the window position itself, the in-place margin comes from
 * window_handle_pos_init (handleCloseStart at slide 0, plus 0.2 in x: the handle of the open sash)
 * and the reach term is gaussian.
 */
import { vec3, type RefResult, type RefStep, type ScorerOptions } from './types.js';
import { dist3, hamacher, obs3, tol } from './common-articulated.js';

export const task = 'window-close';
const TARGET_RADIUS = 0.05;
const HANDLE_RADIUS = 0.02;

export function makeScorer(_opts: ScorerOptions = {}): (s: RefStep) => RefResult {
  return ({ obs, inputs }) => {
    const obj = obs3(obs, 4);
    const target = vec3(inputs, 'target_pos');
    const handleInit = vec3(inputs, 'window_handle_pos_init');
    const gap = Math.abs(obj[0] - target[0]);
    const gapInit = Math.abs(handleInit[0] - target[0]);
    const inPlace = tol(gap, 0, TARGET_RADIUS, Math.abs(gapInit - TARGET_RADIUS), 'long_tail');
    const tcpToObj = dist3(obj, vec3(inputs, 'tcp_center'));
    const tcpToObjInit = dist3(handleInit, vec3(inputs, 'init_tcp'));
    const reach = tol(tcpToObj, 0, HANDLE_RADIUS, Math.abs(tcpToObjInit - HANDLE_RADIUS), 'gaussian');
    return { reward: 10 * hamacher(reach, inPlace), success: gap <= TARGET_RADIUS };
  };
}
