/**
 * Meta-World fidelity of the articulated tasks beyond the reward formula (which
 * reward-fidelity.test.ts re-scores for every task): the observation's object-pose conventions, the
 * reset-time values the formulas read (checked against Meta-World's reset_model, not against the
 * env code), and the physical departures that remain, each named and bounded.
 *
 * Expected values come from Meta-World's v2 XML and reset code (commit a0009ed9):
 * - quaternions: button-press / button-press-topdown / drawer-open report MuJoCo body quaternions
 *   (w first); door-open and plate-slide a geom rotation through scipy (x first); drawer-close and
 *   the windows zeros;
 * - button box euler (-1.57, 0, 0) for topdown, door handle geom euler (1.57, 0, 0) on the door link.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getTask, initPhysics, scriptedPolicy, type SawyerEnv } from '../../envs/index.js';
import { Scene, FRAME_SKIP } from '../../envs/scene.js';
import { addButtonBox, BUTTON_RANGE, BUTTON_TRAVEL } from '../../envs/fixtures/button-box.js';
import type { RefStep } from './metaworld-reference/types.js';
import { makeScorer as topdownScorer } from './metaworld-reference/button-press-topdown.js';

beforeAll(async () => {
  await initPhysics();
});

type Q = [number, number, number, number];

/** Quaternion of a rotation by `a` about x, as [w, x, y, z] (MuJoCo's order). */
const aboutXwxyz = (a: number): Q => [Math.cos(a / 2), Math.sin(a / 2), 0, 0];

/** Hamilton product of two [w, x, y, z] quaternions. */
function mulWxyz(p: Q, q: Q): Q {
  const [a1, b1, c1, d1] = p;
  const [a2, b2, c2, d2] = q;
  return [
    a1 * a2 - b1 * b2 - c1 * c2 - d1 * d2,
    a1 * b2 + b1 * a2 + c1 * d2 - d1 * c2,
    a1 * c2 - b1 * d2 + c1 * a2 + d1 * b2,
    a1 * d2 + b1 * c2 - c1 * b2 + d1 * a2,
  ];
}

/**
 * What Meta-World reads for a geom with rotation q: Rotation.from_matrix(R(q)).as_quat(), x first.
 * scipy's matrix-to-quaternion branch is picked by the largest of (m00, m11, m22, trace), and that
 * branch's component comes out positive (q and -q are one rotation; the sign is scipy's choice).
 */
function toScipy(q: Q): Q {
  const [w, x, y, z] = q;
  const m = [
    [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
  ];
  const decision = [m[0][0], m[1][1], m[2][2], m[0][0] + m[1][1] + m[2][2]];
  let c = 0;
  for (let i = 1; i < 4; i++) if (decision[i] > decision[c]) c = i;
  const out = [0, 0, 0, 0];
  if (c === 3) {
    out[0] = m[2][1] - m[1][2];
    out[1] = m[0][2] - m[2][0];
    out[2] = m[1][0] - m[0][1];
    out[3] = 1 + decision[3];
  } else {
    const i = c;
    const j = (i + 1) % 3;
    const k = (j + 1) % 3;
    out[i] = 1 - decision[3] + 2 * m[i][i];
    out[j] = m[j][i] + m[i][j];
    out[k] = m[k][i] + m[i][k];
    out[3] = m[k][j] - m[j][k];
  }
  const n = Math.hypot(out[0], out[1], out[2], out[3]);
  return [out[0] / n, out[1] / n, out[2] / n, out[3] / n];
}

/** How far scipy's winning branch leads the runner-up: near 0 the sign choice is a coin toss. */
function scipyMargin(q: Q): number {
  const [w, x, y, z] = q;
  const d = [1 - 2 * (y * y + z * z), 1 - 2 * (x * x + z * z), 1 - 2 * (x * x + y * y)];
  const all = [...d, d[0] + d[1] + d[2]].sort((a, b) => b - a);
  return all[0] - all[1];
}

const quatOf = (obs: Float32Array): number[] => Array.from(obs.slice(7, 11));

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i]), `${what}[${i}]: ${Array.from(actual)} vs ${Array.from(expected)}`).toBeLessThanOrEqual(tol);
  }
}

