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
