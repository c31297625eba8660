/**
 * sweep-into (Meta-World sweep-into-v2): move a small cube across the table into a square hole.
 * The table top here is four slabs around a 16 x 16 cm hole with a floor 5 cm below (Meta-World's
 * scene "b"); the cube can really fall in.
 * Departures: the cube's rotations are locked (Meta-World gives it inertia 1e5, which is the same
 * in effect).
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { writeScipyPose } from './scipy-quat.js';
import { sampleIn } from '../objects.js';
import { hamacherProduct, tolerance } from '../reward-utils.js';
import { dist, distXY, distXZ, slice3, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.1, 0.6, 0.02];
const OBJ_HIGH: Vec3 = [0.1, 0.7, 0.02];
const GOAL: Vec3 = [0, 0.84, 0.02];
const OBJ_RADIUS = 0.02;

export class SweepIntoEnv extends SawyerEnv {
  readonly name = 'sweep-into';
  readonly description = 'Sweep a small cube across the table into a hole.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  protected readonly goalLow: Vec3 = [-0.001, 0.8399, 0.0199];
  protected readonly goalHigh: Vec3 = [0.001, 0.8401, 0.0201];
  protected tableTop = false;
  private objPos: Vec3 = [0, 0.6, 0.02];
  private cube!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    do this.objPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
    while (distXY(this.objPos, GOAL) < 0.15);
  }

  protected buildObjects(scene: Scene): void {
    // Table top with a hole x in [-0.08, 0.08], y in [0.76, 0.92]; body frame is the table centre (0, 0.6, 0).
    const table = scene.body('table');
    const wood = { color: '#b08a5a', friction: 0.5 };
    scene.box(table, [0.31, 0.4, 0.05], { ...wood, position: [-0.39, 0, -0.05] });
    scene.box(table, [0.31, 0.4, 0.05], { ...wood, position: [0.39, 0, -0.05] });
    scene.box(table, [0.08, 0.28, 0.05], { ...wood, position: [0, -0.12, -0.05] });
    scene.box(table, [0.08, 0.04, 0.05], { ...wood, position: [0, 0.36, -0.05] });
    scene.box(table, [0.7, 0.4, 0.1], { color: '#6e5438', friction: 0.5, position: [0, 0, -0.15] });

    this.cube = scene.addBody('obj', 'dynamic', this.objPos);
    this.cube.lockRotations(true, false);
    scene.box(this.cube, [0.02, 0.02, 0.02], { mass: 0.01, friction: 1, color: '#e67e22' });
    scene.addMarker('goal', GOAL, 0.015);
  }

  /** Meta-World's obj_init_pos: the drawn xy with the cube's resting height. */
  protected onEpisodeStart(): void {
    this.objInit = [this.objPos[0], this.objPos[1], this.objInit[2]];
  }

  protected writeObjects(obs: Float32Array): void {
    writeScipyPose(obs, 4, this.cube);
  }

  goal(): Vec3 {
    return GOAL;
  }

  /**
   * sweep-into's own caging variant (reference 3.13). Pad offsets are signed (left pad minus cube,
   * cube minus right pad), so a pad on the wrong side of the cube scores like one pressed into it.
   * The margins use the live pads: Meta-World's `init_left_pad` / `init_right_pad` are mujoco-py
   * views of `data.xpos`, which MuJoCo overwrites every step.
   */
  private objectGrasped(obj: Vec3): number {
    const padThresh = 0.05;
    const cage: number[] = [];
    const grip: number[] = [];
    for (const [pad, sign] of [[this.leftPad, 1], [this.rightPad, -1]] as const) {
      const d = sign * (pad[1] - obj[1]);
      const margin = Math.abs(Math.abs(obj[1] - pad[1]) - padThresh);
      cage.push(tolerance(d, [OBJ_RADIUS, padThresh], margin, 'long_tail'));
      grip.push(tolerance(d, [OBJ_RADIUS, OBJ_RADIUS + 0.005], margin, 'long_tail'));
    }
    const yCaging = hamacherProduct(cage[0], cage[1]);
    const xzMargin = Math.max(distXZ(this.objInit, this.initTcp) - 0.01, 0);
    const xzCaging = tolerance(distXZ(this.tcp, obj), [0, 0.01], xzMargin, 'long_tail');
    const caging = hamacherProduct(yCaging, xzCaging);
    const gripping = caging > 0.95 ? hamacherProduct(grip[0], grip[1]) : 0;
    return (caging + gripping) / 2;
  }

  protected evaluate(): Evaluation {
    const obj = slice3(this.obs, 4);
    const target: Vec3 = [GOAL[0], GOAL[1], obj[2]];
    const objToTarget = dist(obj, target);
    const tcpToObj = dist(this.tcp, obj);
    const inPlace = tolerance(objToTarget, [0, 0.05], dist(this.objInit, target), 'long_tail');
    const grasp = this.objectGrasped(obj);
    let reward = 2 * grasp + 6 * hamacherProduct(grasp, inPlace);
    if (objToTarget < 0.05) reward = 10;
    return {
      reward,
      info: makeInfo(reward, objToTarget <= 0.05, {
        near_object: tcpToObj,
        grasp_success: this.obs[3] > 0 && tcpToObj < 0.02 ? 1 : 0,
        grasp_reward: grasp,
        in_place_reward: inPlace,
        obj_to_target: objToTarget,
      }),
    };
  }
}

/** Meta-World's sweep-into expert (gain 25): grasp the cube and carry it over the hole. */
export function sweepIntoPolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const c: Vec3 = [o.obj[0] - 0.005, o.obj[1], o.obj[2] + 0.01];
  const xyErr = distXY(o.hand, c);
  const zErr = Math.abs(o.hand[2] - c[2]);
  let to: Vec3;
  if (xyErr > 0.04) to = [c[0], c[1], c[2] + 0.3];
  else if (zErr > 0.04) to = c;
  else to = o.goal;
  const grab = xyErr > 0.04 || zErr > 0.15 ? -1 : 0.7;
  return action(move(o.hand, to, 25), grab);
}
