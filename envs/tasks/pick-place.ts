/**
 * pick-place (Meta-World pick-place-v2): grasp the puck and carry it to a goal in the air.
 * Departures: none in the task logic. The grasp is Rapier friction under a force-capped finger
 * motor; the puck weighs 0.1 kg instead of 0.75 kg (see objects.ts for the measurement).
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { writeScipyPose } from './scipy-quat.js';
import { addPuck, sampleIn } from '../objects.js';
import { hamacherProduct, tolerance } from '../reward-utils.js';
import { dist, distXY, distXZ, slice3, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.1, 0.6, 0.02];
const OBJ_HIGH: Vec3 = [0.1, 0.7, 0.02];
const GOAL_LOW: Vec3 = [-0.1, 0.8, 0.05];
const GOAL_HIGH: Vec3 = [0.1, 0.9, 0.3];
const TARGET_RADIUS = 0.05;

export class PickPlaceEnv extends SawyerEnv {
  readonly name = 'pick-place';
  readonly description = 'Grasp a puck and carry it to a goal position in the air.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  protected readonly goalLow = GOAL_LOW;
  protected readonly goalHigh = GOAL_HIGH;
  private objPos: Vec3 = [0, 0.6, 0.02];
  private target: Vec3 = [0.1, 0.8, 0.2];
  private obj!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    do {
      this.objPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
      this.target = sampleIn(rng, GOAL_LOW, GOAL_HIGH);
    } while (distXY(this.objPos, this.target) < 0.15);
  }

  protected buildObjects(scene: Scene): void {
    this.obj = addPuck(scene, 'obj', this.objPos);
    scene.addMarker('goal', this.target);
  }

  /** Meta-World's obj_init_pos is the drawn placement (z 0.02), not a measurement of the puck. */
  protected onEpisodeStart(): void {
    this.objInit = [...this.objPos];
  }

  protected writeObjects(obs: Float32Array): void {
    writeScipyPose(obs, 4, this.obj);
  }

  goal(): Vec3 {
    return this.target;
  }

  /**
   * pick-place's own caging variant (signed pad distances, averaged with the raw caging). The y
   * margins use the pads where they are now: Meta-World's `init_left_pad` / `init_right_pad` are
   * mujoco-py views of `data.xpos` (get_body_com copies nothing), so they follow the live pads.
   */
  private objectGrasped(a: Float32Array, obj: Vec3): number {
    const padThresh = 0.05;
    const objRadius = 0.015;
    const left = tolerance(this.leftPad[1] - obj[1], [objRadius, padThresh], Math.abs(Math.abs(obj[1] - this.leftPad[1]) - padThresh), 'long_tail');
    const right = tolerance(obj[1] - this.rightPad[1], [objRadius, padThresh], Math.abs(Math.abs(obj[1] - this.rightPad[1]) - padThresh), 'long_tail');
    const yCaging = hamacherProduct(left, right);
    const xzMargin = Math.max(distXZ(this.objInit, this.initTcp) - 0.005, 0);
    const xzCaging = tolerance(distXZ(this.tcp, obj), [0, 0.005], xzMargin, 'long_tail');
    const caging = hamacherProduct(yCaging, xzCaging);
    const gripping = caging > 0.97 ? Math.min(Math.max(a[3], 0), 1) : 0;
    return (hamacherProduct(caging, gripping) + caging) / 2;
  }

  protected evaluate(a: Float32Array): Evaluation {
    const obj = slice3(this.obs, 4);
    const objToTarget = dist(obj, this.target);
    const tcpToObj = dist(this.tcp, obj);
    const inPlace = tolerance(objToTarget, [0, TARGET_RADIUS], dist(this.objInit, this.target), 'long_tail');
    const grasp = this.objectGrasped(a, obj);
    let reward = hamacherProduct(grasp, inPlace);
    const lifted = tcpToObj < 0.02 && this.obs[3] > 0 && obj[2] - 0.01 > this.objInit[2];
    if (lifted) reward += 1 + 5 * inPlace;
    if (objToTarget < TARGET_RADIUS) reward = 10;
    return {
      reward,
      info: makeInfo(reward, objToTarget <= 0.07, {
        near_object: tcpToObj <= 0.03 ? 1 : 0,
        grasp_success: lifted ? 1 : 0,
        grasp_reward: grasp,
        in_place_reward: inPlace,
        obj_to_target: objToTarget,
      }),
    };
  }
}

/** Meta-World's pick-place expert (gain 10): hover, descend, close and wait, then carry to the goal. */
export function pickPlacePolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const puck: Vec3 = [o.obj[0] - 0.005, o.obj[1], o.obj[2]];
  let to: Vec3;
  if (distXY(o.hand, puck) > 0.02) to = [puck[0], puck[1], puck[2] + 0.1];
  else if (Math.abs(o.hand[2] - puck[2]) > 0.05 && puck[2] < 0.04) to = [puck[0], puck[1], puck[2] + 0.03];
  else if (o.gripper > 0.73) to = o.hand;
  else to = o.goal;
  const grab = dist(o.hand, puck) < 0.07 ? 1 : 0;
  return action(move(o.hand, to, 10), grab);
}
