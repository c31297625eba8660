/**
 * Built-in suites of the method zoo (issue 17): each method beside its base at one small, documented
 * budget — PEBBLE's CI learning-test config (`pebble-small`): reach with the goal visible, 5k env
 * steps of 100-step episodes, 2x64 nets, a 1000-query budget at 100 per round every 500 steps from
 * step 1000 (900 asked by 5k, the last round at step 5000), 50 reward epochs, 10 evaluation episodes every 1000 steps, seeds 0-2.
 *
 * The zoo algorithms read teacher and budget from their config here (algoConfig), so the base's
 * cells are exactly `pebble-small`'s PEBBLE cells (same resolved config, same cell ids).
 */
import type { SuiteSpec } from './suite.js';

const BUDGET = { maxFeedback: 1000, queriesPerRound: 100 };

/** What every zoo-small cell shares (pebble-small's config). */
function small(
  name: string, description: string, algos: string[],
  feedback: Record<string, Record<string, unknown>>, algoConfig: Record<string, Record<string, unknown>> = {},
): SuiteSpec {
  return {
    name,
    description,
    smokeScale: true,
    axes: { algo: ['pebble', ...algos], task: ['reach'], seed: [0, 1, 2], teacher: ['oracle'], feedback: [BUDGET] },
    steps: 5000,
    evalEvery: 1000,
    evalEpisodes: 10,
    config: {
      maxPathLength: 100, batchSize: 128, seedSteps: 500, checkpointEvery: 100_000, goalObservable: true,
      sac: { hiddenDims: [64, 64], actorLr: 1e-3, criticLr: 1e-3 },
    },
    algoConfig: {
      pebble: { pebble: { unsupSteps: 500, numInteract: 500 }, reward: { model: { hiddenDims: [64, 64] }, feedback: { epochs: 50 } } },
      ...Object.fromEntries(algos.map((a) => [a, {
        pebble: { unsupSteps: 500, numInteract: 500 },
        reward: { model: { hiddenDims: [64, 64] }, feedback: { epochs: 50, ...BUDGET, ...feedback[a] } },
        ...algoConfig[a],
      }])),
    },
  };
}

/** `qpa-small`: QPA (last 10 episodes = 1000 steps for queries and half of each SAC batch) vs PEBBLE, same oracle budget. */
const qpaSmall = small(
  'qpa-small',
  "QPA vs PEBBLE at pebble-small's budget (reach, goal visible, 5k steps, oracle, 1000-query budget at 100 per round, 900 asked): " +
    'QPA queries uniformly from the last 10 episodes and draws half of each SAC batch from them.',
  ['qpa'],
  { qpa: { teacher: 'oracle' } },
);

/** `rbrl-small`: rating-based RL (3 classes, one rated segment = one query) vs PEBBLE with as many pair queries. */
const rbrlSmall = small(
  'rbrl-small',
  "Rating-based RL vs PEBBLE at pebble-small's budget (reach, goal visible, 5k steps): RbRL rates 100 single segments per round into 3 return classes " +
    "(equal bins over the first round's return range; r_hat standardised for SAC), PEBBLE asks an oracle 100 pairs per round; 900 queries each by 5k.",
  ['rbrl'],
  {},
);

/** `heron-small`: HERON's factor-hierarchy teacher (success > in_place_reward > -obj_to_target) vs PEBBLE's oracle on the summed reward. */
const heronSmall = small(
  'heron-small',
  "HERON vs PEBBLE at pebble-small's budget (reach, goal visible, 5k steps, 900 pair queries each): HERON's teacher ranks segments by success, then in-place reward, " +
    'then distance to the goal (10% relative tie margin); PEBBLE\'s oracle by the summed true reward.',
  ['heron'],
  {},
);

/**
 * `prior-small`: Hindsight PRIOR (PEBBLE + the world-model attention prior's return-redistribution loss,
 * reward/prior.ts defaults: 1-layer 2-head d32 world model, 50 steps of 16 segments per round, lambda 1) vs PEBBLE,
 * same oracle and budget. `prior` is not on the bench's teacher axis: its oracle comes from its config here.
 * Result (2026-12-01, `--jobs 1`, PEBBLE cells copied from qpa-small): final success IQM 0.27 [0.10, 0.50]
 * vs PEBBLE 0.00 [0, 0], AUC 0.067 vs 0.025; last-round r_hat-true Pearson 0.61-0.67 vs 0.57-0.59,
 * Spearman 0.69-0.80 vs 0.69-0.72; ~90 s per PRIOR cell on a lightly loaded 2-core box.
 */
