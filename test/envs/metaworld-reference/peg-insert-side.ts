/**
 * peg-insertion-side-v2 (v2/sawyer_peg_insertion_side_v2.py + objects/assets/peg_block.xml).
 *
 * - in_place: tolerance of the (1, 2, 2)-weighted pegHead-target distance, bounds (0, TARGET_RADIUS
 *   = 0.07), margin from `peg_head_pos_init`. reset_model reads that site *before* it moves the peg
 *   to its sampled place, so it is the head of the peg at the XML's default pose, body (0, 0.6)
 *   resting on the table: (-0.1, 0.6, ~0.0151), the same every episode.
 * - in_place is multiplied (Hamacher) with two rect_prism_tolerance regions in front of the box
 *   face, below and above the hole, whose corners are sites of the box body (rotated 1.57 rad about
 *   z); the 0 corner is "bottom_right", the 1 corner "top_left".
 * - obj_init_pos is the sampled peg body position (z = 0.02, 5 mm above its resting height), not the
 *   observed grasp site; the "lifted" test compares the grasp site's z - 0.01 with it.
 */
import { add, dist, gripperCaging, hamacher, input3, norm, obs3, rectPrism, scale, sub, tol, type V3 } from './common.js';
import type { RefResult, RefStep, ScorerOptions } from './types.js';

export const task = 'peg-insert-side';

const TARGET_RADIUS = 0.07;
const W: V3 = [1, 2, 2];
/** target = box body position + this (reset_model). */
const TARGET_FROM_BOX: V3 = [0.03, 0, 0.13];
const BOX_YAW = 1.57;
/** Local positions of the collision-box corner sites in peg_block.xml. */
const BRC1: V3 = [0.1, -0.11, 0.01];
const TLC1: V3 = [-0.1, -0.15, 0.096];
const BRC2: V3 = [0.1, -0.11, 0.16];
const TLC2: V3 = [-0.1, -0.17, 0.19];
/** Head of the peg at the XML default pose; z is the resting height of a 3 cm peg rotated by 1.57 rad. */
const HEAD_INIT_XY = [-0.1, 0.6];
const HEAD_INIT_Z = 0.0151;
/** Allowed difference of the env's resting height from Meta-World's (a geometry departure, bounded here). */
const HEAD_INIT_Z_TOL = 5e-4;

function boxSite(box: V3, local: V3): V3 {
  const c = Math.cos(BOX_YAW);
  const s = Math.sin(BOX_YAW);
  return add(box, [c * local[0] - s * local[1], s * local[0] + c * local[1], local[2]]);
}

export function makeScorer(_opts?: ScorerOptions): (s: RefStep) => RefResult {
  return (s) => {
    const tcp = input3(s, 'tcp_center');
    const obj = obs3(s, 4);
    const head = input3(s, 'pegHead');
    const target = input3(s, 'target_pos');
    const objInit = input3(s, 'obj_init_pos');
    const headInit = input3(s, 'peg_head_pos_init');
    if (Math.abs(headInit[0] - HEAD_INIT_XY[0]) > 1e-9 || Math.abs(headInit[1] - HEAD_INIT_XY[1]) > 1e-9 || Math.abs(headInit[2] - HEAD_INIT_Z) > HEAD_INIT_Z_TOL) {
      throw new Error(`peg_head_pos_init ${headInit} is not Meta-World's default-pose head (-0.1, 0.6, ${HEAD_INIT_Z} +- ${HEAD_INIT_Z_TOL})`);
    }
    if (objInit[2] !== 0.02) throw new Error(`obj_init_pos z ${objInit[2]}: Meta-World's is the sampled peg body z, 0.02`);
    const tcpOpened = s.obs[3];
    const tcpToObj = dist(obj, tcp);
    const objToTarget = norm(scale(sub(head, target), W));
    const margin = norm(scale(sub(headInit, target), W));
    let inPlace = tol(objToTarget, 0, TARGET_RADIUS, margin);

    const box = sub(target, TARGET_FROM_BOX);
    const below = rectPrism(head, boxSite(box, BRC1), boxSite(box, TLC1));
    const above = rectPrism(head, boxSite(box, BRC2), boxSite(box, TLC2));
    inPlace = hamacher(inPlace, hamacher(above, below));

    let grasped = gripperCaging({
      action: s.action,
      obj,
      objInit,
      tcp,
      initTcp: input3(s, 'init_tcp'),
      leftPad: input3(s, 'leftpad'),
      rightPad: input3(s, 'rightpad'),
      objRadius: 0.0075,
      padSuccessThresh: 0.03,
      objectReachRadius: 0.01,
      xzThresh: 0.005,
      highDensity: true,
    });
    const lifted = tcpToObj < 0.08 && tcpOpened > 0 && obj[2] - 0.01 > objInit[2];
    if (lifted) grasped = 1;
    let reward = hamacher(grasped, inPlace);
    if (lifted) reward += 1 + 5 * inPlace;
    if (objToTarget <= 0.07) reward = 10;
    return { reward, success: objToTarget <= 0.07 };
  };
}
