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
    'an oracle with a 1000-query budget at 100 per round every 500 steps (900 asked by 5k, rounds at 1000, 1500, ..., 5000), 50 reward epochs; SAC on the true reward in the same config.',
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

/**
 * `pebble-bpref-small`: PEBBLE (oracle) against SAC on the true reward on B-Pref's Meta-World tasks with
 * the goal hidden, at the largest scale that fits a session on two cores. Scaled from B-Pref's scripts
 * (1M steps, 500-step episodes, 3x256 nets, 1000 random + 9000 unsupervised steps, a round of 50
 * queries every 5000 steps up to 10k): 30k steps (1/33), 200-step episodes, 2x128 nets for SAC and the
 * reward model, 1000 random + 2000 unsupervised steps, 100 queries every 1000 steps up to 2000 (so
 * labels arrive 5x faster per step than B-Pref's, for a run 33x shorter), 10 reward epochs a round as B-Pref.
 * SAC keeps B-Pref's 5000 random warm-up steps. Seeds 0-2.
 */
const pebbleBprefSmall: SuiteSpec = {
  name: 'pebble-bpref-small',
  description:
    "PEBBLE (oracle, 2000 queries at 100 per 1000 steps) vs SAC (true reward) on button-press, window-open and sweep-into with the goal hidden, 30k env steps of 200-step episodes, 2x128 nets, seeds 0-2 (B-Pref's schedule scaled down; experiments/bench/builtin-pebble.ts).",
  smokeScale: true,
  axes: {
    algo: ['sac', 'pebble'], task: ['button-press', 'window-open', 'sweep-into'], seed: [0, 1, 2], teacher: ['oracle'],
    feedback: [{ maxFeedback: 2000, queriesPerRound: 100 }],
  },
  steps: 30_000,
  evalEvery: 5000,
  evalEpisodes: 10,
  config: { maxPathLength: 200, batchSize: 256, checkpointEvery: 5000, goalObservable: false, sac: { hiddenDims: [128, 128] } },
  algoConfig: {
    sac: { seedSteps: 5000 },
    pebble: {
      seedSteps: 1000,
      pebble: { unsupSteps: 2000, numInteract: 1000 },
      // B-Pref's Meta-World scripts: reward_update=10 epochs a round (early stop at 97% as always).
      // 50 (pebble-small's) cost ~5x more per round once a thousand labels are in, for no gain
      // in reward correlation here (0.95 Spearman by 15k steps either way).
      reward: { model: { hiddenDims: [128, 128] }, feedback: { epochs: 10 } },
    },
  },
};

/**
 * `pebble-bpref-scaled-slow-alpha`: pebble-bpref-small with two more of B-Pref's proportions kept when the
 * run is scaled down, which pebble-bpref-small did not keep:
 * - the label budget spans the whole run. B-Pref's button-press/sweep-into scripts ask 100 queries every
 *   5000 steps up to 20000, i.e. 200 rounds ending at step 1M; pebble-bpref-small spent its 2000 by 22k of
 *   30k steps and froze r_hat for the last quarter, when on-policy rank correlation had fallen to 0.31-0.37.
 *   Here 75 queries every 1000 steps from step 3000: 27 rounds, 2000 labels by the last round.
 * - the query pool is the same share of the run: B-Pref samples segments from its last 100 episodes of 500
 *   steps (50k of 1M steps, 5%); 100 episodes of 200 steps here would be 20k of 30k (67%), mostly data the
 *   policy has left. 10 episodes (2000 steps, 6.7%).
 * SAC's cells are the same config as pebble-bpref-small's (same cell ids). The temperature still learns at
 * B-Pref's rate (alphaLr 1e-4): see pebble-bpref-scaled for why that is a third proportion to keep.
 */