const priorSmall = small(
  'prior-small',
  "Hindsight PRIOR vs PEBBLE at pebble-small's budget (reach, goal visible, 5k steps, oracle, 1000-query budget at 100 per round, 900 asked): " +
    "PRIOR adds a return-redistribution loss (lambda 1) pulling r_hat toward each segment's predicted return spread by a world model's last-token attention.",
  ['prior'],
  { prior: { teacher: 'oracle' } },
);

/**
 * `dppo-small`: DPPO (agents/offline/dppo.ts) vs P-IQL and CPL on the same offline datasets, at
 * `offline-cpl-scripted-reduced`'s scale cut to one task: button-press (goal hidden), dense regret-labelled
 * datasets of 60 rollouts x 200 steps, 300 segments of 64 steps x 16 partners (4800 pairs), 3000
 * gradient steps, 64 x 64 nets, 32 pairs per batch, 10 evaluation episodes every 500 steps, seeds 0-2:
 * 9 cells on one dataset. The P-IQL and CPL cells are offline-cpl-scripted-reduced's (same resolved configs, same cell ids). DPPO: its
 * predictor (64 x 64) the first fifth of the run (600 steps, predictorFraction 0.2), then the policy;
 * Adam 3e-4 for both, lambda 0.5, temperature 0.1, nu 1, M 20 (the agent's defaults). Budget, measured
 * with `--jobs 1` beside a two-job benchmark on two cores: the dataset under a minute, DPPO and CPL
 * cells ~45 s each, P-IQL ~140 s; the whole suite 12 min. Result (2026-12-01): final success IQM
 * P-IQL 1.0, CPL 0.0 (0.5-1.0 during BC, lost in the contrastive phase), DPPO 0.0; DPPO with lambda
 * 0.2 reached 0.9 / 0.9 / 1.0 and with 0.01 1.0 / 1.0 / 1.0 on the same dataset (agents/offline/dppo.ts).
 */
const DPPO_STEPS = 3000;
const DPPO_PAIRS = 32;
const dppoSmall: SuiteSpec = {
  name: 'dppo-small',
  description: 'DPPO vs P-IQL and CPL on offline-cpl-scripted-reduced datasets (button-press, dense regret labels, 60 x 200-step rollouts, 300 x 16 pairs), 3000 gradient steps, 64x64 nets, 32 pairs per batch, 3 seeds.',
  smokeScale: true,
  axes: { algo: ['dppo', 'iql', 'cpl'], task: ['button-press'], seed: [0, 1, 2], data: ['dense'], teacher: ['regret'], variant: ['lambda-0.5', 'lambda-0.2', 'lambda-0.01'] },
  // DPPO's push-away weight (agent.contrastiveBias, lambda): the default 0.5 (not confirmed against the paper) and two smaller ones.
  variants: {
    'lambda-0.5': { algos: ['dppo'], config: {} },
    'lambda-0.2': { algos: ['dppo'], config: { agent: { contrastiveBias: 0.2 } } },
    'lambda-0.01': { algos: ['dppo'], config: { agent: { contrastiveBias: 0.01 } } },
  },
  steps: DPPO_STEPS,
  evalEvery: 500,
  evalEpisodes: 10,
  config: { maxPathLength: 200, agent: { hiddenDims: [64, 64] } },
  algoConfig: {
    dppo: { batchPairs: DPPO_PAIRS, agent: { predictorHiddenDims: [64, 64] } },
    cpl: { batchPairs: DPPO_PAIRS, agent: { lr: 1e-4, warmupSteps: DPPO_STEPS / 50 } },
    iql: { batchPairs: DPPO_PAIRS, agent: { lr: 1e-3, rewardHiddenDims: [64, 64], rewardSteps: DPPO_STEPS / 10, actorCosineSteps: DPPO_STEPS } },
  },
  datasets: { common: { episodes: 60, maxPathLength: 200, segmentLength: 64, goalObservable: false }, dense: { segments: 300, pairsPerSegment: 16 } },
};