/** Runs the expert (goal hidden, privileged goal for the expert) and calls `each` after every step. */
function runExpert(task: string, seed: number, steps: number, each: (env: SawyerEnv, obs: Float32Array, t: number) => void, opts = {}): void {
  const env = getTask(task).create({ maxPathLength: steps, ...opts });
  const policy = scriptedPolicy(task, env);
  let { obs } = env.reset({ seed });
  for (let t = 1; t <= steps; t++) {
    obs = env.step(policy(obs)).obs;
    each(env, obs, t);
  }
  env.close();
}

describe('object pose conventions in obs[7:11]', () => {
  const constant: Record<string, Q> = {
    'button-press': [1, 0, 0, 0],
    'button-press-topdown': aboutXwxyz(-1.57),
    'drawer-open': [1, 0, 0, 0],
    'drawer-close': [0, 0, 0, 0],
    'window-open': [0, 0, 0, 0],
    'window-close': [0, 0, 0, 0],
    'plate-slide': [0, 0, 0, 1],
  };
  for (const [task, q] of Object.entries(constant)) {
    it(`${task}: ${q.map((v) => v.toFixed(4)).join(', ')} at reset and while the expert works`, () => {
      const env = getTask(task).create();
      const { obs } = env.reset({ seed: 3 });
      expectClose(quatOf(obs), q, 1e-5, `${task} reset quaternion`);
      env.close();
      // Buttons and drawer only slide (rotations locked, as Meta-World's slide joints allow none);
      // the pushed plate's chained joints yield by ~0.1 degree (a departure, bounded here).
      const tol = task === 'plate-slide' ? 5e-3 : 1e-4;
      runExpert(task, 3, 80, (_e, o, t) => {
        if (t % 20 === 0) expectClose(quatOf(o), q, tol, `${task} quaternion at step ${t}`);
      });
    });
  }

  // Meta-World's handle geom frame on the door link, (w, x, y, z): the geom's euler (1.57, 0, 0)
  // times the principal axes MuJoCo's compiler gives door_handle.stl (legacy mesh inertia, Jacobi
  // eigen-decomposition, axes by decreasing inertia); worked out offline from the STL with MuJoCo's
  // algorithm, separately from the env code.
  const HANDLE_GEOM: Q = [0.15117, 0.69076, -0.15062, 0.69088];

  it("door-open: the handle mesh geom's frame (door hinge angle, then the geom's frame on the door), x first with scipy's sign", () => {
    let opened = 0;
    runExpert('door-open', 5, 150, (env, o, t) => {
      const theta = env.rewardInputs().doorjoint as number;
      if (theta < -0.3) opened++;
      const hinge: Q = [Math.cos(theta / 2), 0, 0, Math.sin(theta / 2)];
      const frame = mulWxyz(hinge, HANDLE_GEOM);
      const expected = toScipy(frame);
      // Where two of scipy's branches tie, float noise picks the sign (in Meta-World too): there
      // either sign passes. The hinge yields by ~0.01 degree off its axis under the pull.
      const got = quatOf(o);
      const flipped = got.map((v) => -v);
      const tie = scipyMargin(frame) < 1e-2;
      const err = (a: number[]) => Math.max(...a.map((v, i) => Math.abs(v - expected[i])));
      expectClose(tie && err(flipped) < err(got) ? flipped : got, expected, 1e-3, `door-open quaternion at step ${t} (theta ${theta})`);
    });
    // The check must have seen the door swing, not only its closed pose.
    expect(opened).toBeGreaterThan(10);
  });
});