const pebbleBprefScaledSlowAlpha: SuiteSpec = {
  ...pebbleBprefSmall,
  name: 'pebble-bpref-scaled-slow-alpha',
  description:
    "pebble-bpref-small with B-Pref's proportions kept for labels and queries: 75 queries every 1000 steps so the 2000-label budget lasts the run, and a query pool of the last 10 episodes (B-Pref: 100 of 500 steps, 5% of the run); temperature lr 1e-4 as B-Pref's 1M-step runs; seeds 0-2.",
  axes: { ...pebbleBprefSmall.axes, feedback: [{ maxFeedback: 2000, queriesPerRound: 75 }] },
  algoConfig: {
    ...pebbleBprefSmall.algoConfig,
    pebble: { ...pebbleBprefSmall.algoConfig!.pebble, pebble: { unsupSteps: 2000, numInteract: 1000, recentEpisodes: 10 } },
  },
};

/**
 * `pebble-bpref-scaled`: pebble-bpref-scaled-slow-alpha with the entropy temperature's learning rate scaled
 * as the run is (alphaLr 1e-3 for SAC and PEBBLE alike, B-Pref's 1e-4 x 10). Adam moves log(alpha) by about
 * alphaLr per update whatever the gradient's size, so in 30k steps alpha can fall by at most e^3 at 1e-4,
 * where B-Pref's 1M steps allow any value. That cap binds for PEBBLE, not for SAC: r_hat lies in (-1, 1)
 * (tanh) where Meta-World's reward spans 0-10, so at the same alpha PEBBLE's policy is ~10x hotter
 * relative to its reward. Measured on button-press (slow-alpha suite, seeds 0-1): SAC's policy entropy
 * reached the target (-4) by 10k steps and its alpha turned back up; PEBBLE's alpha fell at the cap the
 * whole run (0.083 -> 0.011) and its entropy reached the target only at ~30k, while its stochastic training
 * episodes went from 0.1 to 1.0 success only over 15-25k.
 */
const pebbleBprefScaled: SuiteSpec = {
  ...pebbleBprefScaledSlowAlpha,
  name: 'pebble-bpref-scaled',
  description:
    "pebble-bpref-scaled-slow-alpha with the temperature's learning rate scaled with the run (alphaLr 1e-3 for SAC and PEBBLE; B-Pref 1e-4 over 1M steps); SAC re-run in the same config; seeds 0-2.",
  config: { ...pebbleBprefSmall.config, sac: { hiddenDims: [128, 128], alphaLr: 1e-3 } },
};

/**
 * `pebble-loop`: pebble-bpref-small's PEBBLE schedule on button-press with the env's reward in place of
 * r_hat (pebble.rewardSource 'true': pre-training, relabel, critic reset, no queries). If this keeps
 * up with SAC while PEBBLE does not, the loop is sound and the gap is the learned reward.
 */
const pebbleLoop: SuiteSpec = {
  ...pebbleBprefSmall,
  name: 'pebble-loop',
  description: "pebble-bpref-small's PEBBLE schedule on button-press trained on the true reward (no reward learning): the loop alone, seeds 0-2.",
  axes: { algo: ['pebble'], task: ['button-press'], seed: [0, 1, 2], teacher: ['oracle'] },
  algoConfig: { pebble: { ...pebbleBprefSmall.algoConfig!.pebble, pebble: { unsupSteps: 2000, numInteract: 1000, rewardSource: 'true' } } },
};

/**
 * `pebble-state-reward`: pebble-bpref-small's PEBBLE on button-press with r_hat reading the state only
 * (reward.model.inputs 'state'). At 17k steps of a state-action run (seed 0, 50 reward epochs a
 * round), the policy's own actions scored 0.225 under r_hat at the last 2000 states, against 0.138
 * for the buffer's actions there and 0.072 for uniform random ones, while r_hat's spread over those
 * states was 0.36: a policy can raise r_hat by its choice of action alone, which Meta-World's reward
 * does not pay for.
 */
