/**
 * Assembles the method zoo's online algorithms for `pbrl train` (and so for bench cells), on
 * PEBBLE's loop: qpa (policy-aligned queries + hybrid replay), rbrl (ratings of single segments),
 * heron (a factor-hierarchy teacher labelling PEBBLE's queries), prior (PEBBLE whose reward model also
 * learns Hindsight PRIOR's return redistribution; same seeds and teacher stream as PEBBLE's setup).
 */
import { Rng } from '../core/rng.js';
import { Pebble, type PebbleState } from '../agents/pebble.js';
import { Qpa, type QpaState } from '../agents/qpa.js';
import type { SAC } from '../agents/sac.js';
import { PreferenceLearner, RewardModel, TeacherLabelSource, TeacherRatingSource, parseTeacher } from '../reward/index.js';
import { RatingLearner, RbrlConfigSchema, ratingTeacherFor } from '../reward/rating-learner.js';
import { HeronConfigSchema, HeronTeacher } from '../reward/teachers/heron.js';
import type { RunHooks } from './online-runner.js';
import { setupPebble, type HumanLabeling, type PebbleSetup } from './pebble-setup.js';
import type { TrainConfig } from './train-config.js';
import { QpaConfigSchema } from '../agents/qpa.js';
import { isZooAlgo } from './zoo-config.js';

export { isZooAlgo };

export interface ZooSetup extends PebbleSetup {
  /** QPA's wrapper (algo qpa only). */
  qpa?: Qpa;
  /** HERON's teacher (algo heron only), e.g. to read which factor decided its answers. */
  heron?: HeronTeacher;
}

function feedbackOf(cfg: TrainConfig) {
  const fb = cfg.reward.feedback;
  return {
    segmentLength: fb.segmentLength, queriesPerRound: fb.queriesPerRound, maxFeedback: fb.maxFeedback, strategy: fb.strategy,
    poolMultiplier: fb.poolMultiplier, epochs: fb.epochs, earlyStopAccuracy: fb.earlyStopAccuracy, datasetCapacity: fb.datasetCapacity,
    thresholdRule: fb.thresholdRule,
  };
}

function pebbleFor(cfg: TrainConfig, agent: SAC, learner: PreferenceLearner): Pebble {
  return new Pebble(agent, learner, cfg.pebble, {
    seedSteps: cfg.seedSteps, maxEpisodeSteps: cfg.maxPathLength, batchSize: cfg.batchSize, seed: cfg.seed, segmentLength: cfg.reward.feedback.segmentLength,
  });
}

function pebbleHooks(pebble: Pebble, extra: Partial<RunHooks> = {}): RunHooks {
  return {
    ...pebble.hooks(),
    saveState: () => pebble.getState(),
    loadState: (s) => pebble.setState(s as PebbleState),
    ...extra,
  };
}

export async function setupZoo(cfg: TrainConfig, agent: SAC, human?: HumanLabeling): Promise<ZooSetup> {
  if (cfg.algo === 'qpa') {
    const qcfg = QpaConfigSchema.parse(cfg.qpa ?? {});
    // PEBBLE queries its recentEpisodes: QPA's pool is its own last queryEpisodes episodes.
    const base = await setupPebble({ ...cfg, algo: 'pebble', pebble: { ...cfg.pebble, recentEpisodes: qcfg.queryEpisodes } }, agent, human);
    const qpa = new Qpa(base.pebble, qcfg, cfg.seed);
    return {
      ...base, qpa,
      hooks: { ...qpa.hooks(), recordPoses: Boolean(cfg.human), saveState: () => qpa.getState(), loadState: (s) => qpa.setState(s as QpaState) },
    };
  }
  if (cfg.human) throw new Error(`--teacher human is not wired for --algo ${cfg.algo} yet (qpa, pebble and surf support it)`);
  const rng = new Rng(cfg.seed).split('preferences');
  const model = new RewardModel({ obsDim: agent.obsDim, actDim: agent.actDim, ...cfg.reward.model, seed: rng.split('model').nextUint32() });
  if (cfg.algo === 'rbrl') {
    const rcfg = RbrlConfigSchema.parse(cfg.rbrl ?? {});
    const { teacher, calibrate } = ratingTeacherFor(rcfg, cfg.reward.feedback.segmentLength, rng.split('teacher'));
    const learner = new RatingLearner(model, new TeacherRatingSource(teacher), feedbackOf(cfg), rng.split('feedback'), rcfg.sharpness, calibrate, rcfg.standardize);
    const pebble = pebbleFor(cfg, agent, learner);
    return { pebble, model, hooks: pebbleHooks(pebble), dispose: async () => model.dispose() };
  }
  if (cfg.algo === 'heron') {
    const heron = new HeronTeacher(HeronConfigSchema.parse(cfg.heron ?? {}));
    const learner = new PreferenceLearner(model, new TeacherLabelSource(heron), feedbackOf(cfg), rng.split('feedback'));
    const pebble = pebbleFor(cfg, agent, learner);
    return {
      pebble, model, heron, dispose: async () => model.dispose(),
      hooks: pebbleHooks(pebble, { recordFactors: heron.keys, loadState: (s) => pebble.setState(withFactorArrays(s as PebbleState)) }),
    };
  }
  if (cfg.algo === 'prior') {
    const fb = cfg.reward.feedback;
    const teacher = parseTeacher(fb.teacher, rng.split('teacher'));
    const learner = new PreferenceLearner(model, new TeacherLabelSource(teacher), { ...feedbackOf(cfg), prior: fb.prior ?? {} }, rng.split('feedback'));
    const pebble = pebbleFor(cfg, agent, learner);
    return {
      pebble, model, hooks: pebbleHooks(pebble),
      dispose: async () => {
        model.dispose();
        learner.prior?.dispose();
      },
    };
  }
  throw new Error(`setupZoo: "${cfg.algo}" is not a zoo algorithm`);
}

/**
 * PEBBLE's checkpoint keeps each episode's extra fields as JSON, which turns the factors' Float32Array
 * into an index-keyed object; HERON's segments slice them, so they become arrays again on resume.
 */
function withFactorArrays(s: PebbleState): PebbleState {
  for (const e of s.episodes ?? []) {
    const f = (e.traj as { factors?: { names: string[]; data: unknown } }).factors;
    if (f && !(f.data instanceof Float32Array)) f.data = Float32Array.from(Object.values(f.data as Record<string, number>));
  }
  return s;
}
