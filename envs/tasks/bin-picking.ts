/**
 * bin-picking (Meta-World bin-picking-v2): pick a cube out of one bin and drop it into the other.
 * The bins are fixed bodies (floor and four 6 cm walls each), as in Meta-World's XML.
 * Departures:
 * - Meta-World draws the cube's x in [-0.21, -0.03], which reaches into the start bin's walls
 *   (inner faces at -0.21 and -0.03 for a 4 cm cube); MuJoCo then pushes the cube out to
 *   [-0.19, -0.05] while obj_init_pos keeps the drawn value. Here the same range is drawn and
 *   recorded as obj_init_pos, and the cube is placed where MuJoCo's push-out leaves it.
 * - The expert accepts the hand within 1.5 cm (not 1 cm) of its grasp height: that height (cube + 3
 *   cm) lies 1 cm under the hand's floor (hand_low z = 0.07), so 1 cm could only just be met. In
 *   Meta-World the unreachable test made the expert wait at the floor while the fingers closed;
 *   here it waits for the fingers explicitly, until the gripper reads <= 0.55 (closed on the cube:
 *   ~0.48; lifting earlier lets the hand rise before the grip holds).
 * - Our fingers are 7 cm wide in x (Meta-World's pads: 3 cm), so the expert grasps a cube next to a
 *   bin wall off-centre: its grasp x is clamped to keep the fingers inside the bin, as Meta-World's
 *   expert clamps the grasp y.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { sampleIn } from '../objects.js';
import { gripperCagingReward, hamacherProduct, tolerance } from '../reward-utils.js';
import { dist, distXY, slice3, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.21, 0.65, 0.03];
const OBJ_HIGH: Vec3 = [-0.03, 0.75, 0.03];
/** Cube centres that do not overlap the start bin's walls (inner faces -0.21/-0.03 and 0.61/0.79, cube half 0.02). */
const FREE_X: [number, number] = [-0.19, -0.05];
const BIN_START: Vec3 = [-0.12, 0.7, 0];
/** Meta-World's target is the goal bin's body position (its goal draw is not used). */
const BIN_GOAL: Vec3 = [0.12, 0.7, 0];
const GOAL_LOW: Vec3 = [0.1199, 0.699, -0.001];
const GOAL_HIGH: Vec3 = [0.1201, 0.701, 0.001];
/** Fingers' half width in x plus 5 mm (contact prediction reaches 2 mm): the expert's grasp x stays this far inside the start bin's walls. */
const GRASP_X: [number, number] = [-0.21 + 0.04, -0.03 - 0.04];

function addBin(scene: Scene, name: string, pos: Vec3, color: string): void {
  const bin = scene.addBody(name, 'fixed', pos);
  const o = { color, friction: 0.5 };
  scene.box(bin, [0.1, 0.1, 0.005], { ...o, position: [0, 0, 0.005] });
  scene.box(bin, [0.1, 0.005, 0.03], { ...o, position: [0, 0.095, 0.03] });
  scene.box(bin, [0.1, 0.005, 0.03], { ...o, position: [0, -0.095, 0.03] });
  scene.box(bin, [0.005, 0.09, 0.03], { ...o, position: [0.095, 0, 0.03] });
  scene.box(bin, [0.005, 0.09, 0.03], { ...o, position: [-0.095, 0, 0.03] });
}

export class BinPickingEnv extends SawyerEnv {
  readonly name = 'bin-picking';
  readonly description = 'Pick a cube out of one bin and place it in the other.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  protected handLow: Vec3 = [-0.5, 0.4, 0.07];
  protected readonly goalLow = GOAL_LOW;
  protected readonly goalHigh = GOAL_HIGH;
  /** The drawn cube position (Meta-World's obj_init_pos), possibly inside a wall. */
  private objDrawn: Vec3 = [-0.12, 0.7, 0.03];
  private objPos: Vec3 = [-0.12, 0.7, 0.03];
  private readonly target: Vec3 = BIN_GOAL;
  private cube!: RAPIER_NS.RigidBody;
  /** Meta-World caches the in-place margin at the first reward evaluation, i.e. after step 1. */
  private inPlaceMargin: number | null = null;

  protected sampleTask(rng: Rng): void {
    // Meta-World draws (object, goal) together; the goal part is ignored (the bin is fixed), but the
    // draw keeps the random stream the shape of Meta-World's.
    this.objDrawn = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
    sampleIn(rng, GOAL_LOW, GOAL_HIGH);
    this.objPos = [Math.min(Math.max(this.objDrawn[0], FREE_X[0]), FREE_X[1]), this.objDrawn[1], this.objDrawn[2]];
  }

