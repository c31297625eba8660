/**
 * How different two segments look: the mean, over aligned frames, of the largest distance between
 * the same body in the two (metres). Two still scenes after a scripted policy finished, or two
 * copies of one motion, come out near 0; a person cannot tell such a pair apart, so the page flags
 * it and `pbrl label --drop-similar` keeps it from being drawn.
 */
import type { PoseTrack } from '../core/types.js';

export function poseDifference(a: PoseTrack, b: PoseTrack): number {
  const na = a.bodyNames.length;
  const nb = b.bodyNames.length;
  const framesA = a.data.length / (na * 7);
  const framesB = b.data.length / (nb * 7);
  const frames = Math.min(framesA, framesB);
  const bodies = a.bodyNames.map((name, i) => [i, b.bodyNames.indexOf(name)] as const).filter(([, j]) => j >= 0);
  if (frames === 0 || bodies.length === 0) return Infinity;
  let sum = 0;
  for (let f = 0; f < frames; f++) {
    let worst = 0;
    for (const [i, j] of bodies) {
      const ka = (f * na + i) * 7;
      const kb = (f * nb + j) * 7;
      const d = Math.hypot(a.data[ka] - b.data[kb], a.data[ka + 1] - b.data[kb + 1], a.data[ka + 2] - b.data[kb + 2]);
      if (d > worst) worst = d;
    }
    sum += worst;
  }
  return sum / frames;
}

/** Default threshold for "near-identical": 5 mm mean worst-body distance. */
export const SIMILAR_METRES = 0.005;
