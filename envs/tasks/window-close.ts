/**
 * window-close (Meta-World window-close-v2): slide an open window sash shut (-x) by its handle.
 * The reward is Meta-World's (reach from the TCP, gaussian; margins from the open sash's handle).
 * Fixture and departures as window-open.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, type Evaluation } from '../sawyer-env.js';
import { sampleIn } from '../objects.js';
import { addWindow, HANDLE_CLOSE_SITE, WINDOW_TRAVEL, windowSlideReward } from '../fixtures/window.js';
import { add, distXY, slice3, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [0, 0.75, 0.2];
const OBJ_HIGH: Vec3 = [0, 0.9, 0.2];

export class WindowCloseEnv extends SawyerEnv {
  readonly name = 'window-close';
  readonly description = 'Slide an open window sash shut by pushing its handle.';
  protected readonly handInit: Vec3 = [0, 0.4, 0.2];
  // Meta-World's goal_space here is the hand box (hand_low, hand_high).
  protected readonly goalLow: Vec3 = [-0.5, 0.4, 0.05];
  protected readonly goalHigh: Vec3 = [0.5, 1, 0.5];
  private windowPos: Vec3 = [0, 0.8, 0.2];
  private sash!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    this.windowPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
  }

  protected buildObjects(scene: Scene): void {
    this.sash = addWindow(scene, this.windowPos, WINDOW_TRAVEL).sash;
  }

  /** Meta-World's window_handle_pos_init: handleCloseStart with the sash closed, moved 0.2 in x (open). */
  private handleInit(): Vec3 {
    return add(this.windowPos, [HANDLE_CLOSE_SITE[0] + WINDOW_TRAVEL, HANDLE_CLOSE_SITE[1], HANDLE_CLOSE_SITE[2]]);
  }

  protected extraRewardInputs(): Record<string, number | number[]> {
    return { obj_init_pos: [...this.windowPos], window_handle_pos_init: this.handleInit() };
  }

  protected writeObjects(obs: Float32Array): void {
    const t = this.sash.translation();
    obs.set([...add([t.x, t.y, t.z], HANDLE_CLOSE_SITE), 0, 0, 0, 0], 4);
  }

  goal(): Vec3 {
    return this.windowPos;
  }

  protected evaluate(): Evaluation {
    const target = this.goal();
    const handleInit = this.handleInit();
    return windowSlideReward(slice3(this.obs, 4), target, this.tcp, this.initTcp, handleInit, Math.abs(handleInit[0] - target[0]), 'gaussian');
  }

}

/** Meta-World's window-close expert (gain 25, fist closed): below-right of the handle, push -x. */
export function windowClosePolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const w: Vec3 = [o.obj[0] + 0.03, o.obj[1] - 0.03, o.obj[2] - 0.08];
  let to: Vec3;
  if (distXY(o.hand, w) > 0.04) to = [w[0], w[1], w[2] + 0.25];
  else if (Math.abs(o.hand[2] - w[2]) > 0.02) to = w;
  else to = [w[0] - 0.1, w[1], w[2]];
  return action(move(o.hand, to, 25), 1);
}
