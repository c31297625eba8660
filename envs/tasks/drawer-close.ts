/**
 * drawer-close (Meta-World drawer-close-v2): push an open drawer shut.
 * Departures: the drawer starts open 0.15 m as in Meta-World; the slide's travel is 0.163 m (shared
 * fixture, see drawer-open.ts), which does not matter here.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { sampleIn } from '../objects.js';
import { addDrawer } from '../fixtures/drawer.js';
import { hamacherProduct, tolerance } from '../reward-utils.js';
import { dist, slice3, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.1, 0.9, 0];
const OBJ_HIGH: Vec3 = [0.1, 0.9, 0];
const START_OPEN = 0.15;
const TARGET_RADIUS = 0.05;

export class DrawerCloseEnv extends SawyerEnv {
  readonly name = 'drawer-close';
  readonly description = 'Push an open drawer shut.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  // Meta-World's goal_space here is the hand box (hand_low, hand_high).
  protected readonly goalLow: Vec3 = [-0.5, 0.4, 0.05];
  protected readonly goalHigh: Vec3 = [0.5, 1, 0.5];
  private drawerPos: Vec3 = [0, 0.9, 0];
  private target: Vec3 = [0, 0.74, 0.09];
  private drawer!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    this.drawerPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
    this.target = [this.drawerPos[0], this.drawerPos[1] - 0.16, this.drawerPos[2] + 0.09];
  }

  protected buildObjects(scene: Scene): void {
    this.drawer = addDrawer(scene, this.drawerPos, START_OPEN).drawer;
    scene.addMarker('goal', this.target, 0.015);
  }

  protected writeObjects(obs: Float32Array): void {
    // Meta-World observes drawer_link + (0, -0.16, 0.05) and reports a zero quaternion.
    const t = this.drawer.translation();
    obs.set([t.x, t.y - 0.16, t.z + 0.05, 0, 0, 0, 0], 4);
  }

  goal(): Vec3 {
    return this.target;
  }

  protected evaluate(a: Float32Array): Evaluation {
    const obj = slice3(this.obs, 4);
    const objToTarget = dist(obj, this.target);
    const tcpToObj = dist(obj, this.tcp);
    const inPlace = tolerance(objToTarget, [0, TARGET_RADIUS], Math.abs(dist(this.objInit, this.target) - TARGET_RADIUS), 'long_tail');
    let reach = tolerance(tcpToObj, [0, 0.005], Math.abs(dist(this.objInit, this.initTcp) - 0.005), 'gaussian');
    reach = hamacherProduct(reach, Math.min(Math.max(a[3], 0), 1));
    const success = objToTarget <= TARGET_RADIUS + 0.015;
    let reward = hamacherProduct(reach, inPlace);
    if (success) reward = 1;
    reward *= 10;
    return {
      reward,
      info: makeInfo(reward, success, {
        near_object: tcpToObj <= 0.01 ? 1 : 0,
        grasp_success: 1,
        grasp_reward: reach,
        in_place_reward: inPlace,
        obj_to_target: objToTarget,
      }),
    };
  }
}

/** Meta-World's drawer-close expert (gain 25, fist closed): get in front of the handle, then push. */
export function drawerClosePolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const drawer: Vec3 = [o.obj[0], o.obj[1], o.obj[2] - 0.02];
  let to: Vec3;
  if (o.hand[1] > drawer[1]) {
    to = o.hand[2] < drawer[2] + 0.23 ? [o.hand[0], o.hand[1], drawer[2] + 0.5] : [drawer[0], drawer[1] - 0.075, drawer[2] + 0.23];
  } else if (Math.abs(o.hand[2] - drawer[2]) > 0.04) to = [drawer[0], drawer[1] - 0.075, drawer[2]];
  else to = drawer;
  return action(move(o.hand, to, 25), 1);
}
