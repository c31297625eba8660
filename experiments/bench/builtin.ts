/**
 * The built-in suites (`pbrl bench list`). Each is an ordinary suite spec, so `pbrl bench list --json
 * NAME` prints one as a starting point for a suite file of your own.
 */
import { BPREF_TEACHERS } from '../../reward/teachers/parse.js';
import type { SuiteSpec } from './suite.js';
import { PEBBLE_SUITES } from './builtin-pebble.js';
import { ZOO_SUITES } from './builtin-zoo.js';
import { OFFLINE_SUITES, SAC_RECIPE } from './builtin-offline.js';

/** B-Pref's ten seeds (reference/pbrl.md §2.6). */
const BPREF_SEEDS = [12345, 23451, 34512, 45123, 51234, 67890, 78906, 89067, 90678, 6789];

/** BC, the reference's SFT and %BC (oracle: true returns), P-IQL, CPL, IPL. */
const OFFLINE_SUITE_ALGOS = ['bc', 'sft', 'percent-bc', 'iql', 'cpl', 'ipl'];

/** The state-based Meta-World tasks of the CPL paper's main table. */
const CPL_TASKS = ['bin-picking', 'button-press', 'door-open', 'drawer-open', 'plate-slide', 'sweep-into'];

/** Goal visibility as a train-config override (each suite chooses it per task on purpose). */
function goal(visible: boolean): Record<string, unknown> {
  return { goalObservable: visible };
}

/**
 * `quick`: the README's main job, sized to finish in <= 10 minutes with two cells at a time on a
 * 2-core machine. Reach with the goal in the observation (with the goal hidden, reach is a guess
 * at a random target), short episodes, small nets: enough for SAC on the true reward to start
 * succeeding and for PEBBLE's labels (oracle vs a noisy teacher) to show their cost in success.
 */
const quick: SuiteSpec = {
  name: 'quick',
  description:
    'Smoke-scale benchmark: SAC (true reward) vs PEBBLE with an oracle and with a noisy (stoc, beta=1) teacher on reach with the goal visible, ' +
    '3 seeds, 8k env steps of 200-step episodes, 2x128 nets, a 400-query budget at 40 per round every 1000 steps (280 asked by 8k). Shows the pipeline and a first ordering, not paper numbers.',
  smokeScale: true,
  axes: { algo: ['sac', 'pebble'], task: ['reach'], seed: [0, 1, 2], teacher: ['oracle', 'stoc'], feedback: [{ maxFeedback: 400, queriesPerRound: 40 }] },
  steps: 8000,
  evalEvery: 1000,
  evalEpisodes: 10,
  config: {
    maxPathLength: 200, batchSize: 256, seedSteps: 1000, checkpointEvery: 2000,
    sac: { hiddenDims: [128, 128] },
  },
  algoConfig: {
    pebble: {
      pebble: { unsupSteps: 1000, numInteract: 1000 },
      reward: { model: { hiddenDims: [128, 128] }, feedback: { segmentLength: 25 } },
    },
  },
  taskConfig: { reach: goal(true) },
};

/**
 * `bpref`: B-Pref's Meta-World grid at paper scale (reference/pbrl.md §1-2): PEBBLE with the six
 * teachers at both script budgets against SAC on the true reward, 1M steps, the ten seeds, goals
 * hidden as in Meta-World v2. 2 tasks x (6 teachers x 2 budgets + SAC) x 10 seeds = 260 cells: a
 * cluster's job (`--queue`).
 */
