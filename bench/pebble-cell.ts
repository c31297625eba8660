/**
 * A finished PEBBLE cell (or run) directory's checkpoint, loaded for the r_hat diagnostics in bench/:
 * the agent, PEBBLE's setup with its reward model and learner state, and the replay buffer's view.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAC } from '../agents/sac.js';
import { ReplayBuffer } from '../agents/replay-buffer.js';
import { setupPebble } from '../experiments/pebble-setup.js';
import { parseTrainConfig } from '../experiments/train-config.js';

export async function loadPebbleCell(cell: string) {
  const cfg = parseTrainConfig(JSON.parse(readFileSync(join(cell, 'config.json'), 'utf8')).config);
  const agent = new SAC(39, 4, cfg.sac, cfg.seed);
  await agent.loadState(JSON.parse(readFileSync(join(cell, 'checkpoint/agent.json'), 'utf8')));
  const setup = await setupPebble(cfg, agent);
  await setup.pebble.setState(JSON.parse(readFileSync(join(cell, 'checkpoint/extra.json'), 'utf8')));
  const view = ReplayBuffer.load(join(cell, 'checkpoint/replay.bin')).view();
  return { cfg, agent, setup, view };
}

/**
 * Prints, for each window [from, size) of a buffer, the count, mean and sd of r_hat per bin of the true
 * reward (edges ascending; empty bins left out).
 */
export function printRhatByTrueReward(rhat: Float32Array, trueRewards: Float32Array, windows: [string, number, number][], edges: number[]): void {
  for (const [name, from, to] of windows) {
    console.log(`${name} (${to - from} transitions): true-reward bin -> count, mean r_hat, sd r_hat`);
    for (let b = 0; b + 1 < edges.length; b++) {
      const xs: number[] = [];
      for (let i = from; i < to; i++) if (trueRewards[i] >= edges[b] && trueRewards[i] < edges[b + 1]) xs.push(rhat[i]);
      if (!xs.length) continue;
      const m = xs.reduce((a, x) => a + x, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
      console.log(`  [${edges[b]}, ${edges[b + 1]}) ${String(xs.length).padStart(6)}  ${m.toFixed(3)}  ${sd.toFixed(3)}`);
    }
  }
}
