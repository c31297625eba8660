/**
 * push (Meta-World push-v2): push the puck across the table to a goal on the table.
 * Departures: none in the task logic. The puck weighs 0.1 kg instead of 0.75 kg (objects.ts);
 * contact physics is Rapier's (puck-table friction 0.75 by Rapier's average rule, fingers mu = 1).
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { writeScipyPose } from './scipy-quat.js';
import { addPuck, sampleIn } from '../objects.js';
import { gripperCagingReward, tolerance } from '../reward-utils.js';
import { dist, distXY, slice3, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.1, 0.6, 0.02];
const OBJ_HIGH: Vec3 = [0.1, 0.7, 0.02];
const GOAL_LOW: Vec3 = [-0.1, 0.8, 0.01];
const GOAL_HIGH: Vec3 = [0.1, 0.9, 0.02];
const TARGET_RADIUS = 0.05;

export class PushEnv extends SawyerEnv {
  readonly name = 'push';
  readonly description = 'Push a puck across the table to a goal position.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  protected readonly goalLow = GOAL_LOW;
  protected readonly goalHigh = GOAL_HIGH;
  private objPos: Vec3 = [0, 0.6, 0.02];
  private target: Vec3 = [0.1, 0.8, 0.02];
  private obj!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    do {
      this.objPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
      this.target = sampleIn(rng, GOAL_LOW, GOAL_HIGH);
    } while (distXY(this.objPos, this.target) < 0.15);
    // Goal and object heights are replaced by the object's resting height.
    this.target[2] = this.objPos[2];
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

  protected evaluate(a: Float32Array): Evaluation {
    const obj = slice3(this.obs, 4);
    const objToTarget = dist(obj, this.target);
    const tcpToObj = dist(this.tcp, obj);
    const margin = dist(this.objInit, this.target);
    const inPlace = tolerance(objToTarget, [0, TARGET_RADIUS], margin, 'long_tail');
    const grasp = gripperCagingReward(
      { action: a, obj, objInit: this.objInit, tcp: this.tcp, initTcp: this.initTcp, leftPad: this.leftPad, rightPad: this.rightPad },
      { objRadius: 0.015, padSuccessThresh: 0.05, objectReachRadius: 0.01, xzThresh: 0.005, highDensity: true },
    );
    let reward = 2 * grasp;
    if (tcpToObj < 0.02 && this.obs[3] > 0) reward += 1 + reward + 5 * inPlace;
    if (objToTarget < TARGET_RADIUS) reward = 10;
    const graspSuccess = tcpToObj < 0.02 && this.obs[3] > 0 && obj[2] - 0.02 > this.objInit[2];
    return {
      reward,
      info: makeInfo(reward, objToTarget <= TARGET_RADIUS, {
        near_object: tcpToObj <= 0.03 ? 1 : 0,
        grasp_success: graspSuccess ? 1 : 0,
        grasp_reward: grasp,
        in_place_reward: inPlace,
        obj_to_target: objToTarget,
      }),
    };
  }
}

/** Meta-World's push expert (gain 10): hover over the puck, drop beside it, then drive to the goal. */
export function pushPolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const puck: Vec3 = [o.obj[0] - 0.005, o.obj[1], o.obj[2]];
  const xyErr = distXY(o.hand, puck);
  const zErr = Math.abs(o.hand[2] - puck[2]);
  let to: Vec3;
  if (xyErr > 0.02) to = [puck[0], puck[1], puck[2] + 0.2];
  else if (zErr > 0.04) to = [puck[0], puck[1], puck[2] + 0.03];
  else to = o.goal;
  const grab = xyErr > 0.02 || zErr > 0.1 ? 0 : 0.6;
  return action(move(o.hand, to, 10), grab);
}
