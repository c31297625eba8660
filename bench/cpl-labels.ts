/**
 * `npx tsx bench/cpl-labels.ts <dataset.pbrlds> [alpha]`: how well CPL's model of the labels can fit
 * them at best. CPL assumes P(A > B) = sigmoid(S_A - S_B) with S = sum_t alpha log pi*(a_t|s_t); with the
 * scripted expert standing in for pi* (deterministic actor: log pi* = -||expert(s) - a||^2), this prints
 * the share of hard-labelled pairs that S orders as the label does, and the share each behaviour source
 * is preferred in. Replays every episode from its seed to query the expert in the recorded states.
 */
import { getTask, makeEnv } from '../envs/registry.js';
import { Rng } from '../core/rng.js';
import { readDataset, datasetEnvSettings, type OfflineDataset } from '../experiments/datasets/format.js';

/** ||expert(s_t) - a_t||^2 for every step [E, T] of a dataset (episodes replayed from their seeds). */
export async function expertSquaredDistances(ds: OfflineDataset): Promise<Float32Array> {
  const d = ds.data;
  const h = ds.header;
  const env = await makeEnv(h.task, { maxPathLength: h.episodeLength, seed: h.seed, goalObservable: datasetEnvSettings(h).goalObservable, version: datasetEnvSettings(h).envVersion });
  const expert = getTask(h.task).scripted(env);
  const T = d.episodeLength;
  const od = d.obsDim;
  const ad = d.actDim;
  const sq = new Float32Array(d.episodes * T);
  const root = new Rng(h.seed);
  for (let e = 0; e < d.episodes; e++) {
    let { obs } = env.reset({ seed: root.split('episode').split(e).nextUint32() });
    for (let t = 0; t < T; t++) {
      const rec = d.obs.subarray((e * (T + 1) + t) * od, (e * (T + 1) + t + 1) * od);
      if (obs.some((x, i) => x !== rec[i])) throw new Error(`episode ${e} diverged at step ${t}`);
      const x = expert(obs);
      let s = 0;
      for (let k = 0; k < ad; k++) s += (Math.max(-1, Math.min(1, x[k])) - d.actions[(e * T + t) * ad + k]) ** 2;
      sq[e * T + t] = s;
      obs = env.step(d.actions.subarray((e * T + t) * ad, (e * T + t + 1) * ad)).obs;
    }
  }
  env.close();
  return sq;
}

/** CPL's score of a segment with pi* = the scripted expert (deterministic actor), up to alpha. */
export function expertScore(ds: OfflineDataset, sq: Float32Array, seg: number): number {
  const d = ds.data;
  let s = 0;
  for (let t = 0; t < d.segmentLength; t++) s -= sq[d.segEpisode[seg] * d.episodeLength + d.segStart[seg] + t];
  return s;
}

async function main(): Promise<void> {
  const ds = readDataset(process.argv[2]);
  const d = ds.data;
  const h = ds.header;
  const sq = await expertSquaredDistances(ds);
  const score = (seg: number) => expertScore(ds, sq, seg);
  let right = 0;
  let hard = 0;
  for (let p = 0; p < d.labels.length; p++) {
    if (d.labels[p] === 0.5) continue;
    hard++;
    if ((score(d.pairA[p]) > score(d.pairB[p])) === (d.labels[p] === 1)) right++;
  }
  console.log(`${process.argv[2]}: teacher ${h.teacher}${h.regretValue ? ` (V: ${h.regretValue.source})` : ''}, ${hard} hard-labelled pairs`);
  console.log(`pairs ordered as labelled by sum -||expert(s) - a||^2 (CPL's score with pi* = the scripted expert): ${(right / hard).toFixed(3)}`);
}

if (process.argv[1]?.endsWith('cpl-labels.ts')) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