const bpref: SuiteSpec = {
  name: 'bpref',
  description: "B-Pref's Meta-World grid: PEBBLE with the six B-Pref teachers at 10k/50 and 20k/100 queries vs SAC (true reward), 1M env steps, 10 seeds, goal hidden.",
  axes: {
    algo: ['sac', 'pebble'],
    task: ['button-press', 'sweep-into'],
    seed: BPREF_SEEDS,
    teacher: Object.keys(BPREF_TEACHERS),
    feedback: [{ maxFeedback: 10_000, queriesPerRound: 50 }, { maxFeedback: 20_000, queriesPerRound: 100 }],
  },
  steps: 1_000_000,
  evalEvery: 10_000,
  evalEpisodes: 10,
  config: { ...goal(false) },
  // B-Pref's SAC baseline warms up on 5,000 random steps, PEBBLE on 1,000.
  algoConfig: { sac: { seedSteps: 5000 }, pebble: { seedSteps: 1000 } },
};

/**
 * `teacher-grid`: how PEBBLE degrades with each kind of teacher irrationality, one parameter swept
 * at a time — the study B-Pref ran with shell scripts. SAC on the true reward is the ceiling.
 */
const teacherGrid: SuiteSpec = {
  name: 'teacher-grid',
  description: 'PEBBLE on button-press across teacher irrationality: stochastic beta, mistake eps, myopic gamma, skip/equal thresholds, each at several values, vs oracle and SAC; 300k env steps, 5 seeds.',
  axes: {
    algo: ['sac', 'pebble'],
    task: ['button-press'],
    seed: [0, 1, 2, 3, 4],
    teacher: [
      'oracle',
      'stoc:beta=0.1', 'stoc:beta=1', 'stoc:beta=10',
      'mistake:eps=0.05', 'mistake:eps=0.1', 'mistake:eps=0.2', 'mistake:eps=0.3',
      'myopic:gamma=0.5', 'myopic:gamma=0.9', 'myopic:gamma=0.99',
      'skip:frac=0.1', 'skip:frac=0.3', 'skip:frac=0.5',
      'equal:frac=0.1', 'equal:frac=0.3', 'equal:frac=0.5',
    ],
    feedback: [{ maxFeedback: 5000, queriesPerRound: 50 }],
  },
  steps: 300_000,
  evalEvery: 10_000,
  evalEpisodes: 10,
  config: { ...goal(false) },
};

/**
 * `offline-cpl-scripted`: the CPL paper's offline grid at its scale (reference/pbrl.md §4) on pbrl's
 * scripted-mix data: six tasks, dense (2500 segments, many comparisons each) and sparse (20,000
 * segments, one each), regret labels with V* from scripted-expert rollouts, 500k gradient steps, 25
 * evaluation episodes every 5000 steps. `offline-cpl` (builtin-offline.ts) is the same grid on the
 * reference's own data recipe.
 */
const offlineCplScripted: SuiteSpec = {
  name: 'offline-cpl-scripted',
  description: "The CPL paper's offline grid on scripted-mix data (the scripted expert at several noise levels; V* from expert rollouts): BC, SFT, %BC, P-IQL, CPL, IPL on six Meta-World tasks, dense and sparse regret-labelled datasets, 500k gradient steps, 4 seeds; agent defaults are the reference configs (96 pairs, CPL/SFT BC phase 0.4 of the run, dropout 0.25).",
  axes: { algo: OFFLINE_SUITE_ALGOS, task: CPL_TASKS, seed: [0, 1, 2, 3], data: ['dense', 'sparse'], teacher: ['regret'] },
  steps: 500_000,
  evalEvery: 5000,
  evalEpisodes: 25,
  // Goal hidden, as in Meta-World's raw tasks (CPL's own choice is not in reference/ and was not checked).
  datasets: { common: { episodes: 2500, segmentLength: 64, goalObservable: false }, dense: { segments: 2500, pairsPerSegment: 32 }, sparse: { segments: 20_000 } },
};

/**
 * `offline-cpl-scripted-reduced`: the same grid cut to fit a session on two cores (bench/offline.ts's reduced
 * settings): 3000 gradient steps, 64x64 nets, 60 rollouts of 200 steps per dataset, 3 seeds. CPL and
 * SFT keep the paper's proportions through their default phase fraction (2/5 of the run as BC). BC,
 * SFT, %BC, CPL and P-IQL all get the same 32 pairs per batch (the reference gives them all 96);
 * BC, SFT, %BC, CPL use lr 1e-4, the value learners 1e-3; IPL 8 pairs (its reference batch is 16).
 */