describe("reset-time values the reference formulas read match Meta-World's reset_model", () => {
  it("window-open: obj_init_pos is the window body (target - 0.2 in x), so the in-place margin is 0.15; the handle starts at the handleOpenStart site", () => {
    const env = getTask('window-open').create();
    const { obs } = env.reset({ seed: 11 });
    const inp = env.rewardInputs();
    const target = inp.target_pos as number[];
    const objInit = inp.obj_init_pos as number[];
    expectClose(objInit, [target[0] - 0.2, target[1], target[2]], 1e-9, 'obj_init_pos');
    expect(Math.abs(Math.abs(objInit[0] - target[0]) - 0.05)).toBeCloseTo(0.15, 9);
    expectClose(inp.window_handle_pos_init as number[], [objInit[0] - 0.04, objInit[1] - 0.095, objInit[2]], 1e-9, 'window_handle_pos_init');
    expectClose(obs.slice(4, 7), inp.window_handle_pos_init as number[], 2e-3, 'observed handle at reset');
    env.close();
  });

  it('window-close: target is the window body; window_handle_pos_init is handleCloseStart of the open sash', () => {
    const env = getTask('window-close').create();
    const { obs } = env.reset({ seed: 11 });
    const inp = env.rewardInputs();
    const target = inp.target_pos as number[];
    expectClose(inp.obj_init_pos as number[], target, 1e-9, 'obj_init_pos');
    expectClose(inp.window_handle_pos_init as number[], [target[0] + 0.21, target[1] - 0.095, target[2]], 1e-9, 'window_handle_pos_init');
    expectClose(obs.slice(4, 7), inp.window_handle_pos_init as number[], 2e-3, 'observed handle at reset');
    env.close();
  });

  it("plate-slide: obj_init_pos is rand_vec[:3] = (0, 0.6, 0), the channel at table level, not the plate centre", () => {
    const env = getTask('plate-slide').create();
    const { obs } = env.reset({ seed: 2 });
    expectClose(env.rewardInputs().obj_init_pos as number[], [0, 0.6, 0], 0, 'obj_init_pos');
    expectClose(obs.slice(4, 7), [0, 0.6, 0.015], 1e-3, 'plate centre at reset');
    env.close();
  });

  for (const [task, axis, sign] of [['button-press', 1, -1], ['button-press-topdown', 2, 1]] as const) {
    it(`${task}: target is the hole site, 0.0935 m inside buttonStart; the observed face starts 0.193 m out`, () => {
      const env = getTask(task).create();
      const { obs } = env.reset({ seed: 4 });
      const inp = env.rewardInputs();
      expect(inp.obj_to_target_init as number).toBeCloseTo(0.1935 - 0.1, 9);
      const target = inp.target_pos as number[];
      // obs = button origin (= box origin at rest) + 0.193 outward; hole = box + 0.1 outward.
      expect(Math.abs(obs[4 + axis] - (target[axis] + sign * 0.093))).toBeLessThan(1e-3);
      env.close();
    });
  }

  it('drawer-close: obj_init_pos is the observed handle with the drawer pulled out at reset', () => {
    const env = getTask('drawer-close').create();
    const { obs } = env.reset({ seed: 6 });
    expectClose(env.rewardInputs().obj_init_pos as number[], obs.slice(4, 7), 1e-6, 'obj_init_pos');
    env.close();
  });
});

/** Holds a bare button box under a constant inward push until it settles; returns the depth pressed. */
function settleDepth(facing: 'up' | 'front', pushN: number, envSteps = 160): number {
  const scene = new Scene();
  scene.addTable(true);
  const box = addButtonBox(scene, [0, 0.85, 0.115], facing);
  const inward = box.out.map((v) => -v * pushN);
  for (let i = 0; i < envSteps * FRAME_SKIP; i++) {
    box.update();
    box.button.resetForces(false);
    box.button.addForce({ x: inward[0], y: inward[1], z: inward[2] }, true);
    scene.step();
  }
  const d = box.depth();
  scene.free();
  return d;
}