  protected buildObjects(scene: Scene): void {
    addBin(scene, 'bin_start', BIN_START, '#2980b9');
    addBin(scene, 'bin_goal', this.target, '#27ae60');
    this.cube = scene.addBody('obj', 'dynamic', this.objPos);
    scene.box(this.cube, [0.02, 0.02, 0.02], { mass: 0.1, friction: 1, color: '#e74c3c' });
  }

  protected onEpisodeStart(): void {
    // obj_init_pos: the drawn xy (even where MuJoCo pushed the cube out of a wall), resting z.
    this.objInit = [this.objDrawn[0], this.objDrawn[1], this.objInit[2]];
    this.inPlaceMargin = null;
  }

  /** Meta-World reports this cube's MuJoCo body quaternion, w first (most tasks convert a geom matrix to x-first). */
  protected writeObjects(obs: Float32Array): void {
    const t = this.cube.translation();
    const r = this.cube.rotation();
    obs.set([t.x, t.y, t.z, r.w, r.x, r.y, r.z], 4);
  }

  goal(): Vec3 {
    return this.target;
  }

  protected evaluate(a: Float32Array): Evaluation {
    const obj = slice3(this.obs, 4);
    const hand = this.handPos();
    const objToTarget = dist(obj, this.target);
    if (this.inPlaceMargin === null) this.inPlaceMargin = objToTarget;
    const inPlace = tolerance(objToTarget, [0, 0.05], this.inPlaceMargin, 'long_tail');
    // A virtual floor that rises between the bins, rewarding a high carry.
    const floorAt = (r: number) => (r > 0.03 ? 0.02 * Math.log(r - 0.03) + 0.2 : 0);
    const floor = Math.min(floorAt(distXY(hand, this.objInit)), floorAt(distXY(hand, this.target)));
    const aboveFloor = hand[2] >= floor ? 1 : tolerance(Math.max(floor - hand[2], 0), [0, 0.01], 0.05, 'long_tail');
    const grasp = gripperCagingReward(
      { action: a, obj, objInit: this.objInit, tcp: this.tcp, initTcp: this.initTcp, leftPad: this.leftPad, rightPad: this.rightPad },
      { objRadius: 0.015, padSuccessThresh: 0.05, objectReachRadius: 0.01, xzThresh: 0.01, desiredGripperEffort: 0.7, highDensity: true },
    );
    let reward = hamacherProduct(grasp, inPlace);
    // Measured from the hand origin, as in Meta-World (not the TCP).
    const graspSuccess = dist(obj, hand) < 0.04 && this.obs[3] >= 0.43 && obj[2] - 0.02 > this.objInit[2];
    if (graspSuccess) reward += 1 + 5 * hamacherProduct(aboveFloor, inPlace);
    const success = objToTarget <= 0.05;
    if (success) reward = 10;
    return {
      reward,
      info: makeInfo(reward, success, {
        near_object: dist(obj, hand) < 0.04 ? 1 : 0,
        grasp_success: graspSuccess ? 1 : 0,
        grasp_reward: grasp,
        in_place_reward: inPlace,
        obj_to_target: objToTarget,
      }),
    };
  }
}

/** Meta-World's bin-picking expert (gain 25): grasp, rise, carry over the goal bin, lower. */
export function binPickingPolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  // Off-centre grasp only while the cube rests in the start bin; a lifted cube is tracked as is.
  const resting = o.obj[0] < -0.02 && o.obj[2] < 0.045;
  const gx = resting ? Math.min(Math.max(o.obj[0], GRASP_X[0]), GRASP_X[1]) : o.obj[0];
  const c: Vec3 = [gx, Math.min(Math.max(o.obj[1], 0.675), 0.725), o.obj[2] + 0.03];
  const bin: Vec3 = [0.12, 0.7, 0.02];
  const xyErr = distXY(o.hand, c);
  const zErr = Math.abs(o.hand[2] - c[2]);
  let to: Vec3;
  if (xyErr > 0.02) to = [c[0], c[1], c[2] + 0.15];
  else if (zErr > 0.015 || o.gripper > 0.55) to = c;
  else if (distXY(o.hand, bin) > 0.02) to = o.hand[2] < 0.15 ? [o.hand[0], o.hand[1], o.hand[2] + 0.1] : [bin[0], bin[1], 0.18];
  else to = bin;
  return action(move(o.hand, to, 25), xyErr <= 0.02 && zErr <= 0.02 ? 0.6 : -1);
}
