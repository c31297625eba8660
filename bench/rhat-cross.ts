/**
 * One PEBBLE cell's reward model read on another cell's replay buffer, per true-reward bin: does r_hat
 * rank states its own policy never reached (e.g. a door SAC opened to success) above the ones it did?
 * Tells an exploration failure (r_hat right there, never visited) from a reward-model one.
 *   npx tsx bench/rhat-cross.ts results/<suite>/cells/<pebble cell> results/<suite>/cells/<any cell with a checkpoint>
 */
import { join } from 'node:path';
import { initBackend } from '../core/backend.js';
import { ReplayBuffer } from '../agents/replay-buffer.js';
import { loadPebbleCell } from './pebble-cell.js';

await initBackend();
const [pebbleCell, bufferCell] = process.argv.slice(2);
if (!pebbleCell || !bufferCell) throw new Error('usage: npx tsx bench/rhat-cross.ts <PEBBLE cell> <cell whose replay buffer to read>');
const { setup } = await loadPebbleCell(pebbleCell);
const v = ReplayBuffer.load(join(bufferCell, 'checkpoint/replay.bin')).view();
const r = setup.model.predictReward(v.obs.subarray(0, v.size * 39), v.actions.subarray(0, v.size * 4), v.size);
const edges = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10.01];
for (const [name, from] of [['whole buffer', 0], ['last 20000', Math.max(0, v.size - 20000)]] as const) {
  console.log(`${name} of ${bufferCell} (${v.size - from} transitions): true-reward bin -> count, mean r_hat, sd r_hat`);
  for (let b = 0; b + 1 < edges.length; b++) {
    const xs: number[] = [];
    for (let i = from; i < v.size; i++) if (v.trueRewards[i] >= edges[b] && v.trueRewards[i] < edges[b + 1]) xs.push(r[i]);
    if (!xs.length) continue;
    const m = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
    console.log(`  [${edges[b]}, ${edges[b + 1]}) ${String(xs.length).padStart(6)}  ${m.toFixed(3)}  ${sd.toFixed(3)}`);
  }
}
await setup.dispose();
