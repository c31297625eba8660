/**
 * Base class of every task: Meta-World's SawyerXYZEnv semantics on a Rapier scene, with a
 * Gymnasium-style API (reset/step, observationSpace/actionSpace, truncation at 500 steps).
 *
 * Observation (39): hand xyz | gripper opening (fingertip-site distance / 0.1) | obj1 xyz + quat (the
 * task's Meta-World convention) | obj2 xyz + quat | previous step's copy of 0:18 | goal xyz (zeros
 * unless goalObservable, the default being hidden as in Meta-World's raw tasks). Action (4): dx, dy, dz, gripper,
 * clipped to [-1, 1]; the mocap target moves by a[:3] / 100 per step, clipped to the task's hand box.
 */
import { Box } from '../core/spaces.js';
import { Rng } from '../core/rng.js';
import { Scene, FRAME_SKIP } from './scene.js';
import { SawyerHand, gripperOpening, tcpFromTips } from './robot.js';
import type { SceneGeometry } from './geometry.js';
import { clamp, slice3, type Vec3 } from './vec.js';

export const OBS_DIM = 39;
export const ACT_DIM = 4;
export const MAX_PATH_LENGTH = 500;
export const ACTION_SCALE = 1 / 100;

/** Meta-World's _HAND_SPACE, used for the observation bounds of the hand (both frames). */
const HAND_SPACE_LOW: Vec3 = [-0.525, 0.348, -0.0525];
const HAND_SPACE_HIGH: Vec3 = [0.525, 1.025, 0.7];
/** Physics steps run at reset before the first observation, so resting objects settle onto the table. */
const SETTLE_STEPS = 10;

/**
 * Which Meta-World release a task reproduces where the two differ. 'v2' is the code B-Pref/PEBBLE
 * trained on (mid-2021, e.g. commit a0009ed9); 'v3' is Farama's current release. Known differences
 * a task may read through `this.version`: button-press-topdown's success band (0.02 in v2, 0.024 in
 * v3). Timing, ranges and the v2 reward formulas are the same in both.
 */
export const ENV_VERSIONS = ['v2', 'v3'] as const;
export type EnvVersion = (typeof ENV_VERSIONS)[number];
export const DEFAULT_ENV_VERSION: EnvVersion = 'v2';

/** Validates a version string from a flag or a file; `field` names it in the error. */
export function parseEnvVersion(v: unknown, field = 'version'): EnvVersion {
  if (typeof v === 'string' && (ENV_VERSIONS as readonly string[]).includes(v)) return v as EnvVersion;
  throw new Error(`${field} must be one of ${ENV_VERSIONS.join(', ')}, got ${JSON.stringify(v)}`);
}

export interface EnvOptions {
  /**
   * Whether obs[36:39] shows the goal. Default false: Meta-World's raw task classes zero it and
   * B-Pref/PEBBLE train that way; true is the "-goal-observable" / MT setting of single-task RL papers.
   */
  goalObservable?: boolean;
  /** Meta-World release to match where v2 and v3 differ (default 'v2', the B-Pref version). */
  version?: EnvVersion;
  /** Episode length before `truncated` (default 500). */
  maxPathLength?: number;
  /** Seed used when reset() is called without one. */
  seed?: number;
}

export interface ResetArgs {
  seed?: number;
  options?: Record<string, unknown>;
}

/** Keys every task reports in `info`, as Meta-World does (values are numbers; success is 0/1). */
export const INFO_KEYS = ['success', 'near_object', 'grasp_success', 'grasp_reward', 'in_place_reward', 'obj_to_target', 'unscaled_reward'] as const;
export type StepInfo = Record<(typeof INFO_KEYS)[number], number> & Record<string, number>;

export interface StepResult {
  obs: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

export interface Evaluation {
  reward: number;
  info: StepInfo;
}

export function makeInfo(reward: number, success: boolean, parts: Partial<StepInfo> = {}): StepInfo {
  return {
    success: success ? 1 : 0,
    near_object: 0,
    grasp_success: 0,
    grasp_reward: 0,
    in_place_reward: 0,
    obj_to_target: 0,
    unscaled_reward: reward,
    ...parts,
  } as StepInfo;
}

export abstract class SawyerEnv {
  abstract readonly name: string;
  abstract readonly description: string;
  /** Where the hand starts. */
  protected abstract readonly handInit: Vec3;
  /** The mocap box (Meta-World's hand_low/hand_high, which become mocap_low/high). */
  protected handLow: Vec3 = [-0.5, 0.4, 0.05];
  protected handHigh: Vec3 = [0.5, 1.0, 0.5];
  /** Goal bounds for the observation space (Meta-World's goal_space). */
  protected abstract readonly goalLow: Vec3;
  protected abstract readonly goalHigh: Vec3;

