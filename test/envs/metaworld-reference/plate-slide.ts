/**
 * plate-slide-v2 reward and success, from Meta-World's sawyer_plate_slide_v2.py. Inputs: obs[4:7]
 * (plate geom), tcp_center, init_tcp, target_pos, obj_init_pos (Meta-World's rand_vec[:3], the
 * plate channel's table-level position (0, 0.6, 0), not the plate centre 1.5 cm above it).
 */
import { vec3, type RefResult, type RefStep, type ScorerOptions } from './types.js';
import { dist3, hamacher, obs3, tol } from './common-articulated.js';

export const task = 'plate-slide';
const TARGET_RADIUS = 0.05;

export function makeScorer(_opts: ScorerOptions = {}): (s: RefStep) => RefResult {
  return ({ obs, inputs }) => {
    const obj = obs3(obs, 4);
    const target = vec3(inputs, 'target_pos');
    const objInit = vec3(inputs, 'obj_init_pos');
    const toTarget = dist3(obj, target);
    const inPlace = tol(toTarget, 0, TARGET_RADIUS, dist3(objInit, target), 'long_tail');
    const tcpToObj = dist3(vec3(inputs, 'tcp_center'), obj);
    const grasped = tol(tcpToObj, 0, TARGET_RADIUS, dist3(vec3(inputs, 'init_tcp'), objInit), 'long_tail');
    let reward = 8 * hamacher(grasped, inPlace);
    if (toTarget < TARGET_RADIUS) reward = 10;
    return { reward, success: toTarget <= 0.07 };
  };
}
