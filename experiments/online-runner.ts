/**
 * The online training loop shared by agents that learn from interaction (SAC now; PEBBLE plugs its
 * reward learning into the hooks): collect with the agent, store in the replay buffer, update, evaluate
 * every N steps, write metrics, checkpoint, and resume exactly.
 *
 * Checkpoints are taken at episode boundaries: the env is then reset with a seed derived from
 * (run seed, episode index), so no physics state has to be saved and a resumed run replays the same
 * numbers as an uninterrupted one (same seed, same backend).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Rng } from '../core/rng.js';
import { writeFileAtomic } from '../core/serialize.js';
import type { Agent, AgentState } from '../agents/agent.js';
import { allocBatch, Batch, ReplayBuffer } from '../agents/replay-buffer.js';
import type { Trajectory } from '../core/types.js';
import { makeEnv } from '../envs/registry.js';
import type { EnvVersion, SawyerEnv, StepResult } from '../envs/sawyer-env.js';
import { EpisodeRecorder } from '../envs/recorder.js';
import { RunDir } from './run-files.js';

export interface OnlineRunConfig {
  task: string;
  steps: number;
  seed: number;
  evalEvery: number;
  evalEpisodes: number;
  /** Uniform-random actions before the first update (PEBBLE: 1000). */
  seedSteps: number;
  batchSize: number;
  bufferCapacity: number;
  checkpointEvery: number;
  maxPathLength: number;
  /** Goal shown in obs[36:39] (default false, Meta-World's raw tasks / B-Pref). */
  goalObservable?: boolean;
  /** Meta-World version to match (default 'v2'). */
  envVersion?: EnvVersion;
  /** Print a progress bar (TTY) or a line per evaluation. */
  progress: boolean;
  /**
   * Rollout worker processes (remote/workers.ts). 0: one env stepped in this process. N > 0: N envs,
   * one per worker, stepped while this process runs the N gradient updates of the previous step
   * (so the updates see transitions one step late). Same seed and worker count => same run.
   */
  workers?: number;
}

export interface EvalResult {
  successRate: number;
  meanReturn: number;
  episodes: number;
}

interface TrainerState {
  step: number;
  episode: number;
  updates: number;
  nextEval: number;
  nextCheckpoint: number;
  sampleRng: ReturnType<Rng['getState']>;
  actionRng: ReturnType<Rng['getState']>;
  lastEval: EvalResult | null;
}

/** Seed of training episode k: independent of evaluation seeds and of other runs' seeds. */
function episodeSeed(runSeed: number, k: number): number {
  return new Rng(runSeed).split('train-episode').split(k).nextUint32();
}

/** Evaluation uses the same fixed episode seeds every time, so points on a curve are comparable. */
export function evalSeed(runSeed: number, k: number): number {
  return new Rng(runSeed).split('eval-episode').split(k).nextUint32();
}

export async function evaluate(agent: Agent, env: SawyerEnv, episodes: number, runSeed: number): Promise<EvalResult> {
  let successes = 0;
  let totalReturn = 0;
  for (let k = 0; k < episodes; k++) {
    let { obs } = env.reset({ seed: evalSeed(runSeed, k) });
    let ret = 0;
    let success = false;
    for (;;) {
      const a = agent.act(obs, 1, true);
      const r = env.step(a);
      ret += r.reward;
      if (r.info.success) success = true;
      obs = r.obs;
      if (r.terminated || r.truncated) break;
    }
    if (success) successes++;
    totalReturn += ret;
  }
  return { successRate: successes / episodes, meanReturn: totalReturn / episodes, episodes };
}

export interface RunHooks {
  /** Reward stored for training (default: the env's). PEBBLE stores the learned reward. */
  trainingReward?: (obs: Float32Array, action: Float32Array, nextObs: Float32Array, envReward: number) => number;
  /** May rewrite batch.rewards before an update (PEBBLE's intrinsic reward during pre-training). */
  beforeUpdate?: (batch: Batch, ctx: { step: number; buffer: ReplayBuffer }) => void;
  /** Called after every env step (e.g. PEBBLE's feedback schedule); may relabel the buffer. */
  afterStep?: (ctx: { step: number; buffer: ReplayBuffer }) => Promise<Record<string, number> | void>;
  /** Receives each finished training episode (PEBBLE's pool of segments to query). */
  onEpisodeEnd?: (traj: Trajectory, episode: number) => void;
  /** Record body poses in those episodes (needed when people label their segments). */
  recordPoses?: boolean;
  /** `info` keys recorded per step into those episodes' factors (HERON's teacher; in-process stepping only). */
  recordFactors?: readonly string[];
  /** Extra state for checkpoints (e.g. reward model, labels) and its restore on --resume. */
  saveState?: () => Promise<unknown>;
  loadState?: (state: unknown) => Promise<void>;
}

