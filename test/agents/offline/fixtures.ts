/** Small synthetic preference datasets for offline-agent tests (no physics needed). */
import { Rng } from '../../../core/rng.js';
import type { PreferenceData } from '../../../agents/offline/data.js';
import { makeEnv } from '../../../envs/registry.js';
import { evalSeed } from '../../../experiments/online-runner.js';

export function syntheticData(opts: { obsDim?: number; actDim?: number; episodes?: number; T?: number; H?: number; segments?: number; pairs?: number; seed?: number } = {}): PreferenceData {
  const { obsDim = 6, actDim = 2, episodes = 4, T = 20, H = 5, segments = 12, pairs = 30, seed = 0 } = opts;
  const rng = new Rng(seed);
  const obs = rng.fillNormal(new Float32Array(episodes * (T + 1) * obsDim)) as Float32Array;
  const actions = rng.fillUniform(new Float32Array(episodes * T * actDim), -1, 1) as Float32Array;
  const rewards = rng.fillNormal(new Float32Array(episodes * T)) as Float32Array;
  const segEpisode = Int32Array.from({ length: segments }, () => rng.int(episodes));
  const segStart = Int32Array.from({ length: segments }, () => rng.int(T - H + 1));
  const pairA = Int32Array.from({ length: pairs }, () => rng.int(segments));
  const pairB = Int32Array.from({ length: pairs }, () => rng.int(segments));
  const labels = Float32Array.from({ length: pairs }, (_, i) => [1, 0, 0.5][i % 3]);
  return { obsDim, actDim, episodes, episodeLength: T, segmentLength: H, obs, actions, rewards, success: new Uint8Array(episodes * T), segEpisode, segStart, pairA, pairB, labels };
}

/**
 * A uniform-random policy's mean true return on reach (goal visible) over the offline runner's
 * evaluation episodes of run seed 0: the baseline the offline learning checks beat.
 */
export async function randomReachReturn(T: number, episodes: number): Promise<number> {
  const env = await makeEnv('reach', { maxPathLength: T, goalObservable: true });
  const rng = new Rng(1);
  let total = 0;
  for (let k = 0; k < episodes; k++) {
    env.reset({ seed: evalSeed(0, k) });
    for (let t = 0; t < T; t++) total += env.step(env.actionSpace.sample(rng)).reward;
  }
  env.close();
  return total / episodes;
}
