/**
 * reach (Meta-World reach-v2): move the tool centre point to a goal in the air. The puck on the table
 * is present but irrelevant, as in Meta-World.
 * The reward's margin uses Meta-World's constant hand_init_pos, not the measured initial TCP. The
 * expert drives the hand origin to the goal, leaving the TCP (4.5 cm below it) inside the 5 cm
 * success radius.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { writeScipyPose } from './scipy-quat.js';
import { addPuck, sampleIn } from '../objects.js';
import { tolerance } from '../reward-utils.js';
import { dist, distXY, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.1, 0.6, 0.02];
const OBJ_HIGH: Vec3 = [0.1, 0.7, 0.02];
const GOAL_LOW: Vec3 = [-0.1, 0.8, 0.05];
const GOAL_HIGH: Vec3 = [0.1, 0.9, 0.3];

export class ReachEnv extends SawyerEnv {
  readonly name = 'reach';
  readonly description = 'Move the gripper to a goal position in the air.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  protected readonly goalLow = GOAL_LOW;
  protected readonly goalHigh = GOAL_HIGH;
  private objPos: Vec3 = [0, 0.6, 0.02];
  private target: Vec3 = [-0.1, 0.8, 0.2];
  private obj!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    // Meta-World redraws the (object, goal) vector until they are 15 cm apart in xy.
    do {
      this.objPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
      this.target = sampleIn(rng, GOAL_LOW, GOAL_HIGH);
    } while (distXY(this.objPos, this.target) < 0.15);
  }

  protected buildObjects(scene: Scene): void {
    this.obj = addPuck(scene, 'obj', this.objPos);
    scene.addMarker('goal', this.target);
  }

  protected writeObjects(obs: Float32Array): void {
    writeScipyPose(obs, 4, this.obj);
  }

  goal(): Vec3 {
    return this.target;
  }

  protected evaluate(): Evaluation {
    const d = dist(this.tcp, this.target);
    const margin = dist(this.handInit, this.target);
    const inPlace = tolerance(d, [0, 0.05], margin, 'long_tail');
    const reward = 10 * inPlace;
    return {
      reward,
      info: makeInfo(reward, d <= 0.05, { near_object: d, grasp_success: 1, grasp_reward: d, in_place_reward: inPlace, obj_to_target: d }),
    };
  }
}

/** Meta-World's reach expert: P-control (gain 5) of the hand to the goal, gripper 0. */
export function reachPolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  return action(move(o.hand, o.goal, 5), 0);
}