/** One step of all envs the runner drives. nextObs holds each env's final observation where it ended. */
interface CollectedStep {
  obs: Float32Array;
  nextObs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  success: Uint8Array;
  ended: boolean;
  /** The in-process step result (for the episode recorder). */
  single?: StepResult;
}

interface Collector {
  reset(seed: number): Promise<Float32Array>;
  /** `during` runs while the envs step (the workers' overlap); null when stepping is synchronous. */
  step(actions: Float32Array, during: (() => void) | null): Promise<CollectedStep>;
  close(): Promise<void>;
}

function inProcessCollector(env: SawyerEnv): Collector {
  return {
    reset: async (seed) => env.reset({ seed }).obs,
    step: async (actions, during) => {
      const r = env.step(actions);
      during?.();
      return {
        obs: r.obs, nextObs: r.obs, rewards: Float32Array.of(r.reward), terminated: Uint8Array.of(r.terminated ? 1 : 0),
        success: Uint8Array.of(r.info.success ? 1 : 0), ended: r.terminated || r.truncated, single: r,
      };
    },
    close: async () => {},
  };
}

async function workerCollector(cfg: OnlineRunConfig, n: number): Promise<Collector> {
  const { RolloutWorkers } = await import('../remote/workers.js');
  const pool = await RolloutWorkers.start({
    task: cfg.task, numEnvs: n, workers: n, seed: cfg.seed, maxPathLength: cfg.maxPathLength,
    goalObservable: cfg.goalObservable ?? false, version: cfg.envVersion,
  });
  const obsDim = 39;
  return {
    // Env i of episode round k starts from seed episodeSeed(k) + i.
    reset: (seed) => pool.reset(seed),
    step: async (actions, during) => {
      const pending = pool.step(actions); // requests are on the wire before this returns
      during?.();
      const r = await pending;
      const nextObs = Float32Array.from(r.obs);
      r.finalObs.forEach((f, i) => {
        if (f) nextObs.set(f, i * obsDim);
      });
      let ended = true;
      for (let i = 0; i < n; i++) if (!(r.terminated[i] || r.truncated[i])) ended = false;
      return { obs: r.obs, nextObs, rewards: r.rewards, terminated: r.terminated, success: r.success, ended };
    },
    close: () => pool.close(),
  };
}

/** Builds a Trajectory from a remote env's steps (no poses: workers do not send them here). */
function newEpisode(first: Float32Array) {
  const obs: number[] = Array.from(first);
  const actions: number[] = [];
  const rewards: number[] = [];
  const success: number[] = [];
  return {
    add(a: Float32Array, next: Float32Array, r: number, s: number) {
      for (const x of a) actions.push(x);
      for (const x of next) obs.push(x);
      rewards.push(r);
      success.push(s);
    },
    finish(task: string, seed: number, obsDim: number, actDim: number): Trajectory {
      return {
        task, seed, obsDim, actDim, length: rewards.length, obs: Float32Array.from(obs), actions: Float32Array.from(actions),
        rewards: Float32Array.from(rewards), success: Uint8Array.from(success), terminated: false, truncated: true,
      };
    },
  };
}

