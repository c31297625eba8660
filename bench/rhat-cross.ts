/**
 * One PEBBLE cell's reward model read on another cell's replay buffer, per true-reward bin: does r_hat
 * rank states its own policy never reached (e.g. a door SAC opened to success) above the ones it did?
 * Tells an exploration failure (r_hat right there, never visited) from a reward-model one.
 *   npx tsx bench/rhat-cross.ts results/<suite>/cells/<pebble cell> results/<suite>/cells/<any cell with a checkpoint>
 */
import { join } from 'node:path';
import { initBackend } from '../core/backend.js';
import { ReplayBuffer } from '../agents/replay-buffer.js';
import { loadPebbleCell, printRhatByTrueReward } from './pebble-cell.js';

await initBackend();
const [pebbleCell, bufferCell] = process.argv.slice(2);
if (!pebbleCell || !bufferCell) throw new Error('usage: npx tsx bench/rhat-cross.ts <PEBBLE cell> <cell whose replay buffer to read>');
const { setup } = await loadPebbleCell(pebbleCell);
const v = ReplayBuffer.load(join(bufferCell, 'checkpoint/replay.bin')).view();
const r = setup.model.predictReward(v.obs.subarray(0, v.size * 39), v.actions.subarray(0, v.size * 4), v.size);
printRhatByTrueReward(r, v.trueRewards, [[`whole buffer of ${bufferCell}`, 0, v.size], ['last 20000', Math.max(0, v.size - 20000), v.size]], [0, 1, 2, 4, 5, 6, 7, 8, 9, 10.01]);
await setup.dispose();