  readonly actionSpace = new Box(-1, 1, [ACT_DIM]);
  private _observationSpace: Box | null = null;

  readonly goalObservable: boolean;
  readonly version: EnvVersion;
  readonly maxPathLength: number;

  protected scene: Scene | null = null;
  protected hand!: SawyerHand;
  private rng: Rng;

  /** Current observation (also the source of the "previous frame" block). */
  protected obs = new Float32Array(OBS_DIM);
  protected curPath = 0;
  private needsReset = true;
  private unstable = false;

  // Cached per-step state for rewards.
  protected leftPad: Vec3 = [0, 0, 0];
  protected rightPad: Vec3 = [0, 0, 0];
  /** Meta-World's leftEndEffector / rightEndEffector sites (obs[3] and the TCP come from them). */
  protected leftTip: Vec3 = [0, 0, 0];
  protected rightTip: Vec3 = [0, 0, 0];
  protected tcp: Vec3 = [0, 0, 0];
  // Values Meta-World records at reset and uses for reward margins.
  protected initTcp: Vec3 = [0, 0, 0];
  protected initLeftPad: Vec3 = [0, 0, 0];
  protected initRightPad: Vec3 = [0, 0, 0];
  protected objInit: Vec3 = [0, 0, 0];

  constructor(opts: EnvOptions = {}) {
    if (opts.goalObservable !== undefined && typeof opts.goalObservable !== 'boolean') {
      throw new Error(`goalObservable must be true or false, got ${JSON.stringify(opts.goalObservable)}`);
    }
    this.goalObservable = opts.goalObservable ?? false;
    this.version = parseEnvVersion(opts.version ?? DEFAULT_ENV_VERSION);
    this.maxPathLength = opts.maxPathLength ?? MAX_PATH_LENGTH;
    if (!Number.isInteger(this.maxPathLength) || this.maxPathLength < 1) {
      throw new Error(`maxPathLength must be a positive integer, got ${opts.maxPathLength}`);
    }
    this.rng = new Rng(opts.seed ?? 0);
  }

  // ---- task hooks -------------------------------------------------------------------------------

  /** Draw object/goal placement for a new episode. */
  protected abstract sampleTask(rng: Rng): void;
  /** Create the task's bodies in a fresh scene (table and hand exist already). */
  protected abstract buildObjects(scene: Scene): void;
  /** Writes obs[4:18]: object 1 pos + quat, object 2 pos + quat (zeros if absent). */
  protected abstract writeObjects(obs: Float32Array): void;
  /** The goal position (shown in obs[36:39] when observable). */
  abstract goal(): Vec3;

  /**
   * What obs[36:39] holds when the goal is observable (the goal clipped to the task's goal space),
   * whatever this env's own setting: scripted experts read the goal from here, as privileged
   * information, when the observation hides it.
   */
  observableGoal(): Vec3 {
    const g = this.goal();
    return [0, 1, 2].map((i) => Math.fround(clamp(g[i], this.goalLow[i], this.goalHigh[i]))) as Vec3;
  }
  /** Reward and info for the state after a step. */
  protected abstract evaluate(action: Float32Array): Evaluation;
  /** Hook after the scene settled at reset, before the first observation is returned. */
  protected onEpisodeStart(): void {}
  /** Hook before each physics substep (e.g. a spring that Rapier cannot express as a joint motor). */
  protected beforeSubstep(): void {}
  /** Whether the scene needs a table top (sweep-into builds its own with a hole). */
  protected tableTop = true;

  // ---- spaces -----------------------------------------------------------------------------------

  get observationSpace(): Box {
    if (!this._observationSpace) {
      const low = new Float32Array(OBS_DIM).fill(-Infinity);
      const high = new Float32Array(OBS_DIM).fill(Infinity);
      for (const base of [0, 18]) {
        for (let i = 0; i < 3; i++) {
          low[base + i] = HAND_SPACE_LOW[i];
          high[base + i] = HAND_SPACE_HIGH[i];
        }
        low[base + 3] = -1;
        high[base + 3] = 1;
      }
      for (let i = 0; i < 3; i++) {
        low[36 + i] = this.goalObservable ? this.goalLow[i] : 0;
        high[36 + i] = this.goalObservable ? this.goalHigh[i] : 0;
      }
      this._observationSpace = new Box(low, high);
    }
    return this._observationSpace;
  }

