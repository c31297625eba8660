/**
 * Assembles PEBBLE / SURF for `pbrl train`: reward model, label source (a scripted teacher spec),
 * preference learner and the runner hooks, from the resolved training config.
 */
import { Rng } from '../core/rng.js';
import { Pebble, type PebbleState } from '../agents/pebble.js';
import type { SAC } from '../agents/sac.js';
import { join } from 'node:path';
import { PreferenceLearner, RewardModel, TeacherLabelSource, parseTeacher, type LabelSource, type RewardSegment } from '../reward/index.js';
import { startLabelServer, type LabelServer } from '../viewer/live.js';
import type { SceneGeometry } from '../envs/geometry.js';
import type { RunHooks } from './online-runner.js';
import type { TrainConfig } from './train-config.js';

export interface PebbleSetup {
  pebble: Pebble;
  model: RewardModel;
  hooks: RunHooks;
  dispose(): Promise<void>;
}

export interface HumanLabeling {
  /** Where the run writes (the label database goes there). */
  runDir: string;
  geometry: Record<string, SceneGeometry>;
}

/** The labeling page of a `--teacher human` run (pairs or ratings): its database in the run directory. */
export function startHumanLabelServer(h: NonNullable<TrainConfig['human']>, human: HumanLabeling): Promise<LabelServer> {
  return startLabelServer({ dbPath: join(human.runDir, 'labels.sqlite'), teacherName: h.name, geometry: human.geometry, port: h.port, instructions: h.instructions });
}

/** The label source: a scripted teacher, or people on the labeling page (cfg.human). */
async function labelSource(cfg: TrainConfig, rng: Rng, human?: HumanLabeling): Promise<{ source: LabelSource; close(): Promise<void> }> {
  const fb = cfg.reward.feedback;
  if (!cfg.human) return { source: new TeacherLabelSource(parseTeacher(fb.teacher, rng.split('teacher'))), close: async () => {} };
  if (!human) throw new Error('--teacher human needs the run directory and the task geometry');
  const h = cfg.human;
  const fallbackTeacher = h.fallback === 'skip' ? null : parseTeacher(h.fallback, rng.split('fallback-teacher'));
  const server = await startHumanLabelServer(h, human);
  console.log(`labeling page: ${server.url}  (each feedback round waits up to ${h.timeoutS} s; then ${h.fallback === 'skip' ? 'unanswered queries are skipped' : `"${h.fallback}" answers the rest`})`);
  const source = server.labelSource({
    timeoutMs: h.timeoutS * 1000,
    fallback: fallbackTeacher ? (pair) => fallbackTeacher.label(pair.a as RewardSegment, pair.b as RewardSegment) : 'skip',
    fallbackTeacher: fallbackTeacher ? `fallback:${h.fallback}` : undefined,
    answers: { bothBad: h.bothBad, cantTell: h.cantTell, minConfidence: h.minConfidence },
  });
  return { source, close: () => server.close() };
}

export async function setupPebble(cfg: TrainConfig, agent: SAC, human?: HumanLabeling): Promise<PebbleSetup> {
  const rng = new Rng(cfg.seed).split('preferences');
  const fb = cfg.reward.feedback;
  if (cfg.algo === 'surf' && !fb.surf) throw new Error('algo surf needs reward.feedback.surf settings');
  // Only --algo prior builds the PRIOR learner; a prior section here would be dropped without a word.
  if (fb.prior) throw new Error(`reward.feedback.prior is read only by --algo prior (this run is --algo ${cfg.algo}); use --algo prior or remove the section`);
  const model = new RewardModel({ obsDim: agent.obsDim, actDim: agent.actDim, ...cfg.reward.model, seed: rng.split('model').nextUint32() });
  const labels = await labelSource(cfg, rng, human);
  const learner = new PreferenceLearner(model, labels.source, {
    segmentLength: fb.segmentLength, queriesPerRound: fb.queriesPerRound, maxFeedback: fb.maxFeedback, strategy: fb.strategy,
    poolMultiplier: fb.poolMultiplier, epochs: fb.epochs, earlyStopAccuracy: fb.earlyStopAccuracy, datasetCapacity: fb.datasetCapacity,
    surf: cfg.algo === 'surf' ? fb.surf : undefined, thresholdRule: fb.thresholdRule,
  }, rng.split('feedback'));
  const pebble = new Pebble(agent, learner, cfg.pebble, {
    seedSteps: cfg.seedSteps, maxEpisodeSteps: cfg.maxPathLength, batchSize: cfg.batchSize, seed: cfg.seed, segmentLength: fb.segmentLength,
  });
  return {
    pebble, model,
    hooks: {
      ...pebble.hooks(), recordPoses: Boolean(cfg.human),
      saveState: () => pebble.getState(),
      loadState: (s) => pebble.setState(s as PebbleState),
    },
    dispose: async () => {
      model.dispose();
      await labels.close();
    },
  };
}
