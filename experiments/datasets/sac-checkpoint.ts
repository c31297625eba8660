/**
 * SAC checkpoints (`pbrl train --algo sac`, i.e. SAC on the true reward) as the two things the CPL
 * reference takes from its oracle SAC run (reference/pbrl.md §4.2):
 *   - a behaviour policy for the rollouts (jhejna/cpl scripts/create_dataset.py: the policy's mean
 *     action plus Gaussian noise, clipped to the action box), and
 *   - the V of its regret labels (scripts/add_pref_labels.py, label key "rl_sum"):
 *       V(s) = mean over M samples a ~ pi(.|s) of the mean over the critic's Q heads of Q(s, a),
 *     M = 64 by default, with no entropy term (the reference leaves -alpha log pi out).
 *
 * Departure: the reference draws fresh actions for every state; here the M standard-normal draws
 * eps_m are drawn once from the dataset's seed and shared by every state (common random numbers), so
 * V(s_H) - V(s_0) carries less sampling noise and labels are reproducible. Same expectation.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { AgentState } from '../../agents/agent.js';
import { SAC } from '../../agents/sac.js';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';

export interface SacCheckpoint {
  sac: SAC;
  /** The agent.json the weights came from (absolute). */
  file: string;
  /** The run's config.json `config` (task, goalObservable, ...), when the run folder has one. */
  runConfig?: Record<string, unknown>;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${what} ${file}: cannot read it (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} ${file}: not valid JSON (${(e as Error).message}); a truncated or corrupt checkpoint?`);
  }
}

/** agent.json of a run folder, its checkpoint/ folder, or the file itself. */
export function resolveSacCheckpointFile(path: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new Error(`SAC checkpoint ${path} does not exist (train one with \`pbrl train --algo sac --task <task> --out <dir>\`)`);
  if (statSync(p).isFile()) return p;
  for (const f of [join(p, 'checkpoint', 'agent.json'), join(p, 'agent.json')]) if (existsSync(f)) return f;
  throw new Error(`SAC checkpoint ${path}: expected a pbrl train run folder (config.json and checkpoint/agent.json), its checkpoint folder, or an agent.json`);
}

/**
 * Loads a SAC agent from a checkpoint for the given env dimensions. Errors name the file: missing,
 * unreadable, corrupt JSON, another algorithm's checkpoint, or weights of another shape.
 */
export async function loadSacCheckpoint(path: string, obsDim: number, actDim: number): Promise<SacCheckpoint> {
  const file = resolveSacCheckpointFile(path);
  const state = readJson(file, 'SAC checkpoint') as Partial<AgentState> | null;
  if (!state || typeof state !== 'object' || typeof state.algo !== 'string' || !state.networks) {
    throw new Error(`SAC checkpoint ${file}: not an agent checkpoint (no "algo" and "networks")`);
  }
  if (state.algo !== 'sac') throw new Error(`SAC checkpoint ${file}: is a "${state.algo}" checkpoint; only SAC checkpoints (pbrl train --algo sac) can be used here`);
  // config.json sits beside checkpoint/ in a run folder.
  const runDir = basename(dirname(file)) === 'checkpoint' ? dirname(dirname(file)) : dirname(file);
  let runConfig: Record<string, unknown> | undefined;
  const cfgPath = join(runDir, 'config.json');
  if (existsSync(cfgPath)) {
    const cfg = readJson(cfgPath, 'SAC run config') as { config?: Record<string, unknown> };
    runConfig = cfg?.config;
    if (runConfig && runConfig.algo !== undefined && runConfig.algo !== 'sac') throw new Error(`SAC checkpoint ${file}: its run ${cfgPath} is a "${String(runConfig.algo)}" run, not SAC on the true reward`);
  }
  // `pbrl dataset make` starts no tensor backend of its own (scripted rollouts need none).
  await initBackend();
  let sac: SAC;
  try {
    sac = new SAC(obsDim, actDim, (state.config ?? {}) as Record<string, unknown>, 0);
  } catch (e) {
    throw new Error(`SAC checkpoint ${file}: ${(e as Error).message}`);
  }
  try {
    await sac.loadState(state as AgentState);
  } catch (e) {
    sac.dispose();
    throw new Error(`SAC checkpoint ${file}: does not fit a ${obsDim}-dim observation, ${actDim}-dim action SAC (${(e as Error).message})`);
  }
  return { sac, file, runConfig };
}

/**
 * Refuses a checkpoint trained on another task or with other observations than the dataset's: its
 * policy and critic would read inputs they never saw. Runs without a config.json are not checked.
 */
export function checkSacRunMatches(ck: SacCheckpoint, task: string, goalObservable: boolean, what: string): void {
  const c = ck.runConfig;
  if (!c) return;
  if (c.task !== undefined && c.task !== task) throw new Error(`${what} ${ck.file}: trained on task "${String(c.task)}", the dataset is for "${task}"`);
  // Run configs from before goalObservable existed showed the goal (train-config.ts).
  const g = c.goalObservable === undefined ? true : Boolean(c.goalObservable);
  if (g !== goalObservable) throw new Error(`${what} ${ck.file}: trained with the goal ${g ? 'observable' : 'hidden'}, the dataset has it ${goalObservable ? 'observable' : 'hidden'} (give --goal-observable to match)`);
}

/** The shared standard-normal draws eps [M, actDim] of sacCriticValues, from a seed. */
export function valueSampleNoise(rng: Rng, samples: number, actDim: number): Float32Array {
  return rng.fillNormal(new Float32Array(samples * actDim)) as Float32Array;
}

/**
 * V(s) for `rows` of an observation array [*, obsDim]: mean over the M draws eps_m of the mean over
 * the critic heads of Q(s, tanh(mu(s) + std(s) eps_m)). Returns one value per requested row.
 */
export function sacCriticValues(sac: SAC, obs: Float32Array, rows: ArrayLike<number>, eps: Float32Array, chunk = 256): Float32Array {
  const od = sac.obsDim;
  const ad = sac.actDim;
  const M = eps.length / ad;
  if (!Number.isInteger(M) || M < 1) throw new Error(`sacCriticValues: eps has ${eps.length} values, not a multiple of actDim ${ad}`);
  const out = new Float32Array(rows.length);
  for (let c0 = 0; c0 < rows.length; c0 += chunk) {
    const n = Math.min(chunk, rows.length - c0);
    const x = new Float32Array(n * M * od);
    const e = new Float32Array(n * M * ad);
    for (let i = 0; i < n; i++) {
      const r = rows[c0 + i];
      const s = obs.subarray(r * od, (r + 1) * od);
      if (s.length !== od) throw new Error(`sacCriticValues: row ${r} is outside the observations`);
      for (let m = 0; m < M; m++) x.set(s, (i * M + m) * od);
      e.set(eps, i * M * ad);
    }
    const v = tf.tidy(() => {
      const o = tf.tensor2d(x, [n * M, od]);
      const { action } = sac.sampleWithLogProb(o, tf.tensor2d(e, [n * M, ad]));
      const q = sac.critic.apply(tf.concat([o, action], 1)); // [heads, n M, 1]
      return tf.mean(tf.reshape(tf.mean(q, 0), [n, M]), 1).dataSync() as Float32Array;
    });
    out.set(v, c0);
  }
  return out;
}
