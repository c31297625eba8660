/**
 * Tasks by name. Adding a task = one file under tasks/ and one entry here. `makeEnv` initialises
 * Rapier first, so callers cannot create a world before the WASM is ready.
 */
import { initPhysics } from './physics.js';
import { OBS_DIM, type EnvOptions, type SawyerEnv } from './sawyer-env.js';
import type { Policy } from './policies/policy.js';
import { ReachEnv, reachPolicy } from './tasks/reach.js';
import { PushEnv, pushPolicy } from './tasks/push.js';
import { PickPlaceEnv, pickPlacePolicy } from './tasks/pick-place.js';
import { DrawerOpenEnv, drawerOpenPolicy } from './tasks/drawer-open.js';
import { DrawerCloseEnv, drawerClosePolicy } from './tasks/drawer-close.js';
import { ButtonPressTopdownEnv, buttonPressTopdownPolicy } from './tasks/button-press-topdown.js';
import { ButtonPressEnv, buttonPressPolicy } from './tasks/button-press.js';
import { DoorOpenEnv, doorOpenPolicy } from './tasks/door-open.js';
import { WindowOpenEnv, windowOpenPolicy } from './tasks/window-open.js';
import { WindowCloseEnv, windowClosePolicy } from './tasks/window-close.js';
import { PegInsertSideEnv, pegInsertSidePolicy } from './tasks/peg-insert-side.js';
import { PlateSlideEnv, plateSlidePolicy } from './tasks/plate-slide.js';
import { SweepIntoEnv, sweepIntoPolicy } from './tasks/sweep-into.js';
import { BinPickingEnv, binPickingPolicy } from './tasks/bin-picking.js';

export interface TaskEntry {
  name: string;
  description: string;
  /** Whether the task is in Meta-World's MT10 set. */
  mt10: boolean;
  /**
   * Whether the goal follows from the rest of the observation (it is fixed, or a fixed offset from
   * an observed object). False where it is drawn at random and nothing observed reveals it (reach,
   * push, pick-place, the peg's box, the plate's cage): with the goal hidden (the default) such a
   * task is a guess unless the reward (or a preference teacher) leads the agent there.
   */
  goalInferable: boolean;
  create: (opts?: EnvOptions) => SawyerEnv;
  /**
   * The scripted expert after Meta-World's policy, on the goal-observable observation (it reads the
   * goal from obs[36:39]). Use `scriptedPolicy(name, env)` to drive an env whose goal is hidden.
   */
  expertOnObservableGoal: Policy;
  /** The expert driving `env`: the goal comes from the env (privileged) when the observation hides it. */
  scripted(env: SawyerEnv): Policy;
}

function entry(mt10: boolean, goalInferable: boolean, create: (opts?: EnvOptions) => SawyerEnv, expert: Policy): TaskEntry {
  // Read name/description from a throwaway instance so they are written once, in the task file.
  const probe = create();
  return {
    name: probe.name,
    description: probe.description,
    mt10,
    goalInferable,
    create,
    expertOnObservableGoal: expert,
    scripted: (env) => withPrivilegedGoal(expert, env),
  };
}

/**
 * Wraps an expert written for the goal-observable observation so it drives `env` whatever its goal
 * setting: the goal Meta-World's experts read from obs[36:39] is taken from the env, as privileged
 * information, only for the expert's input; the env's observation (what agents see) is untouched.
 */
export function withPrivilegedGoal(expert: Policy, env: SawyerEnv): Policy {
  if (env.goalObservable) return expert;
  const buf = new Float32Array(OBS_DIM);
  return (obs) => {
    if (obs.length !== OBS_DIM) throw new Error(`scripted expert: observation has length ${obs.length}, expected ${OBS_DIM}`);
    buf.set(obs);
    buf.set(env.observableGoal(), 36);
    return expert(buf);
  };
}

const entries: TaskEntry[] = [
  entry(true, false, (o) => new ReachEnv(o), reachPolicy),
  entry(true, false, (o) => new PushEnv(o), pushPolicy),
  entry(true, false, (o) => new PickPlaceEnv(o), pickPlacePolicy),
  entry(true, true, (o) => new DoorOpenEnv(o), doorOpenPolicy),
  entry(true, true, (o) => new DrawerOpenEnv(o), drawerOpenPolicy),
  entry(true, true, (o) => new DrawerCloseEnv(o), drawerClosePolicy),
  entry(true, true, (o) => new ButtonPressTopdownEnv(o), buttonPressTopdownPolicy),
  // The box (and so the hole) is drawn at random and not observed: only the peg is.
  entry(true, false, (o) => new PegInsertSideEnv(o), pegInsertSidePolicy),
  entry(true, true, (o) => new WindowOpenEnv(o), windowOpenPolicy),
  entry(true, true, (o) => new WindowCloseEnv(o), windowClosePolicy),
  entry(false, true, (o) => new ButtonPressEnv(o), buttonPressPolicy),
  // The plate starts at a fixed place; the cage it must reach is drawn at random.
  entry(false, false, (o) => new PlateSlideEnv(o), plateSlidePolicy),
  entry(false, true, (o) => new SweepIntoEnv(o), sweepIntoPolicy),
  entry(false, true, (o) => new BinPickingEnv(o), binPickingPolicy),
];

export const TASKS: ReadonlyMap<string, TaskEntry> = new Map(entries.map((e) => [e.name, e]));

export function taskNames(): string[] {
  return [...TASKS.keys()];
}

export function getTask(name: string): TaskEntry {
  const t = TASKS.get(name);
  if (!t) throw new Error(`unknown task "${name}"; valid tasks: ${taskNames().join(', ')}`);
  return t;
}

/** Creates a task's env after making sure Rapier's WASM is initialised. */
export async function makeEnv(name: string, opts: EnvOptions = {}): Promise<SawyerEnv> {
  const task = getTask(name);
  await initPhysics();
  return task.create(opts);
}

/** The task's scripted expert for `env` (privileged goal when `env` hides it). */
export function scriptedPolicy(name: string, env: SawyerEnv): Policy {
  if (env.name !== name) throw new Error(`scriptedPolicy: env is "${env.name}", not "${name}"`);
  return getTask(name).scripted(env);
}
