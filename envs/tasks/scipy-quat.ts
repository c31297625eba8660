/**
 * Object poses in Meta-World's x-first convention. Most v2 tasks observe
 * `Rotation.from_matrix(geom_xmat).as_quat()`: scipy picks one of the two quaternions (q, -q) of a
 * rotation by its matrix-to-quaternion branch, whichever of the four diagonal terms (m00, m11, m22,
 * trace) is largest, and that branch's component comes out positive. Rapier's integrated
 * quaternion keeps whatever sign it drifted to, so a puck yawed past 90 degrees (or one whose w went
 * negative) would read as -q; this writes scipy's choice instead.
 */
import type { Vec3 } from '../vec.js';

interface Posed {
  translation(): { x: number; y: number; z: number };
  rotation(): { x: number; y: number; z: number; w: number };
}

/** scipy's sign choice for a unit quaternion (x, y, z, w). */
export function scipySign(x: number, y: number, z: number, w: number): 1 | -1 {
  // Diagonal of the rotation matrix and its trace, written in the quaternion's components.
  const w2 = w * w;
  const decision = [2 * (x * x + w2) - 1, 2 * (y * y + w2) - 1, 2 * (z * z + w2) - 1, 4 * w2 - 1];
  let best = 0;
  for (let i = 1; i < 4; i++) if (decision[i] > decision[best]) best = i;
  const c = [x, y, z, w][best];
  return c < 0 ? -1 : 1;
}

/** Writes position (+ offset) and scipy's x-first quaternion of `body` into obs at `offset`. */
export function writeScipyPose(obs: Float32Array, offset: number, body: Posed, posOffset?: Vec3): void {
  const t = body.translation();
  const r = body.rotation();
  const s = scipySign(r.x, r.y, r.z, r.w);
  obs[offset] = t.x + (posOffset ? posOffset[0] : 0);
  obs[offset + 1] = t.y + (posOffset ? posOffset[1] : 0);
  obs[offset + 2] = t.z + (posOffset ? posOffset[2] : 0);
  obs[offset + 3] = s * r.x;
  obs[offset + 4] = s * r.y;
  obs[offset + 5] = s * r.z;
  obs[offset + 6] = s * r.w;
}
