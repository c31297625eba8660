/**
 * Tasks by name. Adding a task = one file under tasks/ and one entry here. `makeEnv` initialises
 * Rapier first, so callers cannot create a world before the WASM is ready.
 */
import { initPhysics } from './physics.js';
import type { EnvOptions, SawyerEnv } from './sawyer-env.js';
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
  create: (opts?: EnvOptions) => SawyerEnv;
  /** Scripted expert after Meta-World's policy for the task (needs the goal-observable obs). */
  scripted: Policy;
}

function entry(mt10: boolean, create: (opts?: EnvOptions) => SawyerEnv, scripted: Policy): TaskEntry {
  // Read name/description from a throwaway instance so they are written once, in the task file.
  const probe = create();
  return { name: probe.name, description: probe.description, mt10, create, scripted };
}

const entries: TaskEntry[] = [
  entry(true, (o) => new ReachEnv(o), reachPolicy),
  entry(true, (o) => new PushEnv(o), pushPolicy),
  entry(true, (o) => new PickPlaceEnv(o), pickPlacePolicy),
  entry(true, (o) => new DoorOpenEnv(o), doorOpenPolicy),
  entry(true, (o) => new DrawerOpenEnv(o), drawerOpenPolicy),
  entry(true, (o) => new DrawerCloseEnv(o), drawerClosePolicy),
  entry(true, (o) => new ButtonPressTopdownEnv(o), buttonPressTopdownPolicy),
  entry(true, (o) => new PegInsertSideEnv(o), pegInsertSidePolicy),
  entry(true, (o) => new WindowOpenEnv(o), windowOpenPolicy),
  entry(true, (o) => new WindowCloseEnv(o), windowClosePolicy),
  entry(false, (o) => new ButtonPressEnv(o), buttonPressPolicy),
  entry(false, (o) => new PlateSlideEnv(o), plateSlidePolicy),
  entry(false, (o) => new SweepIntoEnv(o), sweepIntoPolicy),
  entry(false, (o) => new BinPickingEnv(o), binPickingPolicy),
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

export function scriptedPolicy(name: string): Policy {
  return getTask(name).scripted;
}
