/**
 * Records one episode into a core `Trajectory`: observations (T + 1, including the last), actions,
 * rewards, per-step success flags and, optionally, the pose of every body at every observation
 * (T + 1 frames, frame 0 = the reset state) for replay in a viewer.
 */
import type { Trajectory } from '../core/types.js';
import type { SawyerEnv, StepResult } from './sawyer-env.js';
import { OBS_DIM, ACT_DIM } from './sawyer-env.js';

export class EpisodeRecorder {
  private obs: number[] = [];
  private actions: number[] = [];
  private rewards: number[] = [];
  private success: number[] = [];
  private poses: Float32Array[] = [];
  private bodyNames: string[] = [];
  private terminated = false;
  private truncated = false;
  private seed = 0;
  private started = false;
  private factors: number[] = [];

  constructor(
    private readonly env: SawyerEnv,
    private readonly recordPoses = true,
    /** `info` keys recorded per step into trajectory.factors (HERON's teacher); none by default. */
    private readonly factorKeys: readonly string[] = [],
  ) {}

  /** Call right after env.reset() with the observation it returned. */
  start(obs: Float32Array, seed: number): void {
    this.obs = Array.from(obs);
    this.actions = [];
    this.rewards = [];
    this.success = [];
    this.poses = [];
    this.factors = [];
    this.terminated = false;
    this.truncated = false;
    this.seed = seed;
    this.started = true;
    if (this.recordPoses) {
      this.bodyNames = this.env.poseBodyNames();
      this.capturePose();
    }
  }

  private capturePose(): void {
    const frame = new Float32Array(this.bodyNames.length * 7);
    this.env.writePoses(frame, 0);
    this.poses.push(frame);
  }

  /** Call after each env.step(action). The action is stored as clipped to the action space. */
  record(action: ArrayLike<number>, r: StepResult): void {
    if (!this.started) throw new Error('EpisodeRecorder.record before start');
    for (let i = 0; i < ACT_DIM; i++) this.actions.push(Math.max(-1, Math.min(1, action[i])));
    for (let i = 0; i < OBS_DIM; i++) this.obs.push(r.obs[i]);
    this.rewards.push(r.reward);
    this.success.push(r.info.success ? 1 : 0);
    for (const k of this.factorKeys) {
      const v = (r.info as unknown as Record<string, unknown>)[k];
      if (typeof v !== 'number') throw new Error(`EpisodeRecorder: info has no numeric "${k}" (keys: ${Object.keys(r.info).join(', ')})`);
      this.factors.push(v);
    }
    this.terminated = r.terminated;
    this.truncated = r.truncated;
    if (this.recordPoses) this.capturePose();
  }

  get length(): number {
    return this.rewards.length;
  }

  finish(meta?: Record<string, unknown>): Trajectory {
    if (!this.started) throw new Error('EpisodeRecorder.finish before start');
    const t: Trajectory = {
      task: this.env.name,
      seed: this.seed,
      obsDim: OBS_DIM,
      actDim: ACT_DIM,
      length: this.rewards.length,
      obs: Float32Array.from(this.obs),
      actions: Float32Array.from(this.actions),
      rewards: Float32Array.from(this.rewards),
      success: Uint8Array.from(this.success),
      terminated: this.terminated,
      truncated: this.truncated,
      ...(meta ? { meta } : {}),
    };
    if (this.recordPoses) {
      const n = this.bodyNames.length * 7;
      const data = new Float32Array(this.poses.length * n);
      this.poses.forEach((p, i) => data.set(p, i * n));
      t.poses = { bodyNames: [...this.bodyNames], data };
    }
    if (this.factorKeys.length) t.factors = { names: [...this.factorKeys], data: Float32Array.from(this.factors) };
    this.started = false;
    return t;
  }
}
