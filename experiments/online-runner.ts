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
import type { SawyerEnv } from '../envs/sawyer-env.js';
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
  /** Print a progress bar (TTY) or a line per evaluation. */
  progress: boolean;
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
  /** Extra state for checkpoints (e.g. reward model, labels) and its restore on --resume. */
  saveState?: () => Promise<unknown>;
  loadState?: (state: unknown) => Promise<void>;
}

export async function runOnline(agent: Agent, cfg: OnlineRunConfig, run: RunDir, resume: boolean, hooks: RunHooks = {}): Promise<EvalResult | null> {
  const env = await makeEnv(cfg.task, { maxPathLength: cfg.maxPathLength, seed: cfg.seed });
  const evalEnv = await makeEnv(cfg.task, { maxPathLength: cfg.maxPathLength, seed: cfg.seed });
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
  const recorder = hooks.onEpisodeEnd ? new EpisodeRecorder(env, hooks.recordPoses ?? false) : null;
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

  const t0 = performance.now();
  const step0 = state.step;
  const updates0 = state.updates;
  let lossAcc: Record<string, number> = {};
  let lossCount = 0;
  try {
    while (state.step < cfg.steps) {
      const epSeed = episodeSeed(cfg.seed, state.episode);
      let { obs } = env.reset({ seed: epSeed });
      let epReturn = 0;
      let epSuccess = false;
      if (recorder) recorder.start(obs, epSeed);
      for (;;) {
        const action = state.step < cfg.seedSteps
          ? actionRng.fillUniform(new Float32Array(actDim), -1, 1) as Float32Array
          : agent.act(obs, 1, false);
        const r = env.step(action);
        const trainR = hooks.trainingReward ? hooks.trainingReward(obs, action, r.obs, r.reward) : r.reward;
        // Time-limit ends bootstrap (PEBBLE's "done_no_max"): store terminated only.
        buffer.add(obs, action, trainR, r.obs, r.terminated, r.reward);
        epReturn += r.reward;
        if (r.info.success) epSuccess = true;
        recorder?.record(action, r);
        obs = r.obs;
        state.step++;

        if (state.step > cfg.seedSteps) {
          buffer.sample(sampleRng, batch);
          hooks.beforeUpdate?.(batch, { step: state.step, buffer });
          const m = agent.update(batch, state.updates++);
          for (const [k, v] of Object.entries(m)) lossAcc[k] = (lossAcc[k] ?? 0) + v;
          lossCount++;
        }
        const extra = hooks.afterStep ? await hooks.afterStep({ step: state.step, buffer }) : undefined;
        if (extra) run.appendMetrics({ step: state.step, ...extra });

        if (state.step >= state.nextEval || state.step === cfg.steps) {
          const ev = await evaluate(agent, evalEnv, cfg.evalEpisodes, cfg.seed);
          state.lastEval = ev;
          state.nextEval += cfg.evalEvery;
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
        if (bar && state.step % 100 === 0) {
          const secs = (performance.now() - t0) / 1000;
          bar.update(state.step, {
            sps: ((state.step - step0) / secs).toFixed(0), ups: ((state.updates - updates0) / secs).toFixed(0),
            succ: state.lastEval ? state.lastEval.successRate.toFixed(2) : '-',
          });
        }
        if (r.terminated || r.truncated || state.step >= cfg.steps) break;
      }
      run.appendMetrics({ step: state.step, episode: state.episode, train_return: epReturn, train_success: epSuccess ? 1 : 0 });
      if (recorder && hooks.onEpisodeEnd) hooks.onEpisodeEnd(recorder.finish(), state.episode);
      state.episode++;
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
    env.close();
    evalEnv.close();
  }
  return state.lastEval;
}
