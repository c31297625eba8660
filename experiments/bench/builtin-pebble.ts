/**
 * PEBBLE's fidelity suites (the PEBBLE fidelity issue): the CI learning-test config across seeds, and
 * the diagnostics that separate the loop from reward learning, both beside SAC on the true reward.
 */
import type { SuiteSpec } from './suite.js';

/**
 * `pebble-small`: the config of PEBBLE's CI learning test (test/agents/pebble.test.ts) across three
 * seeds, beside SAC on the true reward in the same config: the numbers the README quotes for it.
 */
const pebbleSmall: SuiteSpec = {
  name: 'pebble-small',
  description:
    "PEBBLE's CI learning-test config across seeds: reach with the goal visible, 5k env steps of 100-step episodes, 2x64 nets, " +
    'an oracle with a 1000-query budget at 100 per round every 500 steps (800 asked by 5k), 50 reward epochs; SAC on the true reward in the same config.',
  smokeScale: true,
  axes: { algo: ['sac', 'pebble'], task: ['reach'], seed: [0, 1, 2], teacher: ['oracle'], feedback: [{ maxFeedback: 1000, queriesPerRound: 100 }] },
  steps: 5000,
  evalEvery: 1000,
  evalEpisodes: 10,
  config: {
    maxPathLength: 100, batchSize: 128, seedSteps: 500, checkpointEvery: 100_000,
    sac: { hiddenDims: [64, 64], actorLr: 1e-3, criticLr: 1e-3 },
  },
  algoConfig: {
    pebble: {
      pebble: { unsupSteps: 500, numInteract: 500 },
      reward: { model: { hiddenDims: [64, 64] }, feedback: { epochs: 50 } },
    },
  },
  taskConfig: { reach: { goalObservable: true } },
};

/**
 * `pebble-diagnose`: pebble-small's config with one part changed at a time. `true-reward` keeps the
 * whole schedule (pre-training, critic reset, relabelling) but trains on the env's reward: the loop
 * alone. `labels-x4` asks four times the queries per round; `epochs-200` trains the reward model up
 * to 200 epochs a round (B-Pref's config default; early stop at 97% still applies). The budget is set
 * per variant, so there is no feedback axis (an axis would override the variants' budgets).
 */
const pebbleDiagnose: SuiteSpec = {
  ...pebbleSmall,
  name: 'pebble-diagnose',
  description:
    'pebble-small with one part changed at a time: the loop on the true reward (no reward learning), 4x the labels, 200 reward epochs; SAC beside. 15 cells.',
  axes: { algo: ['sac', 'pebble'], task: ['reach'], seed: [0, 1, 2], teacher: ['oracle'], variant: ['learned', 'true-reward', 'labels-x4', 'epochs-200'] },
  algoConfig: {
    pebble: {
      pebble: { unsupSteps: 500, numInteract: 500 },
      reward: { model: { hiddenDims: [64, 64] }, feedback: { epochs: 50, maxFeedback: 1000, queriesPerRound: 100 } },
    },
  },
  variants: {
    learned: { algos: ['pebble'], config: {} },
    'true-reward': { algos: ['pebble'], config: { pebble: { rewardSource: 'true' } } },
    'labels-x4': { algos: ['pebble'], config: { reward: { feedback: { maxFeedback: 4000, queriesPerRound: 400 } } } },
    'epochs-200': { algos: ['pebble'], config: { reward: { feedback: { epochs: 200 } } } },
  },
};

export const PEBBLE_SUITES: Readonly<Record<string, SuiteSpec>> = { 'pebble-small': pebbleSmall, 'pebble-diagnose': pebbleDiagnose };
