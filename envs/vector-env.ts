/**
 * N envs of one task stepped together, with batched Float32Array observations, actions and rewards.
 * Env i is seeded with `seed + i` at the first reset; after that each env draws its next episodes
 * from its own RNG stream, so a vector env equals N single envs driven the same way.
 * Auto-reset (Gymnasium "same-step" style): when env i ends an episode, its slot in the returned
 * `obs` already holds the first observation of the next episode, and the last observation of the
 * finished episode is in `finalObs[i]`.
 */
import type { EnvOptions, SawyerEnv, StepInfo } from './sawyer-env.js';
import { OBS_DIM, ACT_DIM } from './sawyer-env.js';
import { getTask } from './registry.js';
import { initPhysics } from './physics.js';

export interface VectorStep {
  obs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  success: Uint8Array;
  infos: StepInfo[];
  /** Final observation of each env whose episode ended this step (null otherwise). */
  finalObs: (Float32Array | null)[];
}

export class VectorEnv {
  readonly numEnvs: number;
  readonly obsDim = OBS_DIM;
  readonly actDim = ACT_DIM;
  private readonly obsBuf: Float32Array;
  private started = false;

  constructor(
    readonly envs: SawyerEnv[],
    readonly seed = 0,
  ) {
    if (envs.length === 0) throw new Error('VectorEnv needs at least one env');
    // One batch of observations means one layout: a mix of hidden and shown goals would be silent garbage.
    if (envs.some((e) => e.goalObservable !== envs[0].goalObservable || e.version !== envs[0].version)) {
      throw new Error('VectorEnv: every env must have the same goalObservable and version');
    }
    this.numEnvs = envs.length;
    this.obsBuf = new Float32Array(this.numEnvs * OBS_DIM);
  }

  static async make(task: string, numEnvs: number, opts: EnvOptions & { seed?: number } = {}): Promise<VectorEnv> {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new Error(`numEnvs must be a positive integer, got ${numEnvs}`);
    const entry = getTask(task);
    await initPhysics();
    const envs = Array.from({ length: numEnvs }, () => entry.create(opts));
    return new VectorEnv(envs, opts.seed ?? 0);
  }

  /** Whether obs[36:39] shows the goal (the same for every env). */
  get goalObservable(): boolean {
    return this.envs[0].goalObservable;
  }

  get observationSpace() {
    return this.envs[0].observationSpace;
  }

  get actionSpace() {
    return this.envs[0].actionSpace;
  }

  /** Resets every env (env i with seed `seed + i`, or `seed` argument + i). */
  reset(seed = this.seed): Float32Array {
    for (let i = 0; i < this.numEnvs; i++) {
      const { obs } = this.envs[i].reset({ seed: seed + i });
      this.obsBuf.set(obs, i * OBS_DIM);
    }
    this.started = true;
    return this.obsBuf.slice();
  }

  /** `actions` is numEnvs * 4 values, row-major. */
  step(actions: Float32Array | ArrayLike<number>): VectorStep {
    if (!this.started) throw new Error('call reset() before step()');
    if (actions.length !== this.numEnvs * ACT_DIM) {
      throw new Error(`actions has length ${actions.length}, expected numEnvs * ${ACT_DIM} = ${this.numEnvs * ACT_DIM}`);
    }
    const rewards = new Float32Array(this.numEnvs);
    const terminated = new Uint8Array(this.numEnvs);
    const truncated = new Uint8Array(this.numEnvs);
    const success = new Uint8Array(this.numEnvs);
    const infos: StepInfo[] = [];
    const finalObs: (Float32Array | null)[] = [];
    const a = new Float32Array(ACT_DIM);
    for (let i = 0; i < this.numEnvs; i++) {
      for (let k = 0; k < ACT_DIM; k++) a[k] = actions[i * ACT_DIM + k];
      let r;
      try {
        r = this.envs[i].step(a);
      } catch (err) {
        throw new Error(`env ${i}: ${(err as Error).message}`);
      }
      rewards[i] = r.reward;
      terminated[i] = r.terminated ? 1 : 0;
      truncated[i] = r.truncated ? 1 : 0;
      success[i] = r.info.success ? 1 : 0;
      infos.push(r.info);
      if (r.terminated || r.truncated) {
        finalObs.push(r.obs);
        this.obsBuf.set(this.envs[i].reset().obs, i * OBS_DIM);
      } else {
        finalObs.push(null);
        this.obsBuf.set(r.obs, i * OBS_DIM);
      }
    }
    return { obs: this.obsBuf.slice(), rewards, terminated, truncated, success, infos, finalObs };
  }

  close(): void {
    for (const e of this.envs) e.close();
  }
}