/** pebble-bpref-small's reward model (2x128, 10 epochs a round) reading the state only. */
const STATE_ONLY_REWARD = { model: { hiddenDims: [128, 128], inputs: 'state' }, feedback: { epochs: 10 } };

const pebbleStateReward: SuiteSpec = {
  ...pebbleBprefSmall,
  name: 'pebble-state-reward',
  description: "pebble-bpref-small's PEBBLE on button-press with a state-only reward model (r_hat(s)), seeds 0-2.",
  axes: { algo: ['pebble'], task: ['button-press'], seed: [0, 1, 2], teacher: ['oracle'], feedback: pebbleBprefSmall.axes.feedback },
  algoConfig: {
    pebble: {
      ...pebbleBprefSmall.algoConfig!.pebble,
      reward: STATE_ONLY_REWARD,
    },
  },
};

/**
 * `pebble-bpref-long`: PEBBLE (oracle) vs SAC on door-open and sweep-into, which neither learns within
 * pebble-bpref-scaled's 30k steps (SAC alone: door-open 0.1-0.2 at 80-100k steps, README). B-Pref's
 * schedule cut to 200k steps (1/5 of its 1M) instead of 1/33: its rounds kept as they are (50 queries
 * every 5000 steps, so 39 rounds and 1950 labels by the end, B-Pref's 10k x 1/5), a query pool of the
 * last 50 episodes (10k steps, B-Pref's 5% of the run), the temperature's learning rate scaled as the
 * run (5e-4: 200k x 5e-4 = B-Pref's 1M x 1e-4). Nets, episodes and warm-up as pebble-bpref-scaled.
 * Several hours of two cores: the suite resumes, so it can run over several sessions.
 */
/** pebble-bpref-long's PEBBLE schedule: B-Pref's 9000 unsupervised steps, a round every 5000, a pool of 50 episodes. */
const LONG_SCHEDULE = { unsupSteps: 9000, numInteract: 5000, recentEpisodes: 50 };

const pebbleBprefLong: SuiteSpec = {
  ...pebbleBprefSmall,
  name: 'pebble-bpref-long',
  description: "PEBBLE (oracle, 50 queries every 5000 steps to 1950) vs SAC on door-open and sweep-into, goal hidden, 200k env steps of 200-step episodes, 2x128 nets, alphaLr 5e-4, query pool of the last 50 episodes, seeds 0-2 (B-Pref's schedule at 1/5 of its length).",
  axes: { ...pebbleBprefSmall.axes, task: ['door-open', 'sweep-into'], feedback: [{ maxFeedback: 2000, queriesPerRound: 50 }] },
  steps: 200_000,
  evalEvery: 10_000,
  config: { ...pebbleBprefSmall.config, checkpointEvery: 10_000, sac: { hiddenDims: [128, 128], alphaLr: 5e-4 } },
  algoConfig: {
    ...pebbleBprefSmall.algoConfig,
    pebble: { ...pebbleBprefSmall.algoConfig!.pebble, pebble: LONG_SCHEDULE },
  },
};

/**
 * `pebble-bpref-long-loop`: pebble-bpref-long's PEBBLE schedule on door-open with the env's reward in
 * place of r_hat (as pebble-loop for button-press). In pebble-bpref-long PEBBLE never opened the door
 * to success on seeds 0-1 where SAC did (0.2 / 0.5 / 0.5 at 200k), while r_hat ranked the buffer at
 * Spearman 0.96 and ranked SAC's buffer's door-open states above its own best (bench/rhat-cross.ts):
 * this separates the loop (pre-training, relabels, critic reset) from the learned reward there.
 */
const pebbleBprefLongLoop: SuiteSpec = {
  ...pebbleBprefLong,
  name: 'pebble-bpref-long-loop',
  description: "pebble-bpref-long's PEBBLE schedule on door-open trained on the true reward (no reward learning): the loop alone at 200k steps, seeds 0-2.",
  axes: { algo: ['pebble'], task: ['door-open'], seed: [0, 1, 2], goalObservable: [false], teacher: ['oracle'] },
  algoConfig: {
    pebble: { ...pebbleBprefLong.algoConfig!.pebble, pebble: { ...LONG_SCHEDULE, rewardSource: 'true' } },
  },
};

