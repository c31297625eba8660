/**
 * window-open (Meta-World window-open-v2): slide a window sash open (+x) by pushing its handle.
 * The reward is Meta-World's: reach from the TCP, in-place margin from the window body's x gap to the
 * target (0.15). Meta-World's expert pushes with the hand 8 cm below the handle (with the wrist), so
 * its TCP stays ~12 cm from the handle and the reach term stays small, there as here.
 * Handle and sash mass as Meta-World's; departures: fixtures/window.ts.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, type Evaluation } from '../sawyer-env.js';
import { sampleIn } from '../objects.js';
import { addWindow, HANDLE_OPEN_SITE, WINDOW_TRAVEL, windowSlideReward } from '../fixtures/window.js';
import { add, distXY, slice3, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [-0.1, 0.7, 0.16];
const OBJ_HIGH: Vec3 = [0.1, 0.9, 0.16];

export class WindowOpenEnv extends SawyerEnv {
  readonly name = 'window-open';
  readonly description = 'Slide a window sash open by pushing its handle.';
  protected readonly handInit: Vec3 = [0, 0.4, 0.2];
  // Meta-World's goal_space here is the hand box (hand_low, hand_high).
  protected readonly goalLow: Vec3 = [-0.5, 0.4, 0.05];
  protected readonly goalHigh: Vec3 = [0.5, 1, 0.5];
  private windowPos: Vec3 = [0, 0.8, 0.16];
  private sash!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    this.windowPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
  }

  protected buildObjects(scene: Scene): void {
    this.sash = addWindow(scene, this.windowPos, 0).sash;
  }

  /** Meta-World's window_handle_pos_init: the handle site with the sash closed. */
  private handleInit(): Vec3 {
    return add(this.windowPos, HANDLE_OPEN_SITE);
  }

  protected extraRewardInputs(): Record<string, number | number[]> {
    // Meta-World's obj_init_pos here is the window body position, not the observed handle.
    return { obj_init_pos: [...this.windowPos], window_handle_pos_init: this.handleInit() };
  }

  protected writeObjects(obs: Float32Array): void {
    const t = this.sash.translation();
    obs.set([...add([t.x, t.y, t.z], HANDLE_OPEN_SITE), 0, 0, 0, 0], 4);
  }

  goal(): Vec3 {
    return add(this.windowPos, [WINDOW_TRAVEL, 0, 0]);
  }

  protected evaluate(): Evaluation {
    const target = this.goal();
    return windowSlideReward(slice3(this.obs, 4), target, this.tcp, this.initTcp, this.handleInit(), Math.abs(this.windowPos[0] - target[0]), 'long_tail');
  }

}

/** Meta-World's window-open expert (gain 25, fist closed): below-left of the handle, push +x. */
export function windowOpenPolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const w: Vec3 = [o.obj[0] - 0.03, o.obj[1] - 0.03, o.obj[2] - 0.08];
  let to: Vec3;
  if (distXY(o.hand, w) > 0.04) to = [w[0], w[1], w[2] + 0.3];
  else if (Math.abs(o.hand[2] - w[2]) > 0.02) to = w;
  else to = [w[0] + 0.1, w[1], w[2]];
  return action(move(o.hand, to, 25), 1);
}