export async function runOnline(agent: Agent, cfg: OnlineRunConfig, run: RunDir, resume: boolean, hooks: RunHooks = {}): Promise<EvalResult | null> {
  const envOpts = { maxPathLength: cfg.maxPathLength, seed: cfg.seed, goalObservable: cfg.goalObservable ?? false, version: cfg.envVersion };
  const env = await makeEnv(cfg.task, envOpts);
  const evalEnv = await makeEnv(cfg.task, envOpts);
  const obsDim = env.observationSpace.size;
  const actDim = env.actionSpace.size;
  let buffer = new ReplayBuffer(Math.min(cfg.bufferCapacity, cfg.steps), obsDim, actDim);
  const root = new Rng(cfg.seed);
  let sampleRng = root.split('replay-sampling');
  let actionRng = root.split('seed-actions');
  let state: TrainerState = {
    step: 0, episode: 0, updates: 0, nextEval: cfg.evalEvery, nextCheckpoint: cfg.checkpointEvery,
    sampleRng: sampleRng.getState(), actionRng: actionRng.getState(), lastEval: null,
  };

  const ckpt = run.checkpointDir;
  if (resume) {
    if (!existsSync(join(ckpt, 'trainer.json'))) throw new Error(`--resume: no checkpoint in ${ckpt}`);
    state = JSON.parse(readFileSync(join(ckpt, 'trainer.json'), 'utf8'));
    await agent.loadState(JSON.parse(readFileSync(join(ckpt, 'agent.json'), 'utf8')) as AgentState);
    const saved = ReplayBuffer.load(join(ckpt, 'replay.bin'));
    // The buffer is sized min(capacity, steps); a resumed run may have a larger step budget.
    buffer = saved.capacity === buffer.capacity ? saved : saved.withCapacity(buffer.capacity);
    if (hooks.loadState) {
      const p = join(ckpt, 'extra.json');
      if (!existsSync(p)) throw new Error(`--resume: ${p} is missing (checkpoint written by another algorithm?)`);
      await hooks.loadState(JSON.parse(readFileSync(p, 'utf8')));
    }
    sampleRng = Rng.fromState(state.sampleRng);
    actionRng = Rng.fromState(state.actionRng);
    if (cfg.progress) console.log(`resumed from step ${state.step} (episode ${state.episode})`);
  }

  const saveCheckpoint = async () => {
    state.sampleRng = sampleRng.getState();
    state.actionRng = actionRng.getState();
    // Agent and buffer first, trainer.json last: its presence marks a complete checkpoint.
    writeFileAtomic(join(ckpt, 'agent.json'), JSON.stringify(await agent.saveState()));
    buffer.save(join(ckpt, 'replay.bin'));
    if (hooks.saveState) writeFileAtomic(join(ckpt, 'extra.json'), JSON.stringify(await hooks.saveState()));
    writeFileAtomic(join(ckpt, 'trainer.json'), JSON.stringify(state));
  };

  const batch = allocBatch(cfg.batchSize, obsDim, actDim);
  // Episodes for the reward learner; body poses only when a person will watch the segments.
  const recorder = hooks.onEpisodeEnd && !(cfg.workers ?? 0) ? new EpisodeRecorder(env, hooks.recordPoses ?? false, hooks.recordFactors ?? []) : null;
  if (hooks.recordFactors?.length && (cfg.workers ?? 0) > 0) throw new Error('recording reward factors (HERON) needs in-process stepping: use --workers 0');
  const bar = cfg.progress && process.stderr.isTTY
    ? new SingleBar({ format: '{bar} {value}/{total} steps | {sps} env steps/s | {ups} updates/s | eval success {succ} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true })
    : null;
  bar?.start(cfg.steps, state.step, { sps: '-', ups: '-', succ: state.lastEval ? state.lastEval.successRate.toFixed(2) : '-' });

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let lossAcc: Record<string, number> = {};
  let lossCount = 0;
  const N = Math.max(1, cfg.workers ?? 0);
  const overlap = (cfg.workers ?? 0) > 0;
  if (overlap && hooks.recordPoses) throw new Error('recording poses (--teacher human) needs in-process stepping: use --workers 0');
  const collector: Collector = overlap
    ? await workerCollector(cfg, N)
    : inProcessCollector(env);
  const runUpdates = (count: number) => {
    for (let j = 0; j < count; j++) {
      if (state.step <= cfg.seedSteps) return;
      buffer.sample(sampleRng, batch);
      hooks.beforeUpdate?.(batch, { step: state.step, buffer });
      const m = agent.update(batch, state.updates++);
      for (const [k, v] of Object.entries(m)) lossAcc[k] = (lossAcc[k] ?? 0) + v;
      lossCount++;
    }
  };

  const t0 = performance.now();
  const step0 = state.step;
  const updates0 = state.updates;
  try {
    while (state.step < cfg.steps) {
      const epSeed = episodeSeed(cfg.seed, state.episode);
      let obs = await collector.reset(epSeed);
      const epReturn = new Float64Array(N);
      const epSuccess = new Uint8Array(N);
      if (recorder) recorder.start(obs, epSeed);
      const eps = hooks.onEpisodeEnd && !recorder ? Array.from({ length: N }, (_, i) => newEpisode(obs.subarray(i * obsDim, (i + 1) * obsDim))) : null;
      for (;;) {
        const actions = state.step < cfg.seedSteps
          ? actionRng.fillUniform(new Float32Array(N * actDim), -1, 1) as Float32Array
          : agent.act(obs, N, false);
        const r = await collector.step(actions, overlap ? () => runUpdates(N) : null);
        for (let i = 0; i < N; i++) {
          const o = obs.subarray(i * obsDim, (i + 1) * obsDim);
          const a = actions.subarray(i * actDim, (i + 1) * actDim);
          const next = r.nextObs.subarray(i * obsDim, (i + 1) * obsDim);
          const trainR = hooks.trainingReward ? hooks.trainingReward(o, a, next, r.rewards[i]) : r.rewards[i];
          // Time-limit ends bootstrap (PEBBLE's "done_no_max"): store terminated only.
          buffer.add(o, a, trainR, next, r.terminated[i] === 1, r.rewards[i]);
          epReturn[i] += r.rewards[i];
          if (r.success[i]) epSuccess[i] = 1;
          eps?.[i].add(a, next, r.rewards[i], r.success[i]);
        }
        if (recorder && r.single) recorder.record(actions, r.single);
        obs = r.obs;
        state.step += N;
        if (!overlap) runUpdates(N);
        // Meta-World episodes end by the time limit, so all N envs end on the same step.
        const ending = r.ended || state.step >= cfg.steps;
        // The finished episode reaches onEpisodeEnd before afterStep, so a feedback round on this step
        // queries it and counts its return in the skip/equal margin, as B-Pref's train_PEBBLE.py does.
        if (ending) {
          if (recorder && hooks.onEpisodeEnd) hooks.onEpisodeEnd(recorder.finish(), state.episode);
          if (eps && hooks.onEpisodeEnd) eps.forEach((e, i) => hooks.onEpisodeEnd!(e.finish(cfg.task, epSeed + i, obsDim, actDim), state.episode * N + i));
        }
        const extra = hooks.afterStep ? await hooks.afterStep({ step: state.step, buffer }) : undefined;
        if (extra) run.appendMetrics({ step: state.step, ...extra });

        if (state.step >= state.nextEval || state.step >= cfg.steps) {
          const ev = await evaluate(agent, evalEnv, cfg.evalEpisodes, cfg.seed);
          state.lastEval = ev;
          while (state.nextEval <= state.step) state.nextEval += cfg.evalEvery;
          const secs = (performance.now() - t0) / 1000;
          const row: Record<string, unknown> = {
            step: state.step, eval_success: ev.successRate, eval_return: ev.meanReturn, episodes: state.episode,
            env_steps_per_s: (state.step - step0) / secs, updates_per_s: (state.updates - updates0) / secs,
          };
          for (const [k, v] of Object.entries(lossAcc)) row[k] = v / Math.max(1, lossCount);
          lossAcc = {};
          lossCount = 0;
          run.appendMetrics(row);
          if (!bar && cfg.progress) {
            console.log(`step ${state.step}/${cfg.steps}: eval success ${ev.successRate.toFixed(2)}, return ${ev.meanReturn.toFixed(1)}, ` +
              `${(row.env_steps_per_s as number).toFixed(0)} env steps/s, ${(row.updates_per_s as number).toFixed(0)} updates/s`);
          }
        }
        if (bar && state.step % 100 < N) {
          const secs = (performance.now() - t0) / 1000;
          bar.update(state.step, {
            sps: ((state.step - step0) / secs).toFixed(0), ups: ((state.updates - updates0) / secs).toFixed(0),
            succ: state.lastEval ? state.lastEval.successRate.toFixed(2) : '-',
          });
        }
        if (ending) break;
      }
      for (let i = 0; i < N; i++) {
        run.appendMetrics({ step: state.step, episode: state.episode * N + i, train_return: epReturn[i], train_success: epSuccess[i] });
      }
      state.episode++;
      // The loop above never waits on I/O, so signal handlers (Ctrl-C) only run if we yield here.
      await new Promise((r) => setImmediate(r));
      if (state.step >= state.nextCheckpoint || state.step >= cfg.steps || interrupted) {
        state.nextCheckpoint = state.step + cfg.checkpointEvery;
        await saveCheckpoint();
      }
      if (interrupted) {
        bar?.stop();
        console.error(`interrupted: checkpoint saved at step ${state.step}; continue with --resume`);
        return state.lastEval;
      }
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    bar?.stop();
    await collector.close();
    env.close();
    evalEnv.close();
  }
  return state.lastEval;
}
