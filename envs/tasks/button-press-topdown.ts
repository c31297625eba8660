/**
 * button-press-topdown (Meta-World button-press-topdown-v2): press a button that faces up.
 * The button joint reproduces Meta-World's (preloaded spring, 0.06 m range with MuJoCo's soft limit);
 * departure: a hard stop at the hole (fixtures/button-box.ts). Success band 0.02 in v2, 0.024 in v3.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { sampleIn } from '../objects.js';
import { addButtonBox, BUTTON_HOLE, BUTTON_START, type ButtonBox } from '../fixtures/button-box.js';
import { hamacherProduct, tolerance } from '../reward-utils.js';
import { dist, distXY, quatMul, slice3, type Quat, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.1, 0.8, 0.115];
/** Meta-World's box body euler (-1.57, 0, 0) about x, as an xyzw quaternion (1.57, not pi/2, as in its XML). */
const BOX_TURN: Quat = [Math.sin(-0.785), 0, 0, Math.cos(-0.785)];
const OBJ_HIGH: Vec3 = [0.1, 0.9, 0.115];

export class ButtonPressTopdownEnv extends SawyerEnv {
  readonly name = 'button-press-topdown';
  readonly description = 'Press down a button that faces up.';
  protected readonly handInit: Vec3 = [0, 0.4, 0.2];
  // Meta-World's goal_space here is the hand box (hand_low, hand_high).
  protected readonly goalLow: Vec3 = [-0.5, 0.4, 0.05];
  protected readonly goalHigh: Vec3 = [0.5, 1, 0.5];
  private boxPos: Vec3 = [0, 0.88, 0.115];
  private button!: RAPIER_NS.RigidBody;
  private box!: ButtonBox;

  protected sampleTask(rng: Rng): void {
    this.boxPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
  }

  protected buildObjects(scene: Scene): void {
    this.box = addButtonBox(scene, this.boxPos, 'up');
    this.button = this.box.button;
  }

  protected beforeSubstep(): void {
    this.box.update();
  }

  protected writeObjects(obs: Float32Array): void {
    // Meta-World observes button origin + (0, 0, 0.193) (the cap top) and the button body's MuJoCo
    // quaternion (w first). Its button frame is the box's, turned by euler (-1.57, 0, 0) so the button
    // faces up; ours is unturned (the shapes are turned instead), so that turn is composed in here.
    const t = this.button.translation();
    const r = this.button.rotation();
    const q = quatMul(BOX_TURN, [r.x, r.y, r.z, r.w]);
    obs.set([t.x, t.y, t.z + 0.193, q[3], q[0], q[1], q[2]], 4);
  }

  goal(): Vec3 {
    return [this.boxPos[0], this.boxPos[1], this.boxPos[2] + BUTTON_HOLE];
  }

  protected extraRewardInputs(): Record<string, number | number[]> {
    return { obj_to_target_init: BUTTON_START - BUTTON_HOLE };
  }

  protected evaluate(): Evaluation {
    const obj = slice3(this.obs, 4);
    const target = this.goal();
    const tcpToObj = dist(obj, this.tcp);
    const objToTarget = Math.abs(target[2] - obj[2]);
    const near = tolerance(tcpToObj, [0, 0.01], dist(obj, this.initTcp), 'long_tail');
    const pressed = tolerance(objToTarget, [0, 0.005], BUTTON_START - BUTTON_HOLE, 'long_tail');
    let reward = 5 * hamacherProduct(1 - this.obs[3], near);
    if (tcpToObj <= 0.03) reward += 5 * pressed;
    return {
      reward,
      // v3 widened the success band from 0.02 to 0.024.
      info: makeInfo(reward, objToTarget <= (this.version === 'v3' ? 0.024 : 0.02), {
        near_object: tcpToObj <= 0.05 ? 1 : 0,
        grasp_success: this.obs[3] > 0 ? 1 : 0,
        grasp_reward: near,
        in_place_reward: pressed,
        obj_to_target: objToTarget,
      }),
    };
  }
}

/** Meta-World's expert (gain 25, fist closed): over the button, then straight down. */
export function buttonPressTopdownPolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const to: Vec3 = distXY(o.hand, o.obj) > 0.04 ? [o.obj[0], o.obj[1], o.obj[2] + 0.1] : o.obj;
  return action(move(o.hand, to, 25), 1);
}
