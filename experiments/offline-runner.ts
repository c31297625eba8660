/**
 * The offline training loop (BC, SFT, %BC, P-IQL, CPL, IPL on a preference dataset): sample labelled
 * segment pairs, update, evaluate every N gradient steps on fixed episode seeds (online-runner's
 * `evaluate`/`evalSeed`, so offline and online curves are comparable), write metrics.jsonl,
 * checkpoint, and resume exactly: the checkpoint holds the agent (weights, optimizer moments, RNG)
 * and the pair-sampling RNG, so a resumed run replays the numbers of an uninterrupted one.
 *
 * Also the `pbrl train --algo bc|sft|percent-bc|iql|cpl|ipl|dppo --dataset file` entry point (runOfflineTraining).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { z } from 'zod';
import { initBackend } from '../core/backend.js';
import { Rng } from '../core/rng.js';
import { writeFileAtomic } from '../core/serialize.js';
import type { Agent, AgentState } from '../agents/agent.js';
import { allocPairBatch, type PreferenceData } from '../agents/offline/data.js';
import { isOfflineAlgoName, makeOfflineAgent, OFFLINE_ALGOS, OFFLINE_REGISTRY, resolveOfflineAgentConfig, samplerFor, warnPbc, type OfflineAlgo } from '../agents/offline/index.js';
import { makeEnv, taskNames } from '../envs/registry.js';
import { datasetEnvSettings, readDataset } from './datasets/format.js';
import { ENV_VERSIONS, type EnvVersion } from '../envs/sawyer-env.js';
import { evaluate, type EvalResult } from './online-runner.js';
import { RunDir } from './run-files.js';
import { num } from './cli-number.js';

export const OfflineTrainConfigSchema = z
  .object({
    algo: z.enum(OFFLINE_ALGOS),
    /** Path of the .pbrlds dataset. */
    dataset: z.string().min(1),
    task: z.string().superRefine((t, ctx) => {
      if (!taskNames().includes(t)) ctx.addIssue({ code: 'custom', message: `unknown task "${t}"; valid tasks: ${taskNames().join(', ')}` });
    }),
    /** Gradient steps (CPL state: 500k; IPL: 200k). */
    steps: z.number().int().positive().default(100_000),
    seed: z.number().int().nonnegative().default(0),
    /** Evaluate every n gradient steps (CPL: 5000). */
    evalEvery: z.number().int().positive().default(5000),
    /** Episodes per evaluation (CPL: 25). */
    evalEpisodes: z.number().int().positive().default(25),
    /** Labelled pairs per batch; default per algorithm (agents/offline/index.ts). */
    batchPairs: z.number().int().positive().optional(),
    checkpointEvery: z.number().int().positive().default(5000),
    maxPathLength: z.number().int().positive().default(500),
    /**
     * Env settings of the evaluations. They must be the dataset's (its observations were recorded
     * under them); filled in from the dataset header when absent.
     */
    goalObservable: z.boolean().optional(),
    envVersion: z.enum(ENV_VERSIONS).optional(),
    /** The agent's own config (validated by its schema; the resolved form is stored). */
    agent: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type OfflineTrainConfig = z.infer<typeof OfflineTrainConfigSchema>;

