/** Object builders shared by several tasks (Meta-World reuses the same puck across tasks). */
import type RAPIER_NS from '@dimforge/rapier3d-compat';
import type { Scene } from './scene.js';
import type { Vec3 } from './vec.js';

/**
 * Meta-World's small cylinder "obj": radius 2 cm, 4 cm tall, friction 1. Departure: 0.1 kg instead
 * of 0.75 kg. Holding 0.75 kg through Meta-World's lift jerk needs a grip (~80 N) that sinks the pads
 * into the puck with Rapier's soft contacts; with 0.1 kg a 30 N grip holds (pick-place and push
 * scripted 20/20 vs 2/20 and 11/20 at 0.75 kg).
 */
export const PUCK_MASS = 0.1;
export const PUCK_RADIUS = 0.02;
export const PUCK_HALF_HEIGHT = 0.02;

export function addPuck(scene: Scene, name: string, pos: Vec3, color = '#2e86de', mass = PUCK_MASS): RAPIER_NS.RigidBody {
  const body = scene.addBody(name, 'dynamic', pos);
  scene.cylinder(body, PUCK_RADIUS, PUCK_HALF_HEIGHT, { mass, friction: 1, color });
  return body;
}

/** Uniform draw inside [lo, hi] per axis. */
export function sampleIn(rng: { range(lo: number, hi: number): number }, lo: Vec3, hi: Vec3): Vec3 {
  return [rng.range(lo[0], hi[0]), rng.range(lo[1], hi[1]), rng.range(lo[2], hi[2])];
}
