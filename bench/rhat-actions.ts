/**
 * How much of a learned reward a policy can get from its choice of action alone. For a PEBBLE cell (or
 * run) directory with a checkpoint: r_hat at the last 2000 buffer states with the buffer's actions,
 * the policy's mean actions and uniform random ones. Meta-World's reward depends on the action only
 * through the next state, so a large gap is r_hat paying for actions.
 *   npx tsx bench/rhat-actions.ts results/pebble-bpref-small/cells/<pebble cell>
 */
import { initBackend } from '../core/backend.js';
import { Rng } from '../core/rng.js';
import { loadPebbleCell } from './pebble-cell.js';
await initBackend();
const cell = process.argv[2];
if (!cell) throw new Error('usage: npx tsx bench/rhat-actions.ts <PEBBLE cell or run directory with a checkpoint/>');
const { agent, setup, view: v } = await loadPebbleCell(cell);
const n = 2000;
const from = v.size - n;
const obs = v.obs.slice(from * 39, v.size * 39);
const actB = v.actions.slice(from * 4, v.size * 4);
const actPi = agent.act(obs, n, true);
const rng = new Rng(5);
const actR = new Float32Array(n * 4).map(() => rng.range(-1, 1));
const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / a.length;
const rB = setup.model.predictReward(obs, actB, n);
const rPi = setup.model.predictReward(obs, actPi, n);
const rR = setup.model.predictReward(obs, actR, n);
console.log(`step ${v.size}: r_hat(s, a_buffer) ${mean(rB).toFixed(3)}  r_hat(s, pi(s)) ${mean(rPi).toFixed(3)}  r_hat(s, random a) ${mean(rR).toFixed(3)}  true r(s,a_buffer) ${mean(v.trueRewards.slice(from)).toFixed(3)}`);
// How much of r_hat's spread over these states is the action's doing: spread over actions at fixed states vs over states.
let within = 0;
for (let i = 0; i < n; i++) within += Math.abs(rPi[i] - rR[i]);
const sd = (a: Float32Array) => { const m = mean(a); return Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / a.length); };
console.log(`mean |r_hat(s,pi) - r_hat(s,rand)| ${(within / n).toFixed(3)}; sd over states of r_hat(s,a_buffer) ${sd(rB).toFixed(3)}`);
const abs = (a: Float32Array) => a.reduce((x, y) => x + Math.abs(y), 0) / a.length;
console.log(`mean |a|: buffer ${abs(actB).toFixed(3)} pi ${abs(actPi).toFixed(3)}`);
await setup.dispose();