export function parseOfflineTrainConfig(raw: unknown): OfflineTrainConfig & { batchPairs: number } {
  const r = OfflineTrainConfigSchema.safeParse(raw);
  if (!r.success) throw new Error(`invalid offline training config:\n${r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  const c = r.data;
  if (c.algo === 'pbc') {
    warnPbc();
    c.algo = 'sft';
  }
  const entry = OFFLINE_REGISTRY[c.algo as OfflineAlgo];
  // Resolve the agent's defaults now so config.json records every hyperparameter.
  let agent: Record<string, unknown>;
  try {
    agent = entry.schema.parse(c.agent) as Record<string, unknown>;
  } catch (e) {
    const issues = e instanceof z.ZodError ? e.issues.map((i) => `  agent.${i.path.join('.')}: ${i.message}`).join('\n') : String(e);
    throw new Error(`invalid offline training config:\n${issues}`);
  }
  agent = resolveOfflineAgentConfig(c.algo as OfflineAlgo, agent, c.steps);
  checkPhases(c.algo, agent, c.steps);
  return { ...c, agent, batchPairs: c.batchPairs ?? entry.defaultBatchPairs };
}

/**
 * A pre-training phase that fills the whole run leaves the algorithm equal to plain BC (CPL with the
 * reference's 200k BC steps in a 100k run was bit-identical to BC): refuse it, naming the fields.
 */
function checkPhases(algo: string, agent: Record<string, unknown>, steps: number): void {
  const phase = PRE_PHASES[algo];
  if (!phase) return;
  const pre = agent[phase.steps] as number;
  if (pre >= steps) {
    throw new Error(`invalid offline training config:\n  agent.${phase.steps}: ${phase.name} is empty: agent.${phase.steps} ${pre} >= steps ${steps} ` +
      `(agent.${phase.fraction} ${String(agent[phase.fraction])}); lower agent.${phase.steps} / agent.${phase.fraction} or raise steps`);
  }
}

/** Algorithms that start with a pre-training phase (BC on all data; DPPO: the predictor): its step and fraction fields, and what follows it. */
const PRE_PHASES: Record<string, { steps: string; fraction: string; name: string }> = {
  cpl: { steps: 'bcSteps', fraction: 'bcFraction', name: "CPL's contrastive phase" },
  sft: { steps: 'allSteps', fraction: 'allFraction', name: "SFT's preferred-segment phase" },
  dppo: { steps: 'predictorSteps', fraction: 'predictorFraction', name: "DPPO's policy phase" },
};

export interface OfflineRunConfig {
  task: string;
  steps: number;
  seed: number;
  evalEvery: number;
  evalEpisodes: number;
  batchPairs: number;
  checkpointEvery: number;
  maxPathLength: number;
  progress: boolean;
  /** Evaluation env settings (default: goal hidden, v2); the dataset's own. */
  goalObservable?: boolean;
  envVersion?: EnvVersion;
}

export interface OfflineRunResult {
  lastEval: EvalResult | null;
  /** Highest evaluation success rate of the run (CPL reports the best evaluation). */
  bestSuccess: number;
  /** Gradient steps per second of this process (evaluation time excluded). */
  stepsPerSec: number;
}

interface TrainerState {
  step: number;
  nextEval: number;
  nextCheckpoint: number;
  sampleRng: ReturnType<Rng['getState']>;
  lastEval: EvalResult | null;
  bestSuccess: number;
}

export async function runOffline(agent: Agent, cfg: OfflineRunConfig, data: PreferenceData, run: RunDir, resume: boolean): Promise<OfflineRunResult> {
  if (data.obsDim !== agent.obsDim || data.actDim !== agent.actDim) {
    throw new Error(`dataset obs/action sizes ${data.obsDim}/${data.actDim} differ from the agent's ${agent.obsDim}/${agent.actDim}`);
  }
  const sampler = samplerFor(agent, data);
  const evalEnv = await makeEnv(cfg.task, { maxPathLength: cfg.maxPathLength, seed: cfg.seed, goalObservable: cfg.goalObservable ?? false, version: cfg.envVersion });
  let sampleRng = new Rng(cfg.seed).split('pair-sampling');
  let state: TrainerState = {
    step: 0, nextEval: cfg.evalEvery, nextCheckpoint: cfg.checkpointEvery, sampleRng: sampleRng.getState(), lastEval: null, bestSuccess: 0,
  };
  const ckpt = run.checkpointDir;
  if (resume) {
    if (!existsSync(join(ckpt, 'trainer.json'))) throw new Error(`--resume: no checkpoint in ${ckpt}`);
    state = JSON.parse(readFileSync(join(ckpt, 'trainer.json'), 'utf8'));
    await agent.loadState(JSON.parse(readFileSync(join(ckpt, 'agent.json'), 'utf8')) as AgentState);
    sampleRng = Rng.fromState(state.sampleRng);
    // A resumed run may have a different step budget: evaluate at the end of the new one too.
    if (cfg.progress) console.log(`resumed from gradient step ${state.step}`);
  }
  const saveCheckpoint = async () => {
    state.sampleRng = sampleRng.getState();
    // Agent first, trainer.json last: its presence marks a complete checkpoint.
    writeFileAtomic(join(ckpt, 'agent.json'), JSON.stringify(await agent.saveState()));
    writeFileAtomic(join(ckpt, 'trainer.json'), JSON.stringify(state));
  };

  const batch = allocPairBatch(cfg.batchPairs, sampler.segmentLength, data.obsDim, data.actDim);
  const bar = cfg.progress && process.stderr.isTTY
    ? new SingleBar({ format: '{bar} {value}/{total} gradient steps | {sps} steps/s | eval success {succ} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true })
    : null;
  bar?.start(cfg.steps, state.step, { sps: '-', succ: state.lastEval ? state.lastEval.successRate.toFixed(2) : '-' });

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let trainMs = 0;
  let trainSteps = 0;
  let lossAcc: Record<string, number> = {};
  let lossCount: Record<string, number> = {};
  try {
    while (state.step < cfg.steps && !interrupted) {
      const t0 = performance.now();
      sampler.sample(sampleRng, batch);
      const m = agent.update(batch, state.step);
      trainMs += performance.now() - t0;
      trainSteps++;
      state.step++;
      for (const [k, v] of Object.entries(m)) {
        lossAcc[k] = (lossAcc[k] ?? 0) + v;
        lossCount[k] = (lossCount[k] ?? 0) + 1;
      }
      if (state.step >= state.nextEval || state.step === cfg.steps) {
        const ev = await evaluate(agent, evalEnv, cfg.evalEpisodes, cfg.seed);
        state.lastEval = ev;
        state.bestSuccess = Math.max(state.bestSuccess, ev.successRate);
        while (state.nextEval <= state.step) state.nextEval += cfg.evalEvery;
        const sps = trainSteps / Math.max(1e-9, trainMs / 1000);
        const row: Record<string, unknown> = { step: state.step, eval_success: ev.successRate, eval_return: ev.meanReturn, best_eval_success: state.bestSuccess, grad_steps_per_s: sps };
        for (const [k, v] of Object.entries(lossAcc)) row[k] = v / lossCount[k];
        lossAcc = {};
        lossCount = {};
        run.appendMetrics(row);
        if (!bar && cfg.progress) {
          console.log(`step ${state.step}/${cfg.steps}: eval success ${ev.successRate.toFixed(2)}, return ${ev.meanReturn.toFixed(1)}, ${sps.toFixed(1)} gradient steps/s`);
        }
      }
      // Updates never wait on I/O, so signal handlers (Ctrl-C) only run if we yield now and then.
      if (state.step % 50 === 0) await new Promise((r) => setImmediate(r));
      if (bar && state.step % 50 === 0) {
        bar.update(state.step, { sps: (trainSteps / Math.max(1e-9, trainMs / 1000)).toFixed(1), succ: state.lastEval ? state.lastEval.successRate.toFixed(2) : '-' });
      }
      if (state.step >= state.nextCheckpoint || state.step >= cfg.steps || interrupted) {
        while (state.nextCheckpoint <= state.step) state.nextCheckpoint += cfg.checkpointEvery;
        await saveCheckpoint();
      }
    }
    if (interrupted) {
      bar?.stop();
      console.error(`interrupted: checkpoint saved at gradient step ${state.step}; continue with --resume`);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    bar?.stop();
    evalEnv.close();
  }
  return { lastEval: state.lastEval, bestSuccess: state.bestSuccess, stepsPerSec: trainSteps / Math.max(1e-9, trainMs / 1000) };
}

// ---------------------------------------------------------------------------------------------
// CLI entry (pbrl train with an offline --algo).
// ---------------------------------------------------------------------------------------------

export function isOfflineAlgo(name: unknown): boolean {
  return isOfflineAlgoName(name);
}

/** The `pbrl train` flags this path reads (strings, as commander gives them). */
export interface OfflineCliOpts {
  algo: string;
  dataset?: string;
  task?: string;
  steps?: string;
  seed?: string;
  out: string;
  resume?: boolean;
  config?: string;
  evalEvery?: string;
  evalEpisodes?: string;
  batchSize?: string;
  seedSteps?: string;
  hidden?: string;
  lr?: string;
  maxPathLength?: string;
  checkpointEvery?: string;
  /** CPL: BC share of the run (agent.bcFraction); --bc-steps gives the count instead. */
  bcFraction?: string;
  bcSteps?: string;
  progress: boolean;
}


/** CLI flags over a config file (or a run's config.json) over defaults. */
export function buildOfflineConfig(opts: OfflineCliOpts): Record<string, unknown> {
  const base = opts.config ? JSON.parse(readFileSync(opts.config, 'utf8')) : {};
  const fileCfg = base.config ?? base;
  const agent: Record<string, unknown> = { ...(fileCfg.agent ?? {}) };
  if (opts.hidden) agent.hiddenDims = opts.hidden.split(',').map((s) => num('hidden', s.trim()));
  if (opts.lr) agent.lr = num('lr', opts.lr);
  if (opts.bcFraction !== undefined || opts.bcSteps !== undefined) {
    if (opts.algo !== 'cpl') throw new Error(`--bc-fraction / --bc-steps apply to --algo cpl, not ${opts.algo}`);
    // A flag overrides both fields of a config file: the other one would otherwise win or conflict.
    delete agent.bcSteps;
    if (opts.bcFraction !== undefined) agent.bcFraction = num('bc-fraction', opts.bcFraction);
    if (opts.bcSteps !== undefined) agent.bcSteps = num('bc-steps', opts.bcSteps);
  }
  const flags: Record<string, unknown> = {
    algo: opts.algo, dataset: opts.dataset, task: opts.task, steps: num('steps', opts.steps), seed: num('seed', opts.seed),
    evalEvery: num('eval-every', opts.evalEvery), evalEpisodes: num('eval-episodes', opts.evalEpisodes),
    batchPairs: num('batch-size', opts.batchSize), maxPathLength: num('max-path-length', opts.maxPathLength),
    checkpointEvery: num('checkpoint-every', opts.checkpointEvery),
  };
  const merged: Record<string, unknown> = { ...fileCfg, agent };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;
  return merged;
}

export async function runOfflineTraining(opts: OfflineCliOpts): Promise<void> {
  if (opts.seedSteps !== undefined) throw new Error('--seed-steps applies to online training only; offline algorithms learn from --dataset');
  const run = new RunDir(opts.out, false);
  let raw: Record<string, unknown>;
  if (opts.resume) {
    // config.json also records the dataset's header for reference; it is not a config field.
    const { datasetHeader: _header, ...saved } = (run.readConfig() as { config: Record<string, unknown> }).config;
    raw = saved;
    if (saved.algo !== opts.algo) throw new Error(`${opts.out} is a ${String(saved.algo)} run; resume it with --algo ${String(saved.algo)}`);
    if (opts.steps) raw = { ...raw, steps: num('steps', opts.steps) };
  } else {
    if (!opts.dataset) throw new Error(`--dataset is required for --algo ${opts.algo} (make one with \`pbrl dataset make\`)`);
    if (existsSync(join(opts.out, 'checkpoint', 'trainer.json'))) {
      throw new Error(`${opts.out} already holds a run; use --resume to continue it or choose another --out`);
    }
    raw = buildOfflineConfig(opts);
  }
  const dataset = readDataset(String(raw.dataset));
  raw.task ??= dataset.header.task;
  const recorded = datasetEnvSettings(dataset.header);
  raw.goalObservable ??= recorded.goalObservable;
  raw.envVersion ??= recorded.envVersion;
  const cfg = parseOfflineTrainConfig(raw);
  if (cfg.task !== dataset.header.task) throw new Error(`--task ${cfg.task} does not match the dataset's task "${dataset.header.task}"`);
  if (cfg.goalObservable !== recorded.goalObservable || cfg.envVersion !== recorded.envVersion) {
    throw new Error(`goalObservable ${cfg.goalObservable} / envVersion ${cfg.envVersion} differ from the dataset's (${recorded.goalObservable} / ${recorded.envVersion}): ` +
      'the policy would be evaluated on observations unlike the ones it learned from');
  }
  const info = await initBackend();
  run.writeConfig({ ...cfg, datasetHeader: dataset.header });
  const agent = makeOfflineAgent(cfg.algo, dataset.header.obsDim, dataset.header.actDim, cfg.agent, cfg.seed);
  if (opts.progress) {
    console.log(`training ${cfg.algo} on ${cfg.dataset} (${dataset.header.kind}, ${dataset.header.pairs} pairs${dataset.header.rating ? `, ${dataset.header.segments} segments rated into ${dataset.header.rating.classes} classes` : ''}) for ${cfg.steps} gradient steps (seed ${cfg.seed}) ` +
      `on ${info.backend}; writing ${opts.out}`);
  }
  try {
    const result = await runOffline(agent, {
      task: cfg.task, steps: cfg.steps, seed: cfg.seed, evalEvery: cfg.evalEvery, evalEpisodes: cfg.evalEpisodes, batchPairs: cfg.batchPairs,
      checkpointEvery: cfg.checkpointEvery, maxPathLength: cfg.maxPathLength, progress: opts.progress,
      goalObservable: cfg.goalObservable, envVersion: cfg.envVersion,
    }, dataset.data, run, Boolean(opts.resume));
    if (result.lastEval) {
      console.log(`final eval: success ${(100 * result.lastEval.successRate).toFixed(0)}% (best ${(100 * result.bestSuccess).toFixed(0)}%), ` +
        `return ${result.lastEval.meanReturn.toFixed(1)} over ${result.lastEval.episodes} episodes; ${result.stepsPerSec.toFixed(1)} gradient steps/s`);
    }
  } finally {
    agent.dispose();
  }
}