  // ---- Gymnasium API ----------------------------------------------------------------------------

  reset(args: ResetArgs = {}): { obs: Float32Array; info: Record<string, number> } {
    if (args.seed !== undefined) {
      if (!Number.isFinite(args.seed)) throw new Error(`reset: seed must be a finite number, got ${args.seed}`);
      this.rng = new Rng(args.seed);
    }
    this.scene?.free();
    this.sampleTask(this.rng);
    const scene = new Scene();
    this.scene = scene;
    scene.addTable(this.tableTop);
    this.hand = new SawyerHand(scene, this.handInit);
    this.buildObjects(scene);
    this.hand.setGripper(-1);
    for (let i = 0; i < SETTLE_STEPS; i++) {
      this.hand.driveAnchor(FRAME_SKIP - 1);
      this.beforeSubstep();
      scene.step();
    }
    this.curPath = 0;
    this.needsReset = false;
    this.unstable = false;
    this.readRobot();
    this.initTcp = [...this.tcp];
    this.initLeftPad = [...this.leftPad];
    this.initRightPad = [...this.rightPad];
    this.buildObs(true);
    this.objInit = slice3(this.obs, 4);
    this.onEpisodeStart();
    return { obs: this.obs.slice(), info: {} };
  }

  step(action: ArrayLike<number>): StepResult {
    validateAction(action);
    if (this.needsReset || !this.scene) {
      throw new Error(
        this.scene ? `episode is over (truncated after ${this.curPath} steps): call reset() before step()` : 'call reset() before step()',
      );
    }
    const a = new Float32Array(ACT_DIM);
    for (let i = 0; i < ACT_DIM; i++) a[i] = clamp(action[i], -1, 1);

    if (this.unstable) {
      this.curPath++;
      const truncated = this.curPath >= this.maxPathLength;
      if (truncated) this.needsReset = true;
      return { obs: this.obs.slice(), reward: 0, terminated: false, truncated, info: makeInfo(0, false) };
    }

    const m = this.hand.mocapPos;
    const target: Vec3 = [0, 0, 0];
    for (let i = 0; i < 3; i++) target[i] = clamp(m[i] + a[i] * ACTION_SCALE, this.handLow[i], this.handHigh[i]);
    this.hand.setMocap(target);
    this.hand.setGripper(a[3]);
    for (let i = 0; i < FRAME_SKIP; i++) {
      this.hand.driveAnchor(i);
      this.beforeSubstep();
      this.scene.step();
    }
    this.curPath++;
    const truncated = this.curPath >= this.maxPathLength;
    if (truncated) this.needsReset = true;

    const prev = this.obs.slice();
    this.readRobot();
    this.buildObs(false);
    if (!allFinite(this.obs)) {
      // Meta-World's answer to a simulator blow-up: keep the last good observation, zero reward,
      // and skip physics until the next reset.
      this.unstable = true;
      this.obs = prev;
      return { obs: this.obs.slice(), reward: 0, terminated: false, truncated, info: makeInfo(0, false) };
    }
    const { reward, info } = this.evaluate(a);
    return { obs: this.obs.slice(), reward, terminated: false, truncated, info };
  }

  /** Frees the Rapier world. The env can be reset again afterwards. */
  close(): void {
    this.scene?.free();
    this.scene = null;
    this.needsReset = true;
  }

  get elapsedSteps(): number {
    return this.curPath;
  }

  // ---- fidelity hooks ---------------------------------------------------------------------------

  /**
   * Everything Meta-World's reward function reads that the observation does not carry, under
   * Meta-World's own names (tcp_center, pads, init positions, target). Valid after reset/step.
   * The fidelity tests re-score recorded trajectories from obs + action + these values with a
   * formula written independently of the task code; tasks add their own entries in
   * `extraRewardInputs` (e.g. a joint position or a handle site).
   */
  rewardInputs(): Record<string, number | number[]> {
    return {
      hand: [...this.handPos()],
      tcp_center: [...this.tcp],
      leftpad: [...this.leftPad],
      rightpad: [...this.rightPad],
      leftEndEffector: [...this.leftTip],
      rightEndEffector: [...this.rightTip],
      init_tcp: [...this.initTcp],
      init_left_pad: [...this.initLeftPad],
      init_right_pad: [...this.initRightPad],
      obj_init_pos: [...this.objInit],
      target_pos: [...this.goal()],
      ...this.extraRewardInputs(),
    };
  }

