// The per-task camera presets keep the gripper in sight: for a scripted door-open episode, the
// hand is checked frame by frame against the camera's field of view and against the door and
// cabinet boxes between it and the camera (geometry and poses as the pages draw them).
import { beforeAll, describe, expect, it } from 'vitest';
import { getTask, makeEnv, taskNames } from '../../envs/registry.js';
import { EpisodeRecorder } from '../../envs/recorder.js';
import type { SceneGeometry } from '../../envs/geometry.js';
import type { Trajectory } from '../../core/types.js';
import { cameraFor, DEFAULT_CAMERA, taskQuestion, type CameraPreset } from '../../viewer/task-presets.js';

type V3 = [number, number, number];
type Q = [number, number, number, number];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: V3): V3 => { const l = Math.hypot(...a); return [a[0] / l, a[1] / l, a[2] / l]; };
/** Rotates v by unit quaternion q (x, y, z, w); conj = the inverse rotation. */
function rot(q: Q, v: V3, conj = false): V3 {
  const [x, y, z, w0] = q;
  const u: V3 = conj ? [-x, -y, -z] : [x, y, z];
  const t = cross(u, v).map((c) => 2 * c) as V3;
  const ut = cross(u, t);
  return [v[0] + w0 * t[0] + ut[0], v[1] + w0 * t[1] + ut[1], v[2] + w0 * t[2] + ut[2]];
}

/** Whether the segment p0 -> p1 passes through an axis-aligned box (slab test) in the box's frame. */
function segmentHitsBox(p0: V3, p1: V3, half: V3): boolean {
  let t0 = 0, t1 = 1;
  for (let k = 0; k < 3; k++) {
    const d = p1[k] - p0[k];
    if (Math.abs(d) < 1e-12) {
      if (Math.abs(p0[k]) > half[k]) return false;
      continue;
    }
    let a = (-half[k] - p0[k]) / d, b = (half[k] - p0[k]) / d;
    if (a > b) [a, b] = [b, a];
    t0 = Math.max(t0, a);
    t1 = Math.min(t1, b);
    if (t0 > t1) return false;
  }
  return true;
}

/** Share of frames in which the hand is inside the view and no door / cabinet box hides it. */
function handVisibleShare(traj: Trajectory, g: SceneGeometry, cam: CameraPreset, aspect = 4 / 3): number {
  const poses = traj.poses!;
  const n = poses.bodyNames.length;
  const frames = poses.data.length / (n * 7);
  const pose = (f: number, body: string): [V3, Q] => {
    const k = (f * n + poses.bodyNames.indexOf(body)) * 7;
    const d = poses.data;
    return [[d[k], d[k + 1], d[k + 2]], [d[k + 3], d[k + 4], d[k + 5], d[k + 6]]];
  };
  const blockers = g.visuals.filter((v) => v.shape.kind === 'box' && (v.body === 'door' || v.body === 'door_cabinet'));
  const fwd = norm(sub(cam.target, cam.position));
  const right = norm(cross(fwd, [0, 0, 1]));
  const up = cross(right, fwd);
  const tanV = Math.tan((20 * Math.PI) / 180);
  let visible = 0;
  for (let f = 0; f < frames; f++) {
    const [handPos, handQ] = pose(f, 'hand');
    // The middle of the hand's box, a little above the pads.
    const p = handPos.map((c, i) => c + rot(handQ, [0, 0, 0.02])[i]) as V3;
    const d = sub(p, cam.position);
    const z = dot(d, fwd);
    const inView = z > 0 && Math.abs(dot(d, up) / z) < tanV && Math.abs(dot(d, right) / z) < tanV * aspect;
    const hidden = blockers.some((v) => {
      const [bp, bq] = pose(f, v.body);
      // Into the body's frame, then into the box's own frame.
      const local = (x: V3) => rot(v.quaternion as Q, sub(rot(bq, sub(x, bp), true), v.position as V3), true);
      return segmentHitsBox(local(cam.position), local(p), (v.shape as { halfExtents: V3 }).halfExtents);
    });
    if (inView && !hidden) visible++;
  }
  return visible / frames;
}

let traj: Trajectory;
let geometry: SceneGeometry;
beforeAll(async () => {
  const env = await makeEnv('door-open', { maxPathLength: 200 });
  const rec = new EpisodeRecorder(env, true);
  const expert = getTask('door-open').scripted(env);
  let { obs } = env.reset({ seed: 1 });
  rec.start(obs, 1);
  for (;;) {
    const a = expert(obs);
    const r = env.step(a);
    rec.record(a, r);
    obs = r.obs;
    if (r.truncated || r.terminated) break;
  }
  traj = rec.finish({ policy: 'scripted' });
  geometry = env.geometry();
  env.close();
});

describe('camera presets', () => {
  it('door-open: the preset keeps the gripper in sight where the default camera loses it behind the door', () => {
    const preset = handVisibleShare(traj, geometry, cameraFor('door-open'));
    const fallback = handVisibleShare(traj, geometry, DEFAULT_CAMERA);
    console.log(`door-open hand visible: preset ${(100 * preset).toFixed(0)} %, default camera ${(100 * fallback).toFixed(0)} %`);
    expect(preset).toBeGreaterThan(0.95);
    // Measured 69 % (deterministic physics: the same every run); the door covers the hand for the
    // last third of the episode.
    expect(fallback).toBeLessThan(0.75);
  });

  it('every registered task has a question and a camera', () => {
    for (const t of taskNames()) {
      expect(taskQuestion(t, 'pair')).toMatch(/^Task: .+\. Which clip does it better\?$/);
      expect(cameraFor(t).position).toHaveLength(3);
    }
    expect(taskQuestion('nope', 'pair')).toBeNull();
  });
});
