/**
 * Re-scores recorded trajectories of every task with Meta-World's reward formula, written again from
 * Meta-World's v2 source in test/envs/metaworld-reference/<task>.ts (independently of envs/), and
 * requires the env's reward to agree to 1e-4 at every step with identical success flags.
 *
 * Trajectories: the scripted expert, a uniform random policy and a noisy expert (expert + Gaussian
 * noise), a few seeded episodes each. After every step the scorer sees what Meta-World's reward
 * reads: the observation, the applied action and `env.rewardInputs()` (Meta-World's names).
 *
 * A task without a reference module must be listed in NO_MODULE_YET, so a new task cannot slip
 * through unchecked.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { getTask, initPhysics, scriptedPolicy, taskNames, type EnvVersion, type SawyerEnv } from '../../envs/index.js';
import { Rng } from '../../core/rng.js';
import type { MakeScorer, RefStep } from './metaworld-reference/types.js';

const REF_DIR = fileURLToPath(new URL('./metaworld-reference/', import.meta.url));
/** Shared helpers in the reference folder, not task modules: types.ts and common*.ts. */
const isHelper = (f: string) => f === 'types.ts' || /^common[-.]/.test(f);
const MODULE_TASKS = readdirSync(REF_DIR)
  .filter((f) => f.endsWith('.ts') && !isHelper(f))
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();

/** Registered tasks whose reference module has not landed yet. Shrinks to empty. */
const NO_MODULE_YET = new Set<string>([]);

const TOL = 1e-4;
const NOISE_STD = 0.3;

type PolicyKind = 'expert' | 'random' | 'noisy';
/** Episodes and steps per policy: the expert runs to its success region, the others stay short. */
const PLAN: Record<PolicyKind, { episodes: number; steps: number; seed: number }> = {
  expert: { episodes: 2, steps: 300, seed: 1000 },
  random: { episodes: 2, steps: 120, seed: 2000 },
  noisy: { episodes: 2, steps: 200, seed: 3000 },
};

interface Comparison {
  steps: number;
  maxDiff: number;
  worst: string;
  successMismatches: string[];
  successSteps: number;
}

function policyFor(kind: PolicyKind, task: string, env: SawyerEnv, rng: Rng): (obs: Float32Array) => Float32Array {
  if (kind === 'random') return () => Float32Array.from({ length: 4 }, () => rng.range(-1, 1));
  const expert = scriptedPolicy(task, env);
  if (kind === 'expert') return expert;
  return (obs) => {
    const a = expert(obs);
    return Float32Array.from(a, (v) => v + NOISE_STD * rng.normal());
  };
}

async function loadScorer(task: string): Promise<MakeScorer> {
  const mod = (await import(`./metaworld-reference/${task}.ts`)) as { task?: unknown; makeScorer?: unknown };
  if (mod.task !== task) throw new Error(`metaworld-reference/${task}.ts exports task ${JSON.stringify(mod.task)}, expected "${task}"`);
  if (typeof mod.makeScorer !== 'function') throw new Error(`metaworld-reference/${task}.ts has no makeScorer()`);
  return mod.makeScorer as MakeScorer;
}

function compare(task: string, kind: PolicyKind, makeScorer: MakeScorer, version: EnvVersion = 'v2'): Comparison {
  const plan = PLAN[kind];
  const out: Comparison = { steps: 0, maxDiff: 0, worst: 'none', successMismatches: [], successSteps: 0 };
  for (let ep = 0; ep < plan.episodes; ep++) {
    const seed = plan.seed + ep;
    const env = getTask(task).create({ maxPathLength: plan.steps, version });
    const rng = new Rng(seed + 7919);
    const policy = policyFor(kind, task, env, rng);
    const score = makeScorer({ version: env.version });
    let { obs } = env.reset({ seed });
    for (let t = 1; t <= plan.steps; t++) {
      const raw = policy(obs);
      const action = Float32Array.from(raw, (v) => Math.max(-1, Math.min(1, v)));
      const res = env.step(action);
      const step: RefStep = { obs: res.obs, action, inputs: env.rewardInputs(), t };
      let ref;
      try {
        ref = score(step);
      } catch (e) {
        throw new Error(`${task} ${kind} seed ${seed} step ${t}: reference scorer failed: ${(e as Error).message}`);
      }
      const diff = Math.abs(ref.reward - res.reward);
      if (!(diff <= out.maxDiff)) {
        out.maxDiff = Number.isNaN(diff) ? Infinity : diff;
        out.worst = `seed ${seed} step ${t}: env ${res.reward} vs reference ${ref.reward}`;
      }
      const envSuccess = res.info.success === 1;
      if (envSuccess !== ref.success && out.successMismatches.length < 5) {
        out.successMismatches.push(`seed ${seed} step ${t}: env ${envSuccess} vs reference ${ref.success}`);
      }
      if (envSuccess) out.successSteps++;
      out.steps++;
      obs = res.obs;
      if (res.truncated) break;
    }
    env.close();
  }
  return out;
}

