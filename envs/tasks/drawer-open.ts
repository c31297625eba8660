/**
 * drawer-open (Meta-World drawer-open-v2): hook the handle and pull the drawer open.
 * Departures: the slide travels 0.163 m instead of 0.16 m. Meta-World's success (handle within
 * 3 cm of a target 0.19 m out) needs the drawer at its limit; MuJoCo's soft limit lets it reach
 * that, Rapier's hard limit stops a hair short, so 3 mm of extra travel keeps the test meaningful.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { sampleIn } from '../objects.js';
import { addDrawer } from '../fixtures/drawer.js';
import { tolerance } from '../reward-utils.js';
import { dist, distXY, mul, norm, slice3, sub, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.1, 0.9, 0];
const OBJ_HIGH: Vec3 = [0.1, 0.9, 0];
const MAX_DIST = 0.2;

export class DrawerOpenEnv extends SawyerEnv {
  readonly name = 'drawer-open';
  readonly description = 'Hook the handle and pull a drawer open.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  // Meta-World's goal_space here is the hand box (hand_low, hand_high).
  protected readonly goalLow: Vec3 = [-0.5, 0.4, 0.05];
  protected readonly goalHigh: Vec3 = [0.5, 1, 0.5];
  private drawerPos: Vec3 = [0, 0.9, 0];
  private target: Vec3 = [0, 0.54, 0.09];
  private drawer!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    this.drawerPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
    this.target = [this.drawerPos[0], this.drawerPos[1] - 0.16 - MAX_DIST, this.drawerPos[2] + 0.09];
  }

  protected buildObjects(scene: Scene): void {
    this.drawer = addDrawer(scene, this.drawerPos).drawer;
    scene.addMarker('goal', this.target, 0.015);
  }

  protected writeObjects(obs: Float32Array): void {
    // Observed "handle" = drawer_link origin + (0, -0.16, 0); quaternion = drawer_link's MuJoCo body
    // quaternion, w first.
    const t = this.drawer.translation();
    const q = this.drawer.rotation();
    obs.set([t.x, t.y - 0.16, t.z, q.w, q.x, q.y, q.z], 4);
  }

  goal(): Vec3 {
    return this.target;
  }

  protected evaluate(): Evaluation {
    const handle = slice3(this.obs, 4);
    const hand = this.handPos();
    const handleErr = dist(handle, this.target);
    const opening = tolerance(handleErr, [0, 0.02], MAX_DIST, 'long_tail');
    const handleInit: Vec3 = [this.target[0], this.target[1] + MAX_DIST, this.target[2]];
    const w: Vec3 = [3, 3, 1];
    const caging = tolerance(norm(mul(sub(handle, hand), w)), [0, 0.01], norm(mul(sub(handleInit, this.initTcp), w)), 'long_tail');
    const reward = 5 * (caging + opening);
    return {
      reward,
      info: makeInfo(reward, handleErr <= 0.03, {
        near_object: dist(handle, hand) <= 0.03 ? 1 : 0,
        grasp_success: this.obs[3] > 0 ? 1 : 0,
        grasp_reward: caging,
        in_place_reward: opening,
        obj_to_target: handleErr,
      }),
    };
  }
}

/** Meta-World's drawer-open expert: above the handle, down beside it, then pull toward the robot. */
export function drawerOpenPolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const drawer: Vec3 = [o.obj[0], o.obj[1], o.obj[2] - 0.02];
  if (distXY(o.hand, drawer) > 0.06) return action(move(o.hand, [drawer[0], drawer[1], drawer[2] + 0.3], 4), -1);
  if (Math.abs(o.hand[2] - drawer[2]) > 0.04) return action(move(o.hand, drawer, 4), -1);
  return action(move(o.hand, [drawer[0], drawer[1] - 0.06, drawer[2]], 50), -1);
}
