/**
 * `npx tsx bench/cpl-trace.ts [--dataset f] [--bc-coeff x] [--bias l] [--steps N] [--teacher spec] [--seed s] [--eval-every n]`:
 * one CPL run at the reduced settings (button-press, dense, 60 rollouts x 200 steps, 300 segments x
 * 16 partners, H 64, 64 x 64, 32 pairs, lr 1e-4, BC 0.4 of the run, warm-up steps / 50), tracing
 * what the contrastive phase does to the policy: success, pair accuracy, mean score of the preferred
 * and the other segment, MSE to the dataset actions, MSE to the scripted expert's actions on dataset
 * states, and the share of saturated action components (|mu| > 0.99). Written to find why CPL's
 * success collapsed after the BC -> CPL switch at this scale (issue 13). `--relabel expert` replaces
 * the labels by the ones CPL's model explains exactly (pi* = the scripted expert), as a control;
 * `--relabel discounted-regret` by sum_t gamma^t r_t + gamma^H V(s_H) - V(s_0) (V: expert rollouts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../core/backend.js';
import { Rng } from '../core/rng.js';
import { allocPairBatch, PairSampler } from '../agents/offline/data.js';
import { CPL } from '../agents/offline/cpl.js';
import { squaredErrorLogLik } from '../agents/offline/common.js';
import { getTask, makeEnv } from '../envs/registry.js';
import { makeDataset } from '../experiments/datasets/make.js';
import { expertValues } from '../experiments/datasets/expert-value.js';
import { readDataset, writeDataset, type OfflineDataset } from '../experiments/datasets/format.js';
import { evaluate } from '../experiments/online-runner.js';
import { PROJECT_ROOT } from '../experiments/versions.js';
import { expertScore, expertSquaredDistances } from './cpl-labels.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

async function main(): Promise<void> {
  await initBackend();
  const task = arg('task', 'button-press');
  const teacher = arg('teacher', 'regret');
  const steps = Number(arg('steps', '3000'));
  const seed = Number(arg('seed', '0'));
  const evalEvery = Number(arg('eval-every', '250'));
  const bcCoeff = Number(arg('bc-coeff', '0'));
  const bias = Number(arg('bias', '0.5'));
  const alpha = Number(arg('alpha', '0.1'));
  const dir = join(PROJECT_ROOT, 'bench-results', 'offline', 'datasets');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `trace-${task}-dense-e60-t200-h64-n300-k16-${teacher.replace(/[^a-z0-9=.]+/gi, '_')}.pbrlds`);
  let ds: OfflineDataset;
  const given = arg('dataset', '');
  if (given) ds = readDataset(given);
  else if (existsSync(file)) ds = readDataset(file);
  else {
    const t0 = performance.now();
    ds = await makeDataset({ task, kind: 'dense', teacher, episodes: 60, maxPathLength: 200, segmentLength: 64, segments: 300, pairsPerSegment: 16, seed: 0 });
    writeDataset(file, ds);
    console.log(`dataset in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const sq = await expertSquaredDistances(ds);
  const relabel = arg('relabel', '');
  if (relabel === 'expert') {
    // Labels CPL's model can explain: the segment the scripted expert's likelihood scores higher wins.
    const labels = Float32Array.from(ds.data.labels, (_, p) => (expertScore(ds, sq, ds.data.pairA[p]) >= expertScore(ds, sq, ds.data.pairB[p]) ? 1 : 0));
    ds = { ...ds, data: { ...ds.data, labels } };
    console.log('labels replaced: the segment with the higher sum -||expert(s) - a||^2 is preferred');
  } else if (relabel === 'discounted-regret') {
    // sum_t gamma^t r_t + gamma^H V(s_H) - V(s_0) = sum_t gamma^t A(s_t, a_t) exactly, where the reference's
    // rl_sum (sum_t r_t + V(s_H) - V(s_0)) leaves out -(1 - gamma) sum_t V(s_t). V: the maker's expert rollouts.
    const d0 = ds.data;
    const T0 = d0.episodeLength;
    const H0 = d0.segmentLength;
    const rows: number[] = [];
    for (let i = 0; i < d0.segEpisode.length; i++) rows.push(d0.segEpisode[i] * (T0 + 1) + d0.segStart[i], d0.segEpisode[i] * (T0 + 1) + d0.segStart[i] + H0);
    const seeds = Array.from({ length: d0.episodes }, (_, e) => new Rng(ds.header.seed).split('episode').split(e).nextUint32());
    const V = await expertValues(task, seeds, d0.obs, d0.actions, T0, rows, { gamma: 0.99, horizon: 200, goalObservable: false });
    const score = (i: number) => {
      let r = 0;
      for (let t = 0; t < H0; t++) r += 0.99 ** t * d0.rewards[d0.segEpisode[i] * T0 + d0.segStart[i] + t];
      return r + 0.99 ** H0 * V[rows[2 * i + 1]] - V[rows[2 * i]];
    };
    const labels = Float32Array.from(d0.labels, (_, p) => (score(d0.pairA[p]) >= score(d0.pairB[p]) ? 1 : 0));
    let same = 0;
    for (let p = 0; p < labels.length; p++) if (labels[p] === d0.labels[p]) same++;
    console.log(`labels replaced by discounted regret (agree with the dataset's labels on ${(same / labels.length).toFixed(3)} of pairs)`);
    ds = { ...ds, data: { ...d0, labels } };
  }
  {
    let right = 0;
    let hard = 0;
    for (let p = 0; p < ds.data.labels.length; p++) {
      if (ds.data.labels[p] === 0.5) continue;
      hard++;
      if ((expertScore(ds, sq, ds.data.pairA[p]) > expertScore(ds, sq, ds.data.pairB[p])) === (ds.data.labels[p] === 1)) right++;
    }
    console.log(`labels ordered as the scripted expert's likelihood orders them: ${(right / hard).toFixed(3)} of ${hard} pairs`);
  }
  const d = ds.data;
  console.log(`sources: ${ds.header.sources.map((s) => `${s.policy}:${s.noise} success ${s.successRate.toFixed(2)}`).join(', ')}`);
  // Which noise level wins its comparisons: per source, the share of pairs its segment is preferred in.
  const wins = new Map<number, [number, number]>();
  for (let p = 0; p < d.labels.length; p++) {
    for (const [seg, y] of [[d.pairA[p], d.labels[p]], [d.pairB[p], 1 - d.labels[p]]] as const) {
      const src = ds.episodeSource[d.segEpisode[seg]];
      const w = wins.get(src) ?? [0, 0];
      w[0] += y;
      w[1] += 1;
      wins.set(src, w);
    }
  }
  console.log(`preferred share by source: ${[...wins].sort((a, b) => a[0] - b[0]).map(([s, [w, n]]) => `${ds.header.sources[s].noise}: ${(w / n).toFixed(2)}`).join(', ')}`);

  // Fixed probe states: every dataset state of 20 episodes, with the scripted expert's action there.
  const env = await makeEnv(task, { maxPathLength: 200, seed: 0, goalObservable: false });
  const expert = getTask(task).scripted(env);
  const T = d.episodeLength;
  const od = d.obsDim;
  const ad = d.actDim;
  const probeRows: number[] = [];
  for (let e = 0; e < Math.min(20, d.episodes); e++) for (let t = 0; t < T; t += 5) probeRows.push(e * (T + 1) + t);
  const probeObs = new Float32Array(probeRows.length * od);
  const expertAct = new Float32Array(probeRows.length * ad);
  // The expert reads the goal from the env: replay each episode to set it (reset with the episode's seed is not stored; use reset per episode index as the maker did).
  const root = new Rng(0);
  let k = 0;
  for (let e = 0; e < Math.min(20, d.episodes); e++) {
    const epSeed = root.split('episode').split(e).nextUint32();
    let { obs } = env.reset({ seed: epSeed });
    for (let t = 0; t < T; t++) {
      if (t % 5 === 0) {
        probeObs.set(d.obs.subarray((e * (T + 1) + t) * od, (e * (T + 1) + t + 1) * od), k * od);
        expertAct.set(Float32Array.from(expert(d.obs.subarray((e * (T + 1) + t) * od, (e * (T + 1) + t + 1) * od))).map((x) => Math.max(-1, Math.min(1, x))), k * ad);
        k++;
      }
      obs = env.step(d.actions.subarray((e * T + t) * ad, (e * T + t + 1) * ad)).obs;
    }
    void obs;
  }
  // --bc-share 1: BC for the whole run (the BC baseline on the same data and schedule).
  const bcSteps = Math.round(Number(arg('bc-share', '0.4')) * steps);
  const agent = new CPL(od, ad, { hiddenDims: [64, 64], lr: 1e-4, warmupSteps: Math.floor(steps / 50), bcSteps, bcCoeff, contrastiveBias: bias, alpha }, seed);
  const sampler = new PairSampler(d);
  const rng = new Rng(seed).split('pair-sampling');
  const batch = allocPairBatch(32, d.segmentLength, od, ad);
  const evalEnv = await makeEnv(task, { maxPathLength: 200, seed, goalObservable: false });
  const probeBatch = allocPairBatch(256, d.segmentLength, od, ad);
  const probeRng = new Rng(99);
  sampler.sample(probeRng, probeBatch);
  console.log(`CPL alpha ${alpha} bias ${bias} bcCoeff ${bcCoeff}, ${steps} steps, BC until ${bcSteps}, seed ${seed}, teacher ${teacher}`);
  console.log('step  success  pair_acc  S_pref  S_other  mse_pref  mse_other  mse_expert  saturated');
  let acc = 0;
  let nAcc = 0;
  for (let s = 0; s < steps; s++) {
    const m = agent.update(sampler.sample(rng, batch), s);
    if (m.cpl_accuracy !== undefined) {
      acc += m.cpl_accuracy;
      nAcc++;
    }
    if ((s + 1) % evalEvery === 0) {
      const ev = await evaluate(agent, evalEnv, 10, seed);
      const P = probeBatch.pairs;
      const L = probeBatch.segmentLength;
      const stats = tf.tidy(() => {
        const mu = agent.actor.apply(tf.tensor2d(probeBatch.obs, [probeBatch.size, od]));
        const ll = tf.reshape(squaredErrorLogLik(mu, tf.tensor2d(probeBatch.actions, [probeBatch.size, ad])), [P, 2, L]).arraySync() as number[][][];
        const muE = agent.actor.apply(tf.tensor2d(probeObs, [probeRows.length, od]));
        const mseE = tf.mean(tf.sum(tf.square(tf.sub(muE, tf.tensor2d(expertAct, [probeRows.length, ad]))), 1)).dataSync()[0];
        const sat = tf.mean(tf.cast(tf.greater(tf.abs(mu), 0.99), 'float32')).dataSync()[0];
        return { ll, mseE, sat };
      });
      let sp = 0, so = 0, np = 0;
      for (let p = 0; p < P; p++) {
        const y = probeBatch.labels[p];
        if (y === 0.5) continue;
        const sa = stats.ll[p][0].reduce((a, b) => a + b, 0);
        const sb = stats.ll[p][1].reduce((a, b) => a + b, 0);
        sp += y === 1 ? sa : sb;
        so += y === 1 ? sb : sa;
        np++;
      }
      console.log(`${s + 1}  ${ev.successRate.toFixed(2)}  ${nAcc ? (acc / nAcc).toFixed(2) : '-'}  ${(alpha * sp / np).toFixed(2)}  ${(alpha * so / np).toFixed(2)}  ${(-sp / np / L).toFixed(3)}  ${(-so / np / L).toFixed(3)}  ${stats.mseE.toFixed(3)}  ${stats.sat.toFixed(2)}`);
      acc = 0;
      nAcc = 0;
    }
  }
  agent.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
