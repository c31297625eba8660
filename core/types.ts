/**
 * The data types that flow between modules (design.md, "Data flow").
 * Arrays are flat Float32Arrays in row-major order so they move between the env, replay buffers,
 * tensors, files and ZeroMQ frames without per-element objects.
 */

/** One environment step. */
export interface Transition {
  obs: Float32Array;
  action: Float32Array;
  reward: number;
  nextObs: Float32Array;
  terminated: boolean;
  truncated: boolean;
  success: boolean;
}

/** Recorded body poses for replay: per step, per body, position (3) + quaternion xyzw (4). */
export interface PoseTrack {
  bodyNames: string[];
  /** length = steps * bodyNames.length * 7 */
  data: Float32Array;
}

/** Per-step reward factors from the env's `info` (e.g. in_place_reward): step-major, names.length per step. */
export interface FactorTrack {
  names: string[];
  /** length = steps * names.length */
  data: Float32Array;
}

/** One episode (or a piece of one). obs has length (T + 1) * obsDim: it includes the final observation. */
export interface Trajectory {
  task: string;
  seed: number;
  obsDim: number;
  actDim: number;
  length: number;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  success: Uint8Array;
  terminated: boolean;
  truncated: boolean;
  poses?: PoseTrack;
  /** Reward factors per step, when the recorder was asked for them (HERON's teacher reads them). */
  factors?: FactorTrack;
  /** Free-form provenance: policy name, noise level, checkpoint. */
  meta?: Record<string, unknown>;
}

/** A length-H window of a trajectory: what teachers and people compare. */
export interface Segment {
  id: string;
  task: string;
  /** Which trajectory and where in it, so the same segment can be replayed. */
  source: { trajectory: string | number; start: number };
  length: number;
  obsDim: number;
  actDim: number;
  obs: Float32Array; // length * obsDim (observations at the steps where the actions were taken)
  actions: Float32Array; // length * actDim
  rewards: Float32Array; // true rewards, hidden from learners, used by synthetic teachers
  success: Uint8Array;
  poses?: PoseTrack;
  /** The trajectory's reward factors over the segment's steps, when it recorded them. */
  factors?: FactorTrack;
}

/**
 * A preference between two segments. `label` is the probability that A is preferred:
 * 1 = A, 0 = B, 0.5 = equally preferable. Skipped queries are stored with label null so the
 * fact that a teacher declined is kept (B-Pref's skip teacher, a person pressing "skip").
 */
export interface PreferenceLabel {
  a: string;
  b: string;
  label: 1 | 0 | 0.5 | null;
  /** Who answered: teacher model spec ("stoc:beta=1") or a person's name. */
  teacher: string;
  /** Milliseconds since epoch. */
  time?: number;
  /** How long a person took, in ms. */
  durationMs?: number;
}

/** A rating of one segment into one of k ordered classes (rating-based RL). */
export interface RatingLabel {
  segment: string;
  rating: number;
  classes: number;
  teacher: string;
  time?: number;
  durationMs?: number;
}
