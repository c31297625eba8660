/**
 * `npx tsx bench/offline-reward-recovery.ts <cell dir>...`: how well the reward model of finished
 * rbrl-iql / P-IQL bench cells recovers the true reward on their own dataset: Pearson and Spearman
 * correlation of r_psi(s, a) with the env reward over every transition, and of the 64-step segment
 * sums over the dataset's segments. Written to see why rbrl-iql trails P-IQL in rbrl-offline-small
 * (issue 17). Each cell's config.json names its dataset (relative to the results folder).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { initBackend } from '../core/backend.js';
import { makeOfflineAgent, type IQL } from '../agents/offline/index.js';
import { pearson, spearman } from '../agents/pebble-diagnostics.js';
import { readDataset } from '../experiments/datasets/format.js';

async function main(): Promise<void> {
  await initBackend();
  const cells = process.argv.slice(2);
  if (!cells.length) throw new Error('usage: npx tsx bench/offline-reward-recovery.ts <bench cell dir>...');
  console.log('cell  step-pearson  step-spearman  segment-pearson  segment-spearman');
  for (const cell of cells) {
    const cfg = (JSON.parse(readFileSync(join(cell, 'config.json'), 'utf8')) as { config: { algo: string; dataset: string; agent: Record<string, unknown>; seed: number } }).config;
    // Cells live at <results>/cells/<id>; their dataset path is relative to <results>.
    const ds = readDataset(resolve(dirname(dirname(resolve(cell))), cfg.dataset));
    const d = ds.data;
    const agent = makeOfflineAgent(cfg.algo, d.obsDim, d.actDim, cfg.agent, cfg.seed) as IQL;
    await agent.loadState(JSON.parse(readFileSync(join(cell, 'checkpoint', 'agent.json'), 'utf8')));
    // Every step of every episode: obs rows skip each episode's final observation.
    const E = d.episodes;
    const T = d.episodeLength;
    const obs = new Float32Array(E * T * d.obsDim);
    for (let e = 0; e < E; e++) obs.set(d.obs.subarray(e * (T + 1) * d.obsDim, (e * (T + 1) + T) * d.obsDim), e * T * d.obsDim);
    const r = agent.predictReward(obs, d.actions, E * T);
    const H = d.segmentLength;
    const segSum = (x: ArrayLike<number>, s: number) => {
      let v = 0;
      for (let t = 0; t < H; t++) v += x[d.segEpisode[s] * T + d.segStart[s] + t];
      return v;
    };
    const N = d.segEpisode.length;
    const predSeg = Float64Array.from({ length: N }, (_, s) => segSum(r, s));
    const trueSeg = Float64Array.from({ length: N }, (_, s) => segSum(d.rewards, s));
    console.log(`${cell.split('/').pop()}  ${pearson(r, d.rewards).toFixed(3)}  ${spearman(r, d.rewards).toFixed(3)}  ${pearson(predSeg, trueSeg).toFixed(3)}  ${spearman(predSeg, trueSeg).toFixed(3)}`);
    agent.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
