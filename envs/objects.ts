/** Object builders shared by several tasks (Meta-World reuses the same puck across tasks). */
import type RAPIER_NS from '@dimforge/rapier3d-compat';
import type { Scene } from './scene.js';
import type { Vec3 } from './vec.js';

/**
 * Meta-World's small cylinder "obj": radius 2 cm, 4 cm tall, friction 1. Departure: 0.1 kg instead
 * of 0.75 kg. Measured with the scripted experts (seeds 1000-1049) at 0.75 kg: with our 30 N grip
 * pick-place 28% (the puck slides out during the lift jerk), push 92%; with Meta-World's full servo
 * force (~390 N) pick-place 87%, push 87%; adding 200 Hz contacts, pick-place 93% but push 67% and
 * random actions fling the puck at 18 m/s. At 0.1 kg and 30 N: pick-place and push 100%.
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