/**
 * `rbrl-offline-small`: rating-based RL offline (agents/offline/rbrl-iql.ts: IQL on a reward fitted to
 * segment ratings with RbRL's loss) vs P-IQL on the same datasets, at dppo-small's scale on the three
 * offline-cpl-scripted-reduced tasks where P-IQL learned something (button-press, door-open, plate-slide; goal
 * hidden): dense datasets of 60 rollouts x 200 steps, 300 segments of 64 steps, each rated into 3
 * classes by its true return (equal-width bins over the dataset's range) and compared with 16 random
 * partners by the oracle (4800 pairs). So RbRL reads 300 ratings where P-IQL reads 4800 pair labels
 * (the paper's equal-query comparison would give P-IQL 300 pairs). 3000 gradient steps, 64 x 64 nets,
 * 32 pairs (64 segments) per batch, reward trained for the first 300 steps, seeds 0-2: 18 cells.
 */
const rbrlOfflineSmall: SuiteSpec = {
  name: 'rbrl-offline-small',
  description: 'Rating-based RL offline (rbrl-iql) vs P-IQL on the same datasets: button-press, door-open, plate-slide (goal hidden), 60 x 200-step scripted-mix rollouts, 300 segments rated into 3 classes (RbRL: 300 ratings) and 16 oracle pairs each (P-IQL: 4800 pairs), 3000 gradient steps, 64x64 nets, 32 pairs per batch, 3 seeds.',
  smokeScale: true,
  axes: { algo: ['rbrl-iql', 'iql'], task: ['button-press', 'door-open', 'plate-slide'], seed: [0, 1, 2], data: ['dense'], teacher: ['oracle'] },
  steps: DPPO_STEPS,
  evalEvery: 500,
  evalEpisodes: 10,
  config: { maxPathLength: 200, agent: { hiddenDims: [64, 64] } },
  algoConfig: {
    'rbrl-iql': { batchPairs: DPPO_PAIRS, agent: { lr: 1e-3, rewardHiddenDims: [64, 64], rewardSteps: DPPO_STEPS / 10, actorCosineSteps: DPPO_STEPS } },
    iql: { batchPairs: DPPO_PAIRS, agent: { lr: 1e-3, rewardHiddenDims: [64, 64], rewardSteps: DPPO_STEPS / 10, actorCosineSteps: DPPO_STEPS } },
  },
  datasets: {
    common: { episodes: 60, maxPathLength: 200, segmentLength: 64, goalObservable: false, ratingTeacher: 'rating:classes=3' },
    dense: { segments: 300, pairsPerSegment: 16 },
  },
};

/**
 * `rbrl-offline-equal-queries`: rbrl-offline-small's P-IQL with as many pair labels as RbRL has ratings
 * (the paper's equal-query comparison): the same 300 segments, each compared with one random partner
 * (300 oracle pairs). The rated segments, and so rbrl-iql's input, are the same as rbrl-offline-small's.
 */
const rbrlOfflineEqualQueries: SuiteSpec = {
  ...rbrlOfflineSmall,
  name: 'rbrl-offline-equal-queries',
  description: "rbrl-offline-small's P-IQL with 300 oracle pairs (one partner per segment), as many labels as rbrl-iql's 300 ratings; 3 tasks, 3 seeds.",
  axes: { ...rbrlOfflineSmall.axes, algo: ['iql'] },
  algoConfig: { iql: rbrlOfflineSmall.algoConfig!.iql },
  datasets: { ...rbrlOfflineSmall.datasets, dense: { segments: 300, pairsPerSegment: 1 } },
};

export const ZOO_SUITES: Readonly<Record<string, SuiteSpec>> = {
  'qpa-small': qpaSmall, 'rbrl-small': rbrlSmall, 'heron-small': heronSmall, 'dppo-small': dppoSmall, 'prior-small': priorSmall,
  'rbrl-offline-small': rbrlOfflineSmall, 'rbrl-offline-equal-queries': rbrlOfflineEqualQueries,
};