beforeAll(async () => {
  await initPhysics();
});

describe('Meta-World reward fidelity', () => {
  it('every registered task has a reference module or is listed as pending', () => {
    const registered = taskNames();
    for (const m of MODULE_TASKS) expect(registered, `metaworld-reference/${m}.ts names no registered task`).toContain(m);
    const lacking = registered.filter((t) => !MODULE_TASKS.includes(t)).sort();
    expect(lacking, 'tasks without a reference module must equal NO_MODULE_YET (remove a task once its module lands)').toEqual([...NO_MODULE_YET].sort());
  });

  for (const task of MODULE_TASKS) {
    describe(task, () => {
      for (const kind of ['expert', 'random', 'noisy'] as const) {
        it(`${kind}: env reward equals Meta-World's formula at every step`, async () => {
          const makeScorer = await loadScorer(task);
          const c = compare(task, kind, makeScorer);
          expect(c.steps).toBeGreaterThan(0);
          expect(c.maxDiff, `${task} ${kind}: max |reward difference| over ${c.steps} steps (worst: ${c.worst})`).toBeLessThanOrEqual(TOL);
          expect(c.successMismatches, `${task} ${kind}: success flags differ`).toEqual([]);
          // The expert must reach the success region, or the 10-reward branch was never compared.
          if (kind === 'expert') expect(c.successSteps, `${task}: the expert never succeeded`).toBeGreaterThan(0);
        });
      }
      // The version option must reach the reward where v2 and v3 differ; the module is told which.
      it("expert, version v3: env reward equals the module's v3 formula at every step", async () => {
        const makeScorer = await loadScorer(task);
        const c = compare(task, 'expert', makeScorer, 'v3');
        expect(c.maxDiff, `${task} v3: max |reward difference| over ${c.steps} steps (worst: ${c.worst})`).toBeLessThanOrEqual(TOL);
        expect(c.successMismatches, `${task} v3: success flags differ`).toEqual([]);
      });
    });
  }
});

/**
 * Object-pose conventions of Meta-World's observation, per task: most tasks convert a geom or site
 * rotation matrix with scipy (x, y, z, w); bin-picking returns MuJoCo's body quaternion (w, x, y, z).
 * The objects start unrotated, so obs[7:11] at reset is the identity in the task's order.
 */
const REST_QUAT: Record<string, [number, number, number, number]> = {
  reach: [0, 0, 0, 1],
  push: [0, 0, 0, 1],
  'pick-place': [0, 0, 0, 1],
  'peg-insert-side': [0, 0, 0, 1],
  'sweep-into': [0, 0, 0, 1],
  'bin-picking': [1, 0, 0, 0],
};

