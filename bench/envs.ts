/**
 * `npm run bench -- envs [--tasks a,b] [--seconds s] [--vec n]`: env steps/s per task, one env and a
 * vector env, random and scripted actions, Meta-World frame skip (5 physics steps per env step).
 * Resets are included (episodes of 500 steps, or until success for scripted), as in training.
 * Also measured in the same process: a bare-physics baseline (table, a free puck and a kinematic
 * body, 5 Rapier steps per "env step", nothing else) so the numbers can be read as a ratio on a
 * shared, noisy machine.
 */
import { initPhysics, rapier } from '../envs/physics.js';
import { TASKS, getTask } from '../envs/registry.js';
import { VectorEnv } from '../envs/vector-env.js';
import { Rng } from '../core/rng.js';
import { FRAME_SKIP, PHYSICS_DT } from '../envs/scene.js';

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}

function bareBaseline(seconds: number): number {
  const R = rapier();
  const world = new R.World({ x: 0, y: 0, z: -9.81 });
  world.timestep = PHYSICS_DT;
  const table = world.createRigidBody(R.RigidBodyDesc.fixed());
  world.createCollider(R.ColliderDesc.cuboid(0.7, 0.4, 0.1).setTranslation(0, 0.6, -0.1), table);
  const puck = world.createRigidBody(R.RigidBodyDesc.dynamic().setTranslation(0, 0.6, 0.02).setCanSleep(false));
  world.createCollider(R.ColliderDesc.roundCylinder(0.018, 0.018, 0.002).setRotation({ x: Math.SQRT1_2, y: 0, z: 0, w: Math.SQRT1_2 }).setMass(0.1), puck);
  const hand = world.createRigidBody(R.RigidBodyDesc.kinematicPositionBased().setTranslation(0, 0.6, 0.2));
  world.createCollider(R.ColliderDesc.cuboid(0.03, 0.06, 0.01), hand);
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < FRAME_SKIP; i++) {
      hand.setNextKinematicTranslation({ x: 0.1 * Math.sin(steps * 0.01), y: 0.6, z: 0.2 });
      world.step();
    }
    const t = puck.translation();
    if (!Number.isFinite(t.x)) throw new Error('baseline blew up');
    steps++;
  }
  world.free();
  return steps / ((performance.now() - t0) / 1000);
}

function singleEnv(task: string, policy: 'random' | 'scripted', seconds: number): number {
  const entry = getTask(task);
  const env = entry.create();
  const rng = new Rng(0);
  let steps = 0;
  let ep = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    let { obs } = env.reset({ seed: ep++ });
    for (let t = 0; t < env.maxPathLength; t++) {
      const r = env.step(policy === 'random' ? env.actionSpace.sample(rng) : entry.scripted(obs));
      obs = r.obs;
      steps++;
      if (policy === 'scripted' && r.info.success) break;
    }
  }
  env.close();
  return steps / ((performance.now() - t0) / 1000);
}

async function vectorEnv(task: string, n: number, seconds: number): Promise<number> {
  const vec = await VectorEnv.make(task, n, { seed: 0 });
  vec.reset();
  const rng = new Rng(1);
  const actions = new Float32Array(n * 4);
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    rng.fillUniform(actions, -1, 1);
    vec.step(actions);
    steps += n;
  }
  vec.close();
  return steps / ((performance.now() - t0) / 1000);
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('usage: npm run bench -- envs [--tasks reach,push] [--seconds 2] [--vec 8]');
    return;
  }
  await initPhysics();
  const tasks = arg(args, 'tasks', [...TASKS.keys()].join(',')).split(',');
  const seconds = Number(arg(args, 'seconds', '2'));
  const n = Number(arg(args, 'vec', '8'));
  for (const t of tasks) getTask(t);
  console.log(`Rapier ${rapier().version()}, dt ${PHYSICS_DT} s, frame skip ${FRAME_SKIP}, ${seconds} s per cell, one core (single thread)`);
  console.log('baseline = bare physics (table + puck + kinematic body, 5 Rapier steps per env step), re-measured before each row');
  console.log('because this machine is shared: compare the ratio column across runs, not the raw numbers.\n');
  const header = ['task', 'random', 'scripted', `vec${n} random`, 'baseline', 'random/baseline'];
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(22) : h.padStart(16))).join(''));
  for (const t of tasks) {
    const base = bareBaseline(seconds / 2);
    const r = singleEnv(t, 'random', seconds);
    const s = singleEnv(t, 'scripted', seconds);
    const v = await vectorEnv(t, n, seconds);
    const cells = [t.padEnd(22), r.toFixed(0), s.toFixed(0), v.toFixed(0), base.toFixed(0), (r / base).toFixed(2)];
    console.log(cells.map((c, i) => (i === 0 ? c : c.padStart(16))).join(''));
  }
  console.log('\nenv steps/s include resets (world rebuild + 10 settle steps per episode); scripted episodes end at first success.');
}
