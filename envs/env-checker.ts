/**
 * A Gymnasium-style env checker: resets and steps an env with random actions and reports every
 * contract it breaks (spaces, shapes, bounds, finiteness, info keys, truncation, determinism).
 * Returns a list of problems; empty means the env passed.
 */
import { Rng } from '../core/rng.js';
import { INFO_KEYS, OBS_DIM, ACT_DIM, type SawyerEnv } from './sawyer-env.js';

export function checkEnv(env: SawyerEnv, opts: { steps?: number; seed?: number } = {}): string[] {
  const steps = opts.steps ?? 60;
  const seed = opts.seed ?? 0;
  const problems: string[] = [];
  const fail = (m: string) => problems.push(`${env.name}: ${m}`);
  if (env.observationSpace.size !== OBS_DIM) fail(`observationSpace has ${env.observationSpace.size} dims, expected ${OBS_DIM}`);
  if (env.actionSpace.size !== ACT_DIM) fail(`actionSpace has ${env.actionSpace.size} dims, expected ${ACT_DIM}`);
  for (let i = 0; i < ACT_DIM; i++) {
    if (env.actionSpace.low[i] !== -1 || env.actionSpace.high[i] !== 1) fail(`actionSpace[${i}] is not [-1, 1]`);
  }
  const checkObs = (o: Float32Array, where: string) => {
    if (!(o instanceof Float32Array)) fail(`${where}: obs is not a Float32Array`);
    if (o.length !== OBS_DIM) fail(`${where}: obs has length ${o.length}`);
    for (let i = 0; i < o.length; i++) if (!Number.isFinite(o[i])) fail(`${where}: obs[${i}] = ${o[i]}`);
    if (!env.observationSpace.contains(o, 1e-6)) {
      const bad = Array.from(o).findIndex((x, i) => x < env.observationSpace.low[i] - 1e-6 || x > env.observationSpace.high[i] + 1e-6);
      fail(`${where}: obs[${bad}] = ${o[bad]} outside [${env.observationSpace.low[bad]}, ${env.observationSpace.high[bad]}]`);
    }
  };
  const r0 = env.reset({ seed });
  checkObs(r0.obs, 'reset');
  if (typeof r0.info !== 'object' || r0.info === null) fail('reset info is not an object');
  for (let i = 0; i < 18; i++) if (r0.obs[18 + i] !== r0.obs[i]) fail(`reset: previous-frame obs[${18 + i}] differs from obs[${i}]`);
  const rng = new Rng(seed).split('checker');
  const first: number[] = [];
  for (let t = 0; t < steps; t++) {
    const a = env.actionSpace.sample(rng);
    const r = env.step(a);
    checkObs(r.obs, `step ${t}`);
    if (typeof r.reward !== 'number' || !Number.isFinite(r.reward)) fail(`step ${t}: reward ${r.reward}`);
    if (r.reward < 0 || r.reward > 10 + 1e-9) fail(`step ${t}: reward ${r.reward} outside Meta-World's [0, 10]`);
    if (typeof r.terminated !== 'boolean' || typeof r.truncated !== 'boolean') fail(`step ${t}: terminated/truncated not booleans`);
    for (const k of INFO_KEYS) {
      if (typeof r.info[k] !== 'number' || !Number.isFinite(r.info[k])) fail(`step ${t}: info.${k} = ${r.info[k]}`);
    }
    if (r.info.success !== 0 && r.info.success !== 1) fail(`step ${t}: info.success = ${r.info.success}`);
    if (r.truncated !== (t + 1 >= env.maxPathLength)) fail(`step ${t}: truncated = ${r.truncated} with maxPathLength ${env.maxPathLength}`);
    first.push(r.reward, ...r.obs.subarray(0, 7));
    if (r.truncated) break;
  }
  // Same seed => same numbers.
  env.reset({ seed });
  const rng2 = new Rng(seed).split('checker');
  const again: number[] = [];
  for (let t = 0; t < first.length / 8; t++) {
    const r = env.step(env.actionSpace.sample(rng2));
    again.push(r.reward, ...r.obs.subarray(0, 7));
  }
  if (again.some((x, i) => x !== first[i])) fail('rerun with the same seed and actions gave different numbers');
  return problems;
}