  /** Task-specific additions to `rewardInputs` (default: none). */
  protected extraRewardInputs(): Record<string, number | number[]> {
    return {};
  }

  // ---- recording --------------------------------------------------------------------------------

  /** Names of the bodies whose poses `writePoses` records (fixed for a task). */
  poseBodyNames(): string[] {
    return this.requireScene().bodyNames.filter((n) => n !== 'mocap');
  }

  /** Writes position + quaternion (xyzw) of every recorded body at `offset`; returns floats written. */
  writePoses(out: Float32Array, offset = 0): number {
    const scene = this.requireScene();
    let k = offset;
    for (let b = 0; b < scene.bodies.length; b++) {
      if (scene.bodyNames[b] === 'mocap') continue;
      const body = scene.bodies[b];
      const t = body.translation();
      const r = body.rotation();
      out[k++] = t.x;
      out[k++] = t.y;
      out[k++] = t.z;
      out[k++] = r.x;
      out[k++] = r.y;
      out[k++] = r.z;
      out[k++] = r.w;
    }
    return k - offset;
  }

  /** The scene's shapes as plain JSON for a viewer (valid after reset). */
  geometry(): SceneGeometry {
    const g = this.requireScene().geometry(this.name);
    g.bodies = g.bodies.filter((n) => n !== 'mocap');
    g.visuals = g.visuals.filter((v) => v.body !== 'mocap');
    return g;
  }

  // ---- internals --------------------------------------------------------------------------------

  private requireScene(): Scene {
    if (!this.scene) throw new Error('call reset() first: the scene is built at reset');
    return this.scene;
  }

  private readRobot(): void {
    this.leftPad = this.hand.leftPad();
    this.rightPad = this.hand.rightPad();
    this.leftTip = this.hand.leftTip();
    this.rightTip = this.hand.rightTip();
    this.tcp = tcpFromTips(this.leftTip, this.rightTip);
  }

  private buildObs(atReset: boolean): void {
    const o = this.obs;
    if (!atReset) o.copyWithin(18, 0, 18);
    const h = this.hand.handPos();
    o[0] = h[0];
    o[1] = h[1];
    o[2] = h[2];
    o[3] = gripperOpening(this.leftTip, this.rightTip);
    o.fill(0, 4, 18);
    this.writeObjects(o);
    // v3 behaviour: at reset the previous-frame block equals the current one.
    if (atReset) o.copyWithin(18, 0, 18);
    if (this.goalObservable) {
      const g = this.goal();
      o[36] = g[0];
      o[37] = g[1];
      o[38] = g[2];
    } else o.fill(0, 36, 39);
    // v3 clips the observation to its space (only the hand and gripper entries are bounded).
    const sp = this.observationSpace;
    for (let i = 0; i < OBS_DIM; i++) {
      if (o[i] < sp.low[i]) o[i] = sp.low[i];
      else if (o[i] > sp.high[i]) o[i] = sp.high[i];
    }
  }

  protected handPos(): Vec3 {
    return slice3(this.obs, 0);
  }
}

/** Length-4, all finite; anything else is an Error naming the offending index or length. */
export function validateAction(action: ArrayLike<number>): void {
  if (action == null || typeof (action as ArrayLike<number>).length !== 'number') {
    throw new Error(`action must be an array of ${ACT_DIM} numbers, got ${action === null ? 'null' : typeof action}`);
  }
  if (action.length !== ACT_DIM) throw new Error(`action has length ${action.length}, expected ${ACT_DIM} (dx, dy, dz, gripper)`);
  for (let i = 0; i < ACT_DIM; i++) {
    const v = action[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`action[${i}] is ${v}; expected a finite number (values outside [-1, 1] are clipped)`);
    }
  }
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Writes a body's position and quaternion (xyzw) into obs at `offset`. */
export function writeBodyPose(obs: Float32Array, offset: number, body: { translation(): { x: number; y: number; z: number }; rotation(): { x: number; y: number; z: number; w: number } }, posOffset?: Vec3): void {
  const t = body.translation();
  const r = body.rotation();
  obs[offset] = t.x + (posOffset ? posOffset[0] : 0);
  obs[offset + 1] = t.y + (posOffset ? posOffset[1] : 0);
  obs[offset + 2] = t.z + (posOffset ? posOffset[2] : 0);
  obs[offset + 3] = r.x;
  obs[offset + 4] = r.y;
  obs[offset + 5] = r.z;
  obs[offset + 6] = r.w;
}
