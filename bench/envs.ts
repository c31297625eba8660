/**
 * `npm run perf -- envs [--tasks a,b] [--seconds s] [--vec n]`: env steps/s per task, one env and a
 * vector env, random and scripted actions, Meta-World frame skip (5 physics steps per env step).
 * Resets are included (episodes of 500 steps, or until success for scripted), as in training.
 *
 * A bare-physics baseline (table, a free puck and a kinematic body, 5 Rapier steps per "env step",
 * nothing else) runs in the same process, and all four measurements of a task are interleaved in
 * 100 ms slices, so the ratios stay meaningful on a shared, noisy machine even when the raw numbers
 * swing with the load.
 */
import { initPhysics, physicsInfo, rapier } from '../envs/physics.js';
import { TASKS, getTask } from '../envs/registry.js';
import { VectorEnv } from '../envs/vector-env.js';
import { Rng } from '../core/rng.js';
import { FRAME_SKIP, PHYSICS_DT } from '../envs/scene.js';

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}

/** Something that can be stepped for a while; counts env steps and the time spent in them. */
interface Runner {
  steps: number;
  ms: number;
  run(budgetMs: number): void;
  close(): void;
}

function timed(advance: () => number, close: () => void): Runner {
  const r: Runner = {
    steps: 0,
    ms: 0,
    run(budgetMs) {
      const t0 = performance.now();
      while (performance.now() - t0 < budgetMs) r.steps += advance();
      r.ms += performance.now() - t0;
    },
    close,
  };
  return r;
}

function bareBaseline(): Runner {
  const R = rapier();
  const world = new R.World({ x: 0, y: 0, z: -9.81 });
  world.timestep = PHYSICS_DT;
  const table = world.createRigidBody(R.RigidBodyDesc.fixed());
  world.createCollider(R.ColliderDesc.cuboid(0.7, 0.4, 0.1).setTranslation(0, 0.6, -0.1), table);
  const puck = world.createRigidBody(R.RigidBodyDesc.dynamic().setTranslation(0, 0.6, 0.02).setCanSleep(false));
  world.createCollider(R.ColliderDesc.roundCylinder(0.018, 0.018, 0.002).setRotation({ x: Math.SQRT1_2, y: 0, z: 0, w: Math.SQRT1_2 }).setMass(0.1), puck);
  const hand = world.createRigidBody(R.RigidBodyDesc.kinematicPositionBased().setTranslation(0, 0.6, 0.2));
  world.createCollider(R.ColliderDesc.cuboid(0.03, 0.06, 0.01), hand);
  let k = 0;
  return timed(
    () => {
      for (let i = 0; i < FRAME_SKIP; i++) {
        hand.setNextKinematicTranslation({ x: 0.1 * Math.sin(k * 0.01), y: 0.6, z: 0.2 });
        world.step();
      }
      k++;
      if (!Number.isFinite(puck.translation().x)) throw new Error('baseline blew up');
      return 1;
    },
    () => world.free(),
  );
}

function singleEnv(task: string, policy: 'random' | 'scripted'): Runner {
  const entry = getTask(task);
  const env = entry.create();
  const expert = entry.scripted(env);
  const rng = new Rng(0);
  let ep = 0;
  let obs = env.reset({ seed: ep++ }).obs;
  return timed(
    () => {
      const r = env.step(policy === 'random' ? env.actionSpace.sample(rng) : expert(obs));
      obs = r.obs;
      if (r.truncated || (policy === 'scripted' && r.info.success)) obs = env.reset({ seed: ep++ }).obs;
      return 1;
    },
    () => env.close(),
  );
}

async function vectorEnv(task: string, n: number): Promise<Runner> {
  const vec = await VectorEnv.make(task, n, { seed: 0 });
  vec.reset();
  const rng = new Rng(1);
  const actions = new Float32Array(n * 4);
  return timed(
    () => {
      rng.fillUniform(actions, -1, 1);
      vec.step(actions);
      return n;
    },
    () => vec.close(),
  );
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('usage: npm run perf -- envs [--tasks reach,push] [--seconds 2] [--vec 8]');
    return;
  }
  await initPhysics();
  const tasks = arg(args, 'tasks', [...TASKS.keys()].join(',')).split(',');
  const seconds = Number(arg(args, 'seconds', '2'));
  const n = Number(arg(args, 'vec', '8'));
  for (const t of tasks) getTask(t);
  const phys = physicsInfo();
  console.log(`Rapier ${phys.version} (${phys.build} build; PBRL_PHYSICS=simd|compat), dt ${PHYSICS_DT} s, frame skip ${FRAME_SKIP}, ${seconds} s per cell, one thread`);
  console.log('envs as constructed by default: goal hidden (the scripted expert reads it from the env), Meta-World v2');
  console.log('baseline = bare physics (table + puck + kinematic body, 5 Rapier steps per env step), interleaved');
  console.log('with the env measurements in 100 ms slices; the ratio columns are env steps/s over baseline steps/s.\n');
  const header = ['task', 'random', 'scripted', `vec${n} random`, 'baseline', 'random/base', 'scripted/base', 'vec/base'];
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(22) : h.padStart(i < 5 ? 12 : 14))).join(''));
  for (const t of tasks) {
    const runners = [bareBaseline(), singleEnv(t, 'random'), singleEnv(t, 'scripted'), await vectorEnv(t, n)];
    const slices = Math.max(1, Math.round((seconds * 1000) / 100));
    for (let s = 0; s < slices; s++) for (const r of runners) r.run(100);
    const [base, rand, scr, vec] = runners.map((r) => r.steps / (r.ms / 1000));
    runners.forEach((r) => r.close());
    const cells = [t.padEnd(22), rand.toFixed(0), scr.toFixed(0), vec.toFixed(0), base.toFixed(0), (rand / base).toFixed(2), (scr / base).toFixed(2), (vec / base).toFixed(2)];
    console.log(cells.map((c, i) => (i === 0 ? c : c.padStart(i < 5 ? 12 : 14))).join(''));
  }
  console.log('\nresets included (world rebuild + 10 settle steps per episode); scripted episodes end at first success.');
}
