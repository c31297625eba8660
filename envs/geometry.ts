/**
 * Plain-JSON description of a task's scene, enough for a three.js viewer to rebuild it: every visual
 * shape names the body it rides on, and a recorded PoseTrack gives each body's pose per step.
 * World frame is Meta-World's: z up, metres, table top at z = 0.
 */

export type ShapeSpec =
  | { kind: 'box'; halfExtents: [number, number, number] }
  /** Axis along the shape's local z. */
  | { kind: 'cylinder'; radius: number; halfHeight: number }
  /** Axis along the shape's local z. */
  | { kind: 'capsule'; radius: number; halfHeight: number }
  | { kind: 'sphere'; radius: number };

export interface VisualSpec {
  /** Name of the body this shape is attached to (an entry of SceneGeometry.bodies). */
  body: string;
  shape: ShapeSpec;
  /** Pose of the shape in its body's frame. */
  position: [number, number, number];
  quaternion: [number, number, number, number]; // x, y, z, w
  /** CSS colour, e.g. '#c0392b'. */
  color: string;
  /** False for markers (goal sites) that have no collider. */
  collides: boolean;
  opacity?: number;
}

export interface SceneGeometry {
  task: string;
  up: 'z';
  units: 'm';
  /** Body names in PoseTrack order. Bodies whose pose never changes are listed too (their pose is recorded once per step like any other; it is cheap). */
  bodies: string[];
  visuals: VisualSpec[];
}