describe('button joint (Meta-World: 0.06 m range, soft MuJoCo limit, spring 0.5 N/m toward springref 0.5)', () => {
  // Model of Meta-World's joint: preload 0.5 (0.5 + depth) N outward (the 0.098 N weight of the 10 g
  // button adds to an upward-facing push); past 0.06 m MuJoCo's default soft limit resists with
  // ~550 N/m for this button's mass. Departure: a hard stop at 0.0935 m (the cap at the hole).
  const model = (facing: 'up' | 'front', push: number): number => {
    const f = push + (facing === 'up' ? 0.01 * 9.81 : 0);
    if (f <= 0.25) return 0; // the preload holds it against the outer limit
    if (f <= 0.5 * (0.5 + BUTTON_RANGE)) return 2 * f - 0.5; // within the range
    const d = (f - 0.25 + 550 * BUTTON_RANGE) / (0.5 + 550);
    return Math.min(Math.max(d, BUTTON_RANGE), BUTTON_TRAVEL);
  };

  for (const facing of ['front', 'up'] as const) {
    it(`${facing}: a 0.1 N touch does not move it; 2 N and 10 N press it into the soft limit as MuJoCo's would; 60 N meets the hard stop`, () => {
      expect(settleDepth(facing, 0.1)).toBeLessThan(1e-3);
      for (const push of [2, 10]) {
        const d = settleDepth(facing, push);
        expect(Math.abs(d - model(facing, push)), `${facing} push ${push} N: depth ${d} vs model ${model(facing, push)}`).toBeLessThan(1.5e-3);
      }
      // 10 N reaches Meta-World's success band (depth >= 0.0735); 2 N does not.
      expect(model(facing, 10)).toBeGreaterThan(0.0935 - 0.02);
      expect(model(facing, 2)).toBeLessThan(0.0935 - 0.02);
      expect(Math.abs(settleDepth(facing, 60) - BUTTON_TRAVEL)).toBeLessThan(2e-3);
    });
  }

  it("released past the end of the range, the preload brings it back about as fast as Meta-World's overdamped joint would", () => {
    const scene = new Scene();
    scene.addTable(true);
    const box = addButtonBox(scene, [0, 0.85, 0.115], 'up');
    for (let i = 0; i < 100 * FRAME_SKIP; i++) {
      box.update();
      box.button.resetForces(false);
      box.button.addForce({ x: 0, y: 0, z: -5 }, true);
      scene.step();
    }
    expect(box.depth()).toBeGreaterThan(BUTTON_RANGE);
    box.button.resetForces(false);
    let steps = 0;
    while (box.depth() > 2e-3 && steps < 100) {
      for (let i = 0; i < FRAME_SKIP; i++) {
        box.update();
        scene.step();
      }
      steps++;
    }
    scene.free();
    // Meta-World, overdamped (10 g, 1 N·s/m): the button creeps out at (0.5 (0.5 + d) - weight) / 1
    // m/s, 0.15-0.18 m/s over the range: integrate dt = dd / v from 2 mm to 0.06 m.
    let analytic = 0;
    for (let d = 0.002; d < BUTTON_RANGE; d += 1e-4) analytic += 1e-4 / (0.5 * (0.5 + d) - 0.01 * 9.81);
    const analyticSteps = analytic / 0.0125;
    // Measured 32 steps against ~28 (+3 to leave the soft-limit zone, not in the integral).
    expect(steps / analyticSteps).toBeGreaterThan(0.85);
    expect(steps / analyticSteps).toBeLessThan(1.3);
  });
});

describe('button-press-topdown behaviour under the expert', () => {
  const hover = (obs: Float32Array): Float32Array => {
    // Closed fist resting 1 cm above the cap: what a policy gets for not pressing.
    const to = [obs[4], obs[5], obs[6] + 0.045 + 0.01];
    const a = new Float32Array(4);
    for (let i = 0; i < 3; i++) a[i] = Math.max(-1, Math.min(1, 25 * (to[i] - obs[i])));
    a[3] = 1;
    return a;
  };

  it('once reached, success holds for the rest of the episode (it was lost ~46 steps later when the fingers sank into the cap)', () => {
    for (const seed of [1000, 1001, 1002]) {
      let first = -1;
      let after = 0;
      let held = 0;
      const env = getTask('button-press-topdown').create({ maxPathLength: 300 });
      const policy = scriptedPolicy('button-press-topdown', env);
      let { obs } = env.reset({ seed });
      for (let t = 0; t < 300; t++) {
        const r = env.step(policy(obs));
        obs = r.obs;
        if (r.info.success && first < 0) first = t;
        if (first >= 0) {
          after++;
          held += r.info.success;
        }
      }
      env.close();
      expect(first, `seed ${seed}: never succeeded`).toBeGreaterThanOrEqual(0);
      expect(held / after, `seed ${seed}: success held ${held}/${after} steps`).toBeGreaterThanOrEqual(0.95);
    }
  });

  it("hovering over the button earns at most ~60% of the pressing expert's return (Meta-World's formula at rest on the cap: ~48%; it was ~88%)", () => {
    const mean = (pol: 'expert' | 'hover'): number => {
      let total = 0;
      for (const seed of [1000, 1001]) {
        const env = getTask('button-press-topdown').create({ maxPathLength: 300 });
        const policy = pol === 'expert' ? scriptedPolicy('button-press-topdown', env) : hover;
        let { obs } = env.reset({ seed });
        for (let t = 0; t < 300; t++) {
          const r = env.step(policy(obs));
          obs = r.obs;
          total += r.reward;
        }
        env.close();
      }
      return total / 600;
    };
    const expert = mean('expert');
    const hovering = mean('hover');
    expect(expert).toBeGreaterThan(6);
    expect(hovering / expert).toBeLessThan(0.6);
    expect(hovering / expert).toBeGreaterThan(0.3);
  });

  it("v3's 0.024 success band: env and Meta-World's v3 formula agree on a slow press that crosses (0.02, 0.024], where v2 says no", () => {
    // Over the button, then down at 2 mm per step, so the press lingers in the band.
    const slow = (obs: Float32Array): Float32Array => {
      const a = new Float32Array(4);
      const dx = obs[4] - obs[0];
      const dy = obs[5] - obs[1];
      a[0] = Math.max(-1, Math.min(1, 25 * dx));
      a[1] = Math.max(-1, Math.min(1, 25 * dy));
      a[2] = Math.hypot(dx, dy) > 0.01 ? Math.max(-1, Math.min(1, 25 * (obs[6] + 0.1 - obs[2]))) : -0.2;
      a[3] = 1;
      return a;
    };
    const run = (version: 'v2' | 'v3') => {
      const env = getTask('button-press-topdown').create({ maxPathLength: 200, version });
      const score = topdownScorer({ version });
      let { obs } = env.reset({ seed: 21 });
      const flags: { envSuccess: boolean; refSuccess: boolean; gap: number }[] = [];
      for (let t = 1; t <= 200; t++) {
        const action = slow(obs);
        const r = env.step(action);
        obs = r.obs;
        const step: RefStep = { obs: r.obs, action, inputs: env.rewardInputs(), t };
        flags.push({ envSuccess: r.info.success === 1, refSuccess: score(step).success, gap: r.info.obj_to_target });
      }
      env.close();
      return flags;
    };
    const v2 = run('v2');
    const v3 = run('v3');
    for (const f of [...v2, ...v3]) expect(f.envSuccess).toBe(f.refSuccess);
    const inBand = v3.map((f, i) => ({ i, f })).filter(({ f }) => f.gap > 0.02 && f.gap <= 0.024);
    expect(inBand.length, 'the slow press never lingered in (0.02, 0.024]').toBeGreaterThan(0);
    for (const { i } of inBand) {
      expect(v3[i].envSuccess).toBe(true);
      // Same seed, same physics: v2 sees the same gap and calls it a failure.
      expect(v2[i].gap).toBeCloseTo(v3[i].gap, 12);
      expect(v2[i].envSuccess).toBe(false);
    }
  });
});

