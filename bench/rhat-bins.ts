/**
 * r_hat against the true reward, binned: for a PEBBLE cell's final checkpoint, the mean r_hat of the
 * replay buffer's transitions per true-reward bin (over the whole buffer and over the last 5000). Shows
 * whether the states Meta-World pays most for (e.g. the button held pressed) are also r_hat's highest.
 *   npx tsx bench/rhat-bins.ts results/<suite>/cells/<pebble cell>
 */
import { initBackend } from '../core/backend.js';
import { loadPebbleCell } from './pebble-cell.js';
await initBackend();
const cell = process.argv[2];
if (!cell) throw new Error('usage: npx tsx bench/rhat-bins.ts <PEBBLE cell or run directory with a checkpoint/>');
const { setup, view: v } = await loadPebbleCell(cell);
const r = setup.model.predictReward(v.obs.subarray(0, v.size * 39), v.actions.subarray(0, v.size * 4), v.size);
const edges = [0, 1, 2, 4, 6, 8, 9, 10.01];
for (const [name, from] of [['whole buffer', 0], ['last 5000', Math.max(0, v.size - 5000)]] as const) {
  console.log(`${name} (${v.size - from} transitions): true-reward bin -> count, mean r_hat, sd r_hat`);
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
