/**
 * Assembles PEBBLE / SURF for `pbrl train`: reward model, label source (a scripted teacher spec),
 * preference learner and the runner hooks, from the resolved training config.
 */
import { Rng } from '../core/rng.js';
import { Pebble } from '../agents/pebble.js';
import type { SAC } from '../agents/sac.js';
import { PreferenceLearner, RewardModel, TeacherLabelSource, parseTeacher } from '../reward/index.js';
import type { RunHooks } from './online-runner.js';
import type { TrainConfig } from './train-config.js';

export interface PebbleSetup {
  pebble: Pebble;
  model: RewardModel;
  hooks: RunHooks;
  dispose(): void;
}

export function setupPebble(cfg: TrainConfig, agent: SAC): PebbleSetup {
  const rng = new Rng(cfg.seed).split('preferences');
  const fb = cfg.reward.feedback;
  if (cfg.algo === 'surf' && !fb.surf) throw new Error('algo surf needs reward.feedback.surf settings');
  const model = new RewardModel({ obsDim: agent.obsDim, actDim: agent.actDim, ...cfg.reward.model, seed: rng.split('model').nextUint32() });
  const teacher = parseTeacher(fb.teacher, rng.split('teacher'));
  const learner = new PreferenceLearner(model, new TeacherLabelSource(teacher), {
    segmentLength: fb.segmentLength, queriesPerRound: fb.queriesPerRound, maxFeedback: fb.maxFeedback, strategy: fb.strategy,
    poolMultiplier: fb.poolMultiplier, epochs: fb.epochs, earlyStopAccuracy: fb.earlyStopAccuracy, datasetCapacity: fb.datasetCapacity,
    surf: cfg.algo === 'surf' ? fb.surf : undefined,
  }, rng.split('feedback'));
  const pebble = new Pebble(agent, learner, cfg.pebble, {
    seedSteps: cfg.seedSteps, maxEpisodeSteps: cfg.maxPathLength, batchSize: cfg.batchSize, seed: cfg.seed, segmentLength: fb.segmentLength,
  });
  return { pebble, model, hooks: pebble.hooks(), dispose: () => model.dispose() };
}