describe('drawer and door geometry', () => {
  it("drawer-open: pulled to its stop, the handle ends 2.6-3.0 cm from the target (departure: 3 mm of extra travel; Meta-World's 0.16 m range gives 3.0 cm, less by its soft limit's give)", () => {
    for (const seed of [1000, 1001]) {
      let minErr = Infinity;
      runExpert('drawer-open', seed, 250, (env, o) => {
        const t = env.rewardInputs().target_pos as number[];
        minErr = Math.min(minErr, Math.hypot(o[4] - t[0], o[5] - t[1], o[6] - t[2]));
      });
      expect(minErr).toBeGreaterThan(0.026);
      expect(minErr).toBeLessThanOrEqual(0.03);
    }
  });

  it("door-open: the observed handle sweeps as Meta-World's handle mesh centre (0.3757, -0.1071) on a hinge 0.185 m left of the cabinet, so the open door leaves the 0.08 success band", () => {
    const env = getTask('door-open').create({ maxPathLength: 250 });
    const policy = scriptedPolicy('door-open', env);
    let { obs } = env.reset({ seed: 1000 });
    let wideOpen = 0;
    let succeeded = false;
    for (let t = 1; t <= 250; t++) {
      const r = env.step(policy(obs));
      obs = r.obs;
      const inp = env.rewardInputs();
      const theta = inp.doorjoint as number;
      const target = inp.target_pos as number[];
      // cabinet x = target x + 0.3; handle x = cabinet x - 0.185 + R(theta) (0.3757, -0.1071).x;
      // the centre is MuJoCo's legacy mesh centre of door_handle.stl in the geom's frame.
      const expected = 0.3 - 0.185 + 0.3757 * Math.cos(theta) + 0.1071 * Math.sin(theta);
      expect(Math.abs(obs[4] - target[0] - expected), `step ${t}, theta ${theta}`).toBeLessThan(2e-3);
      if (r.info.success) succeeded = true;
      if (theta < -1.95) {
        wideOpen++;
        // Meta-World's handle is ~0.14 m past the target here, outside its 0.08 band.
        expect(r.info.success, `step ${t}: success with the door wide open (theta ${theta})`).toBe(0);
      }
    }
    env.close();
    expect(succeeded, 'the door never swung through the success band').toBe(true);
    expect(wideOpen).toBeGreaterThan(10);
  });
});