/**
 * `pebble-bpref-long-state-reward`: pebble-bpref-long's PEBBLE on sweep-into with r_hat reading the state
 * only (reward.model.inputs 'state'; B-Pref's model reads state and action). In pebble-bpref-long, seed 0
 * reached 0.5 success at 50k and then fell to 0.0 (return ~29) from 110k, with r_hat's Pearson
 * correlation with the true reward at 0.09. At 160k (bench/rhat-actions.ts) the policy's own actions
 * scored 0.080 under r_hat at the last 2000 states against -0.169 for uniform random ones, a gap 5x
 * r_hat's spread over those states (0.046) and above what it gave the buffer's success states (0.038
 * against -0.044 for the rest): the policy was collecting r_hat through its actions.
 */
const pebbleBprefLongStateReward: SuiteSpec = {
  ...pebbleBprefLong,
  name: 'pebble-bpref-long-state-reward',
  description: "pebble-bpref-long's PEBBLE on sweep-into with a state-only reward model (r_hat(s)), seeds 0-2.",
  axes: { ...pebbleBprefLong.axes, algo: ['pebble'], task: ['sweep-into'] },
  algoConfig: {
    pebble: {
      ...pebbleBprefLong.algoConfig!.pebble,
      reward: STATE_ONLY_REWARD,
    },
  },
};

/** A suite's PEBBLE on button-press with B-Pref's noisy teachers beside the oracle (whose cells are the base suite's: same config, same cell ids). */
function withNoisyTeachers(base: SuiteSpec, name: string, description: string): SuiteSpec {
  return {
    ...base,
    name,
    description,
    axes: { ...base.axes, algo: ['pebble'], task: ['button-press'], teacher: ['oracle', 'stoc', 'mistake'] },
    algoConfig: { pebble: base.algoConfig!.pebble },
  };
}

/** `pebble-bpref-teachers`: pebble-bpref-small's config on button-press with B-Pref's noisy teachers beside the oracle. */
const pebbleBprefTeachers = withNoisyTeachers(
  pebbleBprefSmall, 'pebble-bpref-teachers',
  "pebble-bpref-small's config on button-press with the oracle, stoc (beta 1) and mistake (eps 0.1) teachers, seeds 0-2: does PEBBLE degrade in B-Pref's order?",
);

/** `pebble-bpref-scaled-teachers`: the same for pebble-bpref-scaled's PEBBLE. */
const pebbleBprefScaledTeachers = withNoisyTeachers(
  pebbleBprefScaled, 'pebble-bpref-scaled-teachers',
  "pebble-bpref-scaled's PEBBLE on button-press with the oracle, stoc (beta 1) and mistake (eps 0.1) teachers, seeds 0-2.",
);

export const PEBBLE_SUITES: Readonly<Record<string, SuiteSpec>> = {
  'pebble-small': pebbleSmall, 'pebble-diagnose': pebbleDiagnose, 'pebble-bpref-small': pebbleBprefSmall, 'pebble-bpref-scaled-slow-alpha': pebbleBprefScaledSlowAlpha, 'pebble-bpref-scaled': pebbleBprefScaled, 'pebble-bpref-scaled-teachers': pebbleBprefScaledTeachers, 'pebble-bpref-long': pebbleBprefLong, 'pebble-bpref-long-loop': pebbleBprefLongLoop, 'pebble-bpref-long-state-reward': pebbleBprefLongStateReward, 'pebble-loop': pebbleLoop, 'pebble-state-reward': pebbleStateReward, 'pebble-bpref-teachers': pebbleBprefTeachers,
};