const REDUCED_STEPS = 3000;
const REDUCED_PAIRS = 32;
const offlineCplScriptedReduced: SuiteSpec = {
  name: 'offline-cpl-scripted-reduced',
  description: 'offline-cpl-scripted with reduced steps (3000 gradient steps, 64x64 nets, 32 pairs per batch, 60 rollouts of 200 steps per dataset, 3 seeds): fits a session; smoke-scale.',
  smokeScale: true,
  axes: { algo: OFFLINE_SUITE_ALGOS, task: CPL_TASKS, seed: [0, 1, 2], data: ['dense', 'sparse'], teacher: ['regret'] },
  steps: REDUCED_STEPS,
  evalEvery: 500,
  evalEpisodes: 10,
  config: { maxPathLength: 200, agent: { hiddenDims: [64, 64] } },
  algoConfig: {
    bc: { batchPairs: REDUCED_PAIRS, agent: { lr: 1e-4 } },
    sft: { batchPairs: REDUCED_PAIRS, agent: { lr: 1e-4 } },
    'percent-bc': { batchPairs: REDUCED_PAIRS, agent: { lr: 1e-4 } },
    // Warm-up scaled as the run (the reference's 10k of 500k would be 60 steps; 3000 / 50 keeps the old value).
    cpl: { batchPairs: REDUCED_PAIRS, agent: { lr: 1e-4, warmupSteps: REDUCED_STEPS / 50 } },
    iql: { batchPairs: REDUCED_PAIRS, agent: { lr: 1e-3, rewardHiddenDims: [64, 64], rewardSteps: REDUCED_STEPS / 10, actorCosineSteps: REDUCED_STEPS } },
    ipl: { batchPairs: 8, agent: { lr: 1e-3 } },
  },
  datasets: { common: { episodes: 60, maxPathLength: 200, segmentLength: 64, goalObservable: false }, dense: { segments: 300, pairsPerSegment: 16 }, sparse: { segments: 1200 } },
};

/**
 * `offline-cpl-reduced`: offline-cpl-scripted-reduced on the reference's data recipe, the default for
 * the CPL suites: per task a 30k-step SAC (64 x 64, 200-step episodes, goal hidden) on the true reward,
 * trained by the runner into <out>/sac/<task>, rolled out with action noise 0.3 for the datasets, its
 * critic the V of the regret labels.
 */
const offlineCplReduced: SuiteSpec = {
  ...offlineCplScriptedReduced,
  name: 'offline-cpl-reduced',
  description: "The CPL grid cut to fit a session (3000 gradient steps, 64x64 nets, 32 pairs per batch, 60 rollouts of 200 steps per dataset, 3 seeds) on the reference's data recipe: datasets from a 30k-step SAC per task (trained first, into sac/<task>) with action noise 0.3, regret labels with V from its critic; smoke-scale.",
  behaviourSac: { steps: 30_000, config: { maxPathLength: 200, evalEvery: 10_000, checkpointEvery: 10_000, sac: { hiddenDims: [64, 64] } } },
  datasets: { ...offlineCplScriptedReduced.datasets!, common: { ...offlineCplScriptedReduced.datasets!.common, ...SAC_RECIPE } },
};

export const BUILTIN_SUITES: Readonly<Record<string, SuiteSpec>> = {
  quick, bpref, 'teacher-grid': teacherGrid, 'offline-cpl-scripted': offlineCplScripted, 'offline-cpl-scripted-reduced': offlineCplScriptedReduced, 'offline-cpl-reduced': offlineCplReduced, ...PEBBLE_SUITES,
  ...ZOO_SUITES, ...OFFLINE_SUITES,
};
