import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPhysics } from '../../envs/physics.js';
import { getTask } from '../../envs/registry.js';
import { EpisodeRecorder } from '../../envs/recorder.js';
import { loadTrajectories, saveTrajectories } from '../../envs/trajectory-file.js';
import type { Trajectory } from '../../core/types.js';

const dir = mkdtempSync(join(tmpdir(), 'pbrl-traj-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initPhysics();
});

function record(name: string, seed: number, steps: number): { traj: Trajectory; geometry: ReturnType<ReturnType<typeof getTask>['create']>['geometry'] extends () => infer G ? G : never } {
  const task = getTask(name);
  const env = task.create();
  const rec = new EpisodeRecorder(env);
  const expert = task.scripted(env);
  let { obs } = env.reset({ seed });
  rec.start(obs, seed);
  for (let t = 0; t < steps; t++) {
    const a = expert(obs);
    const r = env.step(a);
    rec.record(a, r);
    obs = r.obs;
  }
  const geometry = env.geometry();
  env.close();
  return { traj: rec.finish({ policy: 'scripted' }), geometry };
}

describe('recording', () => {
  it('records T + 1 observations and pose frames, and geometry naming every posed body', () => {
    const { traj, geometry } = record('pick-place', 3, 25);
    expect(traj.length).toBe(25);
    expect(traj.obs.length).toBe(26 * 39);
    expect(traj.poses!.data.length).toBe(26 * traj.poses!.bodyNames.length * 7);
    expect(traj.poses!.bodyNames).toEqual(geometry.bodies);
    for (const v of geometry.visuals) expect(geometry.bodies).toContain(v.body);
    expect(JSON.parse(JSON.stringify(geometry))).toEqual(geometry);
    // The puck's recorded pose matches its position in the observation.
    const k = traj.poses!.bodyNames.indexOf('obj');
    const n = traj.poses!.bodyNames.length;
    for (const t of [0, 10, 25]) {
      for (let i = 0; i < 3; i++) expect(traj.poses!.data[(t * n + k) * 7 + i]).toBeCloseTo(traj.obs[t * 39 + 4 + i], 5);
    }
  });
});

describe('trajectory file', () => {
  it('round-trips trajectories, poses, geometry and metadata exactly', () => {
    const a = record('push', 1, 30);
    const b = record('reach', 2, 12);
    const path = join(dir, 'x.pbrl');
    saveTrajectories(path, [a.traj, b.traj], { push: a.geometry, reach: b.geometry }, { note: 'test' });
    const back = loadTrajectories(path);
    expect(back.trajectories).toEqual([a.traj, b.traj]);
    expect(back.geometry.push).toEqual(a.geometry);
    expect(back.meta).toEqual({ note: 'test' });
  });

  it('reports a corrupt or truncated file clearly', () => {
    const { traj } = record('reach', 4, 5);
    const path = join(dir, 'bad.pbrl');
    saveTrajectories(path, [traj]);
    const bytes = readFileSync(path);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(path, bytes);
    expect(() => loadTrajectories(path)).toThrow(/checksum mismatch/);
    writeFileSync(path, bytes.subarray(0, 30));
    expect(() => loadTrajectories(path)).toThrow(/truncated|bad magic|checksum/);
  });

  it('refuses inconsistent trajectories on save', () => {
    const { traj } = record('reach', 5, 5);
    expect(() => saveTrajectories(join(dir, 'y.pbrl'), [{ ...traj, rewards: new Float32Array(2) }])).toThrow(/rewards\/success must have length 5/);
  });
});
