/**
 * r_hat against the true reward, binned: for a PEBBLE cell's final checkpoint, the mean r_hat of the
 * replay buffer's transitions per true-reward bin (over the whole buffer and over the last 5000). Shows
 * whether the states Meta-World pays most for (e.g. the button held pressed) are also r_hat's highest.
 *   npx tsx bench/rhat-bins.ts results/<suite>/cells/<pebble cell>
 */
import { initBackend } from '../core/backend.js';
import { loadPebbleCell, printRhatByTrueReward } from './pebble-cell.js';
await initBackend();
const cell = process.argv[2];
if (!cell) throw new Error('usage: npx tsx bench/rhat-bins.ts <PEBBLE cell or run directory with a checkpoint/>');
const { setup, view: v } = await loadPebbleCell(cell);
const r = setup.model.predictReward(v.obs.subarray(0, v.size * 39), v.actions.subarray(0, v.size * 4), v.size);
printRhatByTrueReward(r, v.trueRewards, [['whole buffer', 0, v.size], ['last 5000', Math.max(0, v.size - 5000), v.size]], [0, 1, 2, 4, 6, 8, 9, 10.01]);
await setup.dispose();
