/**
 * peg-insert-side (Meta-World peg-insertion-side-v2): pick up a square peg lying on the table and
 * push it sideways (-x) into the hole of a box.
 * Departures:
 * - Meta-World gives the peg an inertia of 1e5 (it effectively cannot rotate); here its rotations
 *   are locked outright, which is the same thing without the solver strain.
 * - The hole is Meta-World's 6 cm x 6 cm for a 3 cm peg (1.5 cm clearance per side). Tight
 *   clearance (4 mm) insertion failed in the Rapier prototype (rapier-gripper.md) and is not tried.
 * - The observed grasp point is Meta-World's pegGrasp site, 1 cm above the peg axis; obj_init_pos
 *   is the drawn peg body position (z 0.02), so "lifted" means the peg rose ~5 mm, as in Meta-World.
 * - The expert accepts the hand within 3 cm (Meta-World: 2.5 cm) of the grasp point in z: our
 *   fingers stop the hand 1 mm above its 5 cm floor, 2.6 cm above the resting grasp point.
 * - The expert lines up at z = 0.17 instead of 0.16: our pads hang lower below the hand than
 *   Sawyer's, and at 0.16 the held peg sat low enough to flicker across the expert's 3 cm
 *   "lined up" threshold and send the peg back and forth.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { sampleIn } from '../objects.js';
import { gripperCagingReward, hamacherProduct, rectPrismTolerance, tolerance } from '../reward-utils.js';
import { add, dist, distXY, mul, norm, slice3, sub, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

/** Meta-World places the peg body at z 0.02, 5 mm above its resting height, and lets it drop. */
const PEG_LOW: Vec3 = [0, 0.5, 0.02];
const PEG_HIGH: Vec3 = [0.2, 0.7, 0.02];
const BOX_LOW: Vec3 = [-0.35, 0.4, 0];
const BOX_HIGH: Vec3 = [-0.25, 0.7, 0];
const PEG_HALF: Vec3 = [0.12, 0.015, 0.015];
/** Meta-World's sites on the peg body: pegGrasp (the observed object) and pegHead. */
const GRASP_SITE: Vec3 = [0.03, 0, 0.01];
const HEAD_SITE: Vec3 = [-0.1, 0, 0];
/**
 * Where Meta-World reads pegHead for the in-place margin: reset_model reads the site before moving
 * the peg to its drawn place, i.e. on the peg at the XML's default pose, body (0, 0.6) at rest.
 */
const HEAD_INIT: Vec3 = [0 + HEAD_SITE[0], 0.6 + HEAD_SITE[1], PEG_HALF[2] + HEAD_SITE[2]];
const TARGET_OFFSET: Vec3 = [0.03, 0, 0.13];
const W: Vec3 = [1, 2, 2];
const TARGET_RADIUS = 0.07;
/** The box body is rotated 1.57 rad (not pi/2) about z in Meta-World's XML; its reward sites follow it. */
const BOX_YAW = 1.57;
/**
 * Corner sites of the two "collision boxes" in front of the box face, below and above the hole
 * (box-local, before the yaw). rect_prism_tolerance is 0 at the bottom-right corner and 1 at the
 * top-left one.
 */
const BOX1_ZERO: Vec3 = [0.1, -0.11, 0.01];
const BOX1_ONE: Vec3 = [-0.1, -0.15, 0.096];
const BOX2_ZERO: Vec3 = [0.1, -0.11, 0.16];
const BOX2_ONE: Vec3 = [-0.1, -0.17, 0.19];

function boxSite(box: Vec3, local: Vec3): Vec3 {
  const c = Math.cos(BOX_YAW);
  const s = Math.sin(BOX_YAW);
  return [box[0] + c * local[0] - s * local[1], box[1] + s * local[0] + c * local[1], box[2] + local[2]];
}

