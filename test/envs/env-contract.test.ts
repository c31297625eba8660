/** Gymnasium contracts of every registered task: spaces, shapes, bounds, info keys, validation, determinism. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initPhysics } from '../../envs/physics.js';
import { getTask, makeEnv, taskNames } from '../../envs/registry.js';
import { checkEnv } from '../../envs/env-checker.js';
import { Rng } from '../../core/rng.js';
import type { SawyerEnv } from '../../envs/sawyer-env.js';

beforeAll(async () => {
  await initPhysics();
});

describe.each(taskNames())('%s', (name) => {
  it('passes the env checker (spaces, bounds, finite values, info keys, truncation, seeded rerun)', () => {
    const env = getTask(name).create({ maxPathLength: 40 });
    expect(checkEnv(env, { steps: 45, seed: 3 })).toEqual([]);
    env.close();
  });

  it('samples object/goal placements from the seed: same seed same obs, other seeds differ', () => {
    // Goal shown: plate-slide draws only its goal, which a hidden-goal observation cannot differ in.
    const env = getTask(name).create({ goalObservable: true });
    const a = env.reset({ seed: 11 }).obs;
    const b = env.reset({ seed: 11 }).obs;
    expect(Array.from(b)).toEqual(Array.from(a));
    const others = [12, 13, 14].map((s) => Array.from(env.reset({ seed: s }).obs));
    expect(others.some((o) => o.some((x, i) => x !== a[i]))).toBe(true);
    env.close();
  });

  it('describes its scene as plain JSON: every visual rides on a recorded body', () => {
    const env = getTask(name).create();
    env.reset({ seed: 4 });
    const g = env.geometry();
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
    expect(g.bodies).toEqual(env.poseBodyNames());
    expect(g.visuals.length).toBeGreaterThan(4);
    for (const v of g.visuals) expect(g.bodies).toContain(v.body);
    const poses = new Float32Array(g.bodies.length * 7);
    expect(env.writePoses(poses)).toBe(poses.length);
    expect(poses.every(Number.isFinite)).toBe(true);
    env.close();
  });

  it('hides the goal by default (Meta-World raw tasks, B-Pref) and shows it with goalObservable: true', () => {
    for (const env of [getTask(name).create(), getTask(name).create({ goalObservable: false })]) {
      expect(env.goalObservable).toBe(false);
      const { obs } = env.reset({ seed: 1 });
      expect(Array.from(obs.subarray(36))).toEqual([0, 0, 0]);
      expect(Array.from(env.observationSpace.low.subarray(36))).toEqual([0, 0, 0]);
      expect(env.observationSpace.contains(obs)).toBe(true);
      env.close();
    }
    const shown = getTask(name).create({ goalObservable: true });
    const obs = shown.reset({ seed: 1 }).obs;
    // The shown goal is the env's goal (as float32, inside the task's goal space).
    expect(Array.from(obs.subarray(36))).toEqual(shown.observableGoal());
    expect(shown.observationSpace.contains(obs)).toBe(true);
    shown.close();
  });
});

describe('action validation', () => {
  let env: SawyerEnv;
  beforeAll(async () => {
    env = await makeEnv('reach');
    env.reset({ seed: 0 });
  });
  it('rejects a wrong length, naming the length', () => {
    expect(() => env.step([0, 0, 0])).toThrow(/length 3, expected 4/);
  });
  it('rejects NaN and infinities, naming the index', () => {
    expect(() => env.step([0, NaN, 0, 0])).toThrow(/action\[1\] is NaN/);
    expect(() => env.step([0, 0, 0, Infinity])).toThrow(/action\[3\] is Infinity/);
  });
  it('clips out-of-range values like Meta-World: 5 behaves as 1', () => {
    const e1 = getTask('reach').create();
    const e2 = getTask('reach').create();
    e1.reset({ seed: 2 });
    e2.reset({ seed: 2 });
    const r1 = e1.step([5, -7, 3, 9]);
    const r2 = e2.step([1, -1, 1, 1]);
    expect(Array.from(r1.obs)).toEqual(Array.from(r2.obs));
    e1.close();
    e2.close();
  });
  it('refuses to step before reset and after truncation', async () => {
    const e = await makeEnv('reach', { maxPathLength: 2 });
    expect(() => e.step([0, 0, 0, 0])).toThrow(/reset/);
    e.reset({ seed: 0 });
    e.step([0, 0, 0, 0]);
    expect(e.step([0, 0, 0, 0]).truncated).toBe(true);
    expect(() => e.step([0, 0, 0, 0])).toThrow(/reset\(\)/);
    e.close();
  });
});

describe('makeEnv', () => {
  it('names the valid tasks when given a bad one', async () => {
    await expect(makeEnv('no-such-task')).rejects.toThrow(/valid tasks: .*reach/);
  });
  it('takes the Meta-World version as an option (default v2, the B-Pref version) and rejects others by name', async () => {
    expect((await makeEnv('reach')).version).toBe('v2');
    expect((await makeEnv('reach', { version: 'v3' })).version).toBe('v3');
    await expect(makeEnv('reach', { version: 'v1' as never })).rejects.toThrow(/version must be one of v2, v3, got "v1"/);
    await expect(makeEnv('reach', { goalObservable: 'yes' as never })).rejects.toThrow(/goalObservable must be true or false/);
  });
});

describe('registry', () => {
  it('marks the tasks whose random goal nothing observed reveals', () => {
    const blind = taskNames().filter((n) => !getTask(n).goalInferable);
    expect(blind).toEqual(['reach', 'push', 'pick-place', 'peg-insert-side', 'plate-slide']);
  });
});

describe('determinism', () => {
  it('same seed gives an identical trajectory, independent of earlier episodes', async () => {
    const run = (env: SawyerEnv) => {
      const rng = new Rng(5);
      const out: number[] = Array.from(env.reset({ seed: 42 }).obs);
      for (let t = 0; t < 80; t++) {
        const r = env.step(env.actionSpace.sample(rng));
        out.push(r.reward, ...r.obs);
      }
      return out;
    };
    const fresh = await makeEnv('pick-place');
    const used = await makeEnv('pick-place');
    used.reset({ seed: 7 });
    for (let t = 0; t < 30; t++) used.step([1, 1, -1, 1]);
    expect(run(used)).toEqual(run(fresh));
  });
});

describe('random actions keep the simulation sane', () => {
  it.each(taskNames())('%s: 300 random steps, hand inside its box, no body flies off', (name) => {
    const env = getTask(name).create();
    const rng = new Rng(9);
    env.reset({ seed: 9 });
    for (let t = 0; t < 300; t++) {
      const r = env.step(env.actionSpace.sample(rng));
      for (let i = 4; i < 7; i++) expect(Math.abs(r.obs[i])).toBeLessThan(3);
    }
    env.close();
  });
});

describe('gripper (Meta-World: fingertip-site distance / 0.1, kp = 400 servo)', () => {
  it('reads 1 open, 0.3 closed on nothing, about 0.52 closed on the 4 cm puck; the TCP hangs 4.5 cm below the hand', async () => {
    const env = await makeEnv('reach');
    let obs = env.reset({ seed: 1 }).obs;
    expect(obs[3]).toBeCloseTo(1, 5);
    for (let t = 0; t < 40; t++) obs = env.step([0, 0, 0, 1]).obs;
    // Meta-World's claws stop 3 cm apart: 0.03 / 0.1.
    expect(obs[3]).toBeCloseTo(0.3, 3);
    const inp = env.rewardInputs() as Record<string, number[]>;
    const l = inp.leftEndEffector;
    const r = inp.rightEndEffector;
    expect(Math.hypot(l[0] - r[0], l[1] - r[1], l[2] - r[2]) / 0.1).toBeCloseTo(obs[3], 5);
    expect(inp.tcp_center.map((x, i) => x - obs[i])).toEqual([expect.closeTo(0, 4), expect.closeTo(0, 4), expect.closeTo(-0.045, 4)]);
    env.close();

    // Closed on the puck (pick-place's expert holding it in the air): pads 4 cm + 1.2 cm apart,
    // less what Rapier's soft contacts let the 30 N squeeze sink (about 1 mm a side).
    const pp = await makeEnv('pick-place');
    const expert = getTask('pick-place').scripted(pp);
    obs = pp.reset({ seed: 3 }).obs;
    let held = NaN;
    for (let t = 0; t < 200 && Number.isNaN(held); t++) {
      const a = expert(obs);
      obs = pp.step(a).obs;
      if (a[3] > 0 && obs[6] > 0.06) held = obs[3];
    }
    expect(held).toBeGreaterThan(0.48);
    expect(held).toBeLessThan(0.53);
    pp.close();
  });
});
