/**
 * V*(s) estimates for regret labels (CPL's "rl_sum": sum_t r_t + V*(s_H) - V*(s_0), reference/pbrl.md
 * §4.2, §4.4). CPL takes V* from an oracle SAC critic; we have no oracle critic, but we have a
 * near-optimal scripted expert and deterministic physics. So V*(s_t) of a dataset state is estimated as
 * the discounted return of the scripted expert continuing from s_t: reset the episode with its seed,
 * replay the recorded actions up to t (checked against the recorded observation), then run the expert
 * for `horizon` steps past any time limit, sum gamma^k r_k.
 *
 * Cost: about (t + horizon) env steps per distinct state, i.e. up to 2 N (T / 2 + horizon) steps for N
 * segments. Only the states a label needs (each segment's first and final observation) are evaluated.
 */
import { getTask, makeEnv } from '../../envs/registry.js';
import type { EnvVersion } from '../../envs/sawyer-env.js';

export interface ExpertValueOptions {
  gamma: number;
  /** Expert steps summed from each state (gamma^horizon is the ignored tail's weight). */
  horizon: number;
  /** The settings the recording ran under (the replay must match it bit for bit); default hidden, v2. */
  goalObservable?: boolean;
  version?: EnvVersion;
}

/**
 * Values of the requested rows of an [E, T + 1, obsDim] observation array: returns a Float32Array of
 * E * (T + 1) with NaN where no value was asked for.
 */
export async function expertValues(
  task: string,
  episodeSeeds: ArrayLike<number>,
  obs: Float32Array,
  actions: Float32Array,
  T: number,
  rows: Iterable<number>,
  opts: ExpertValueOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array> {
  const E = episodeSeeds.length;
  const env = await makeEnv(task, { maxPathLength: T + opts.horizon + 1, goalObservable: opts.goalObservable ?? false, version: opts.version });
  const expert = getTask(task).scripted(env);
  const od = env.observationSpace.size;
  const ad = env.actionSpace.size;
  const values = new Float32Array(E * (T + 1)).fill(NaN);
  const byEpisode = new Map<number, number[]>();
  for (const r of rows) {
    const e = Math.floor(r / (T + 1));
    if (!(e >= 0 && e < E)) throw new Error(`expertValues: row ${r} is outside the ${E} episodes`);
    if (!byEpisode.has(e)) byEpisode.set(e, []);
    byEpisode.get(e)!.push(r % (T + 1));
  }
  const total = [...byEpisode.values()].reduce((n, ts) => n + new Set(ts).size, 0);
  let done = 0;
  try {
    for (const [e, ts] of byEpisode) {
      for (const t of [...new Set(ts)].sort((a, b) => a - b)) {
        let { obs: o } = env.reset({ seed: episodeSeeds[e] });
        for (let k = 0; k < t; k++) o = env.step(actions.subarray((e * T + k) * ad, (e * T + k + 1) * ad)).obs;
        const rec = obs.subarray((e * (T + 1) + t) * od, (e * (T + 1) + t + 1) * od);
        for (let i = 0; i < od; i++) {
          if (o[i] !== rec[i]) throw new Error(`expertValues: replay of episode ${e} diverged from the recording at step ${t} (obs[${i}] ${o[i]} vs ${rec[i]}); physics is not deterministic here`);
        }
        let v = 0;
        let w = 1;
        for (let k = 0; k < opts.horizon; k++) {
          const r = env.step(expert(o));
          v += w * r.reward;
          w *= opts.gamma;
          o = r.obs;
        }
        values[e * (T + 1) + t] = v;
        onProgress?.(++done, total);
      }
    }
  } finally {
    env.close();
  }
  return values;
}
