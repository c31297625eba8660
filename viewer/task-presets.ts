/**
 * What the labeling page (and clip export) shows per task by default: the question, from the task
 * registry's description, and a camera from which the gripper stays in sight. The default view is
 * from the front-right; where a task's moving part would hide the gripper from there, a preset
 * moves the camera (door-open: the door swings toward the robot and to the left, so from the right
 * its panel covers the gripper on the handle for most of the episode).
 */
import { TASKS } from '../envs/registry.js';

export interface CameraPreset {
  position: [number, number, number];
  target: [number, number, number];
}

export const DEFAULT_CAMERA: CameraPreset = { position: [0.6, 0.1, 0.5], target: [0, 0.62, 0.08] };

const PRESETS: Record<string, CameraPreset> = {
  'door-open': { position: [-0.65, 0.1, 0.5], target: [-0.05, 0.7, 0.1] },
};

export function cameraFor(task: string): CameraPreset {
  return PRESETS[task] ?? DEFAULT_CAMERA;
}

/** The task a segment (or video) id names, if its first field is a registered task. */
export function taskOfId(id: string): string | null {
  const t = id.split(':')[0];
  return TASKS.has(t) ? t : null;
}

/** The default question for a pair (or a rating) of this task; null for an unknown task. */
export function taskQuestion(task: string | null, kind: 'pair' | 'rating'): string | null {
  const entry = task ? TASKS.get(task) : undefined;
  if (!entry) return null;
  const goal = entry.description.replace(/\.$/, '');
  return kind === 'pair' ? `Task: ${goal}. Which clip does it better?` : `Task: ${goal}. How well does this clip do it?`;
}