export class PegInsertSideEnv extends SawyerEnv {
  readonly name = 'peg-insert-side';
  readonly description = 'Pick up a peg and insert it sideways into a hole in a box.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  protected readonly goalLow: Vec3 = add(BOX_LOW, TARGET_OFFSET);
  protected readonly goalHigh: Vec3 = add(BOX_HIGH, TARGET_OFFSET);
  private pegPos: Vec3 = [0, 0.6, 0.015];
  private boxPos: Vec3 = [-0.3, 0.6, 0];
  private peg!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    do {
      this.pegPos = sampleIn(rng, PEG_LOW, PEG_HIGH);
      this.boxPos = sampleIn(rng, BOX_LOW, BOX_HIGH);
    } while (distXY(this.pegPos, this.boxPos) < 0.1);
  }

  protected buildObjects(scene: Scene): void {
    this.peg = scene.addBody('peg', 'dynamic', this.pegPos);
    this.peg.lockRotations(true, false);
    scene.box(this.peg, PEG_HALF, { mass: 0.1, friction: 1, color: '#27ae60' });
    // The head end in a different colour, drawn only.
    scene.box(this.peg, [0.01, 0.0155, 0.0155], { position: [-0.11, 0, 0], color: '#145a32', visualOnly: true });

    // Box with a 6 x 6 cm hole running along x at z 0.10..0.16, |y| < 0.03.
    const box = scene.addBody('peg_box', 'fixed', this.boxPos);
    const c = { color: '#5d6d7e', friction: 0.5 };
    scene.box(box, [0.1, 0.09, 0.05], { ...c, position: [0, 0, 0.05] });
    scene.box(box, [0.1, 0.03, 0.03], { ...c, position: [0, 0.06, 0.13] });
    scene.box(box, [0.1, 0.03, 0.03], { ...c, position: [0, -0.06, 0.13] });
    scene.box(box, [0.1, 0.09, 0.02], { ...c, position: [0, 0, 0.18] });
    scene.addMarker('goal', this.goal(), 0.01);
  }

  /** Meta-World's obj_init_pos is the drawn peg body position (z 0.02), not the observed grasp site. */
  protected onEpisodeStart(): void {
    this.objInit = [...this.pegPos];
  }

  protected extraRewardInputs(): Record<string, number | number[]> {
    return { pegHead: this.head(), peg_head_pos_init: [...HEAD_INIT] };
  }

  private head(): Vec3 {
    const t = this.peg.translation();
    return add([t.x, t.y, t.z], HEAD_SITE);
  }

  protected writeObjects(obs: Float32Array): void {
    const t = this.peg.translation();
    const q = this.peg.rotation();
    obs.set([...add([t.x, t.y, t.z], GRASP_SITE), q.x, q.y, q.z, q.w], 4);
  }

  goal(): Vec3 {
    return add(this.boxPos, TARGET_OFFSET);
  }

  protected evaluate(a: Float32Array): Evaluation {
    const obj = slice3(this.obs, 4);
    const head = this.head();
    const target = this.goal();
    const tcpToObj = dist(this.tcp, obj);
    const objToTarget = norm(mul(sub(head, target), W));
    let inPlace = tolerance(objToTarget, [0, TARGET_RADIUS], norm(mul(sub(HEAD_INIT, target), W)), 'long_tail');
    // Regions just outside the box face, below and above the hole (Meta-World's collision boxes).
    const b = this.boxPos;
    const below = rectPrismTolerance(head, boxSite(b, BOX1_ZERO), boxSite(b, BOX1_ONE));
    const above = rectPrismTolerance(head, boxSite(b, BOX2_ZERO), boxSite(b, BOX2_ONE));
    inPlace = hamacherProduct(inPlace, hamacherProduct(above, below));
    const lifted = tcpToObj < 0.08 && this.obs[3] > 0 && obj[2] - 0.01 > this.objInit[2];
    let grasp = gripperCagingReward(
      { action: a, obj, objInit: this.objInit, tcp: this.tcp, initTcp: this.initTcp, leftPad: this.leftPad, rightPad: this.rightPad },
      { objRadius: 0.0075, padSuccessThresh: 0.03, objectReachRadius: 0.01, xzThresh: 0.005, highDensity: true },
    );
    if (lifted) grasp = 1;
    let reward = hamacherProduct(grasp, inPlace);
    if (lifted) reward += 1 + 5 * inPlace;
    const success = objToTarget <= TARGET_RADIUS;
    if (success) reward = 10;
    return {
      reward,
      info: makeInfo(reward, success, {
        near_object: tcpToObj,
        grasp_success: tcpToObj < 0.02 && this.obs[3] > 0 && obj[2] - 0.01 > this.objInit[2] ? 1 : 0,
        grasp_reward: grasp,
        in_place_reward: inPlace,
        obj_to_target: objToTarget,
      }),
    };
  }
}

/** Meta-World's peg-insert-side expert (gain 25): grasp, line up in front of the hole, slide in. */
export function pegInsertSidePolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const hole: Vec3 = [-0.35, o.goal[1], 0.17];
  const xyErr = distXY(o.hand, o.obj);
  const zErr = Math.abs(o.hand[2] - o.obj[2]);
  let to: Vec3;
  if (xyErr > 0.04) to = [o.obj[0], o.obj[1], o.obj[2] + 0.3];
  else if (zErr > 0.03) to = o.obj;
  else if (Math.hypot(o.obj[1] - hole[1], o.obj[2] - hole[2]) > 0.03) to = [hole[0] + 0.4, hole[1], hole[2]];
  else to = hole;
  const grab = xyErr > 0.04 || zErr > 0.15 ? -1 : 0.6;
  return action(move(o.hand, to, 25), grab);
}