describe('object tasks: observation conventions and bounded physical departures', () => {
  for (const [task, q] of Object.entries(REST_QUAT)) {
    it(`${task}: obs[7:11] at reset is the identity in Meta-World's order (${q.join(', ')})`, () => {
      const env = getTask(task).create({});
      for (const seed of [0, 1, 2]) {
        const { obs } = env.reset({ seed });
        for (let i = 0; i < 4; i++) expect(Math.abs(obs[7 + i] - q[i]), `${task} seed ${seed} obs[${7 + i}]`).toBeLessThan(1e-3);
      }
      env.close();
    });
  }

  it('peg-insert-side and sweep-into: the rotation-locked object (Meta-World: inertia 1e5) keeps the identity quaternion', () => {
    for (const task of ['peg-insert-side', 'sweep-into']) {
      const env = getTask(task).create({ maxPathLength: 150 });
      const expert = scriptedPolicy(task, env);
      let { obs } = env.reset({ seed: 5 });
      let worst = 0;
      for (let t = 0; t < 150; t++) {
        const r = env.step(expert(obs));
        obs = r.obs;
        worst = Math.max(worst, Math.abs(obs[7]), Math.abs(obs[8]), Math.abs(obs[9]), Math.abs(obs[10] - 1));
        if (r.truncated) break;
      }
      expect(worst, task).toBeLessThan(1e-6);
      env.close();
    }
  });

  it("push, pick-place: a tumbled or yawed puck's obs quaternion is scipy's from_matrix choice (Meta-World's), not -q", () => {
    // scipy's algorithm on the rotation matrix: the largest of (m00, m11, m22, trace) picks the branch.
    const fromMatrix = (m: number[][]): number[] => {
      const tr = m[0][0] + m[1][1] + m[2][2];
      const dec = [m[0][0], m[1][1], m[2][2], tr];
      let c = 0;
      for (let i = 1; i < 4; i++) if (dec[i] > dec[c]) c = i;
      const q = [0, 0, 0, 0];
      if (c === 3) {
        q[0] = m[2][1] - m[1][2];
        q[1] = m[0][2] - m[2][0];
        q[2] = m[1][0] - m[0][1];
        q[3] = 1 + tr;
      } else {
        const i = c;
        const j = (i + 1) % 3;
        const k = (j + 1) % 3;
        q[i] = 1 - tr + 2 * m[i][i];
        q[j] = m[j][i] + m[i][j];
        q[k] = m[k][i] + m[i][k];
        q[3] = m[k][j] - m[j][k];
      }
      const n = Math.hypot(...q);
      return q.map((v) => v / n);
    };
    const toMatrix = ([x, y, z, w]: number[]): number[][] => [
      [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
      [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
      [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ];
    for (const task of ['push', 'pick-place']) {
      const env = getTask(task).create({ maxPathLength: 300 });
      const expert = scriptedPolicy(task, env);
      const rng = new Rng(11);
      let beyond90 = 0;
      let worst = 0;
      for (const seed of [0, 1]) {
        let { obs } = env.reset({ seed });
        for (let t = 0; t < 300; t++) {
          const r = env.step(Float32Array.from(expert(obs), (v) => v + 0.5 * rng.normal()));
          obs = r.obs;
          const q = [obs[7], obs[8], obs[9], obs[10]];
          const ref = fromMatrix(toMatrix(q));
          worst = Math.max(worst, ...q.map((v, i) => Math.abs(v - ref[i])));
          if (Math.abs(q[3]) < Math.SQRT1_2) beyond90++;
          if (r.truncated) break;
        }
      }
      expect(worst, task).toBeLessThan(1e-5);
      // The noisy expert knocks the puck over or spins it past 90 degrees, where the sign matters.
      expect(beyond90, task).toBeGreaterThan(0);
      env.close();
    }
  });

  it("bin-picking: the carried cube hangs 4-5 cm from the hand origin (Meta-World's grasp bonus needs < 4 cm; its geometry gives ~4.0)", () => {
    // Named departure: our pads grip at the TCP, 4.5 cm below the hand, so Meta-World's hand-based
    // "near" test rarely holds while carrying (README: per-task fidelity). This bounds how far off it is.
    const env = getTask('bin-picking').create({ maxPathLength: 200 });
    const expert = scriptedPolicy('bin-picking', env);
    const d: number[] = [];
    for (const seed of [1000, 1002, 1003]) {
      let { obs } = env.reset({ seed });
      const init = env.rewardInputs().obj_init_pos as number[];
      for (let t = 0; t < 200; t++) {
        const r = env.step(expert(obs));
        obs = r.obs;
        if (obs[6] - 0.02 > init[2]) d.push(Math.hypot(obs[4] - obs[0], obs[5] - obs[1], obs[6] - obs[2]));
        if (r.info.success || r.truncated) break;
      }
    }
    d.sort((a, b) => a - b);
    expect(d.length).toBeGreaterThan(10);
    const median = d[Math.floor(d.length / 2)];
    expect(median).toBeGreaterThan(0.038);
    expect(median).toBeLessThan(0.05);
    env.close();
  });

  it("bin-picking: a cube drawn into a wall rests where MuJoCo's push-out leaves it (at most 2 cm in x from obj_init_pos)", () => {
    const env = getTask('bin-picking').create({});
    let pushed = 0;
    for (let seed = 0; seed < 30; seed++) {
      const { obs } = env.reset({ seed });
      const init = env.rewardInputs().obj_init_pos as number[];
      const dx = Math.abs(obs[4] - init[0]);
      // Inner wall faces at -0.21 and -0.03 and a 2 cm half cube: centres outside [-0.19, -0.05] overlap a wall.
      const inWall = init[0] < -0.19 || init[0] > -0.05;
      expect(dx, `seed ${seed}: drawn x ${init[0]}`).toBeLessThanOrEqual(inWall ? 0.02 + 1e-3 : 1e-3);
      expect(Math.abs(obs[5] - init[1]), `seed ${seed} y`).toBeLessThan(1e-3);
      if (inWall) pushed++;
    }
    // About 2/9 of Meta-World's x range lies in the walls; a seed set that never hits them tests nothing.
    expect(pushed).toBeGreaterThan(0);
    env.close();
  });
});
