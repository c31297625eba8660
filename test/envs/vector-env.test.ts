import { beforeAll, describe, expect, it } from 'vitest';
import { initPhysics } from '../../envs/physics.js';
import { getTask } from '../../envs/registry.js';
import { VectorEnv } from '../../envs/vector-env.js';
import { Rng } from '../../core/rng.js';

beforeAll(async () => {
  await initPhysics();
});

describe('VectorEnv', () => {
  it('equals N single envs stepped with the same actions, auto-reset included', async () => {
    const n = 3;
    const maxPathLength = 15; // short, so auto-reset happens inside the test
    const vec = await VectorEnv.make('push', n, { seed: 100, maxPathLength });
    const singles = Array.from({ length: n }, () => getTask('push').create({ maxPathLength }));
    let vObs = vec.reset();
    const sObs = singles.map((e, i) => e.reset({ seed: 100 + i }).obs);
    expect(vObs.length).toBe(n * 39);
    for (let i = 0; i < n; i++) expect(Array.from(vObs.subarray(i * 39, (i + 1) * 39))).toEqual(Array.from(sObs[i]));
    const rng = new Rng(1);
    let resets = 0;
    for (let t = 0; t < 40; t++) {
      const actions = new Float32Array(n * 4);
      rng.fillUniform(actions, -1, 1);
      const v = vec.step(actions);
      for (let i = 0; i < n; i++) {
        const r = singles[i].step(actions.subarray(i * 4, (i + 1) * 4));
        expect(v.rewards[i]).toBe(Math.fround(r.reward));
        expect(v.truncated[i]).toBe(r.truncated ? 1 : 0);
        expect(v.success[i]).toBe(r.info.success);
        let expected = r.obs;
        if (r.truncated) {
          resets++;
          expect(Array.from(v.finalObs[i]!)).toEqual(Array.from(r.obs));
          expected = singles[i].reset().obs;
        } else expect(v.finalObs[i]).toBeNull();
        expect(Array.from(v.obs.subarray(i * 39, (i + 1) * 39))).toEqual(Array.from(expected));
      }
      vObs = v.obs;
    }
    expect(resets).toBe(n * 2);
    vec.close();
  });

  it('passes the goal and version options to every env (goal hidden unless asked for)', async () => {
    const hidden = await VectorEnv.make('reach', 2, { seed: 3 });
    const shown = await VectorEnv.make('reach', 2, { seed: 3, goalObservable: true, version: 'v3' });
    expect(hidden.goalObservable).toBe(false);
    expect(shown.goalObservable).toBe(true);
    expect(shown.envs.map((e) => e.version)).toEqual(['v3', 'v3']);
    const h = hidden.reset();
    const s = shown.reset();
    for (let i = 0; i < 2; i++) {
      expect(Array.from(h.subarray(i * 39 + 36, (i + 1) * 39))).toEqual([0, 0, 0]);
      expect(Array.from(s.subarray(i * 39 + 36, (i + 1) * 39))).toEqual(shown.envs[i].observableGoal());
    }
    hidden.close();
    shown.close();
  });

  it('rejects a wrongly sized action batch', async () => {
    const vec = await VectorEnv.make('reach', 2);
    vec.reset();
    expect(() => vec.step(new Float32Array(4))).toThrow(/expected numEnvs \* 4 = 8/);
    vec.close();
  });
});
