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
import { PreferenceLearner, RewardModel, TeacherLabelSource, TeacherRatingSource, parseTeacher, type RatingSource, type RewardSegment } from '../reward/index.js';
import { RatingLearner, RbrlConfigSchema, ratingTeacherFor, type RbrlConfig } from '../reward/rating-learner.js';
import { parseSpecParts } from '../reward/teachers/parse.js';
import { HeronConfigSchema, HeronTeacher } from '../reward/teachers/heron.js';
import type { RunHooks } from './online-runner.js';
import { setupPebble, startHumanLabelServer, type HumanLabeling, type PebbleSetup } from './pebble-setup.js';
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
  if (cfg.human && cfg.algo !== 'rbrl') throw new Error(`--teacher human is not wired for --algo ${cfg.algo} yet (qpa, rbrl, pebble and surf support it)`);
  const rng = new Rng(cfg.seed).split('preferences');
  const newModel = () => new RewardModel({ obsDim: agent.obsDim, actDim: agent.actDim, ...cfg.reward.model, seed: rng.split('model').nextUint32() });
  if (cfg.algo === 'rbrl') {
    const rcfg = RbrlConfigSchema.parse(cfg.rbrl ?? {});
    const ratings = await ratingSource(cfg, rcfg, rng, human);
    // After the label server started: a port already taken must not leave a model behind.
    const model = newModel();
    const learner = new RatingLearner(model, ratings.source, feedbackOf(cfg), rng.split('feedback'), rcfg.sharpness, ratings.calibrate, rcfg.standardize);
    const pebble = pebbleFor(cfg, agent, learner);
    return {
      pebble, model, hooks: pebbleHooks(pebble, { recordPoses: Boolean(cfg.human) }),
      dispose: async () => {
        model.dispose();
        await ratings.close();
      },
    };
  }
  const model = newModel();
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
 * RbRL's ratings: the synthetic rating teacher, or people on the labeling page (cfg.human) rating on
 * the teacher's scale. A human.fallback that is a pair teacher (e.g. "oracle") cannot rate a single
 * segment, so rbrl's own rating teacher (rbrl.teacher) rates the unanswered ones instead, and the
 * printed line says so; a rating spec as fallback must have rbrl.teacher's number of classes.
 */
async function ratingSource(
  cfg: TrainConfig, rcfg: RbrlConfig, rng: Rng, human?: HumanLabeling,
): Promise<{ source: RatingSource; calibrate?: (segs: readonly RewardSegment[]) => void; close(): Promise<void> }> {
  const H = cfg.reward.feedback.segmentLength;
  const own = ratingTeacherFor(rcfg, H, rng.split('teacher'));
  if (!cfg.human) return { source: new TeacherRatingSource(own.teacher), calibrate: own.calibrate, close: async () => {} };
  if (!human) throw new Error('--teacher human needs the run directory and the task geometry');
  const h = cfg.human;
  const classes = own.teacher.classes;
  let fallback: { teacher: typeof own.teacher; calibrate?: (segs: readonly RewardSegment[]) => void; said: string } | null = null;
  if (h.fallback !== 'skip') {
    const isRating = parseSpecParts(h.fallback)[0]?.name === 'rating';
    if (isRating) {
      const theirs = ratingTeacherFor({ ...rcfg, teacher: h.fallback }, H, rng.split('fallback-teacher'));
      if (theirs.teacher.classes !== classes) {
        throw new Error(`human.fallback "${h.fallback}" rates on ${theirs.teacher.classes} levels but rbrl.teacher "${rcfg.teacher}" (the page's scale) has ${classes}; give both the same classes`);
      }
      fallback = { ...theirs, said: `"${h.fallback}" rates the rest` };
    } else {
      // Only to refuse a misspelt spec by name: a pair teacher has no rating to give.
      parseTeacher(h.fallback, rng.split('fallback-teacher'));
      fallback = { ...own, said: `"${h.fallback}" compares pairs and cannot rate one segment, so rbrl's rating teacher "${rcfg.teacher}" rates the rest` };
    }
  }
  const server = await startHumanLabelServer(h, human);
  console.log(`labeling page: ${server.url}  (each feedback round asks for ratings on ${classes} levels and waits up to ${h.timeoutS} s; then ${fallback ? fallback.said : 'unrated segments are skipped'})`);
  const fb = fallback;
  return {
    source: server.ratingSource({
      classes, timeoutMs: h.timeoutS * 1000, minConfidence: h.minConfidence,
      fallback: fb ? (seg) => fb.teacher.rate(seg as RewardSegment) : 'skip',
      ...(fb ? { fallbackTeacher: `fallback:${fb.teacher.spec}` } : {}),
    }),
    calibrate: fb?.calibrate,
    close: () => server.close(),
  };
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
