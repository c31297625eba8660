/**
 * Offline suites on the CPL reference's own data recipe (issue 13; jhejna/cpl scripts/create_dataset.py,
 * add_pref_labels.py; reference/pbrl.md §4.2): every dataset rolls out a SAC policy trained on the true
 * reward with Gaussian action noise 0.3, and its regret labels take V from that SAC run's critic.
 *
 * The local runner first trains one SAC per task into the bench output folder (`behaviourSac`; dataset
 * jobs run there, so the relative path `sac/{task}` resolves against it), or uses the run already there,
 * e.g. one trained by hand with `pbrl train --algo sac --task button-press --out <bench-out>/sac/button-press`.
 * The reference's behaviour policy is a sub-optimal SAC checkpoint: SAC is stopped early rather than at
 * its best (the step counts here are ours; the authors' checkpoint choice was not checked).
 *
 * `noise: []` turns the scripted mix off (the SAC policy replaces it). It also makes a dataset job fail
 * at once, at `--noise ''`, if the suite runner does not pass `--policy` and `--value-from` on to
 * `pbrl dataset make`, instead of quietly building a scripted-mix dataset under this suite's name.
 */
import type { SuiteSpec } from './suite.js';

const CPL_TASKS = ['bin-picking', 'button-press', 'door-open', 'drawer-open', 'plate-slide', 'sweep-into'];
const OFFLINE_ALGOS = ['bc', 'sft', 'percent-bc', 'iql', 'cpl', 'ipl'];

/** The reference recipe's dataset options (the SAC run path relative to the bench output folder). */
export const SAC_RECIPE = { policy: 'sac/{task}', actionNoise: 0.3, valueFrom: 'sac/{task}', valueSamples: 64, noise: [] as number[] };

/**
 * `offline-cpl`: the CPL paper's offline grid (six tasks, dense and sparse, 500k gradient steps, 25
 * evaluation episodes every 5000 steps, 4 seeds, reference agent configs) on SAC-recipe datasets, the
 * default for the CPL suites; `offline-cpl-scripted` (builtin.ts) keeps pbrl's scripted-mix data.
 */
const offlineCpl: SuiteSpec = {
  name: 'offline-cpl',
  description:
    "The CPL paper's offline grid on the reference's data recipe: datasets from a SAC checkpoint per task (sac/<task> in the bench folder, trained on the true reward) " +
    'rolled out with action noise 0.3, regret labels with V from that SAC critic; BC, SFT, %BC, P-IQL, CPL, IPL, 500k gradient steps, 4 seeds.',
  axes: { algo: OFFLINE_ALGOS, task: CPL_TASKS, seed: [0, 1, 2, 3], data: ['dense', 'sparse'], teacher: ['regret'] },
  steps: 500_000,
  evalEvery: 5000,
  evalEpisodes: 25,
  behaviourSac: { steps: 300_000 },
  datasets: {
    common: { episodes: 2500, segmentLength: 64, goalObservable: false, ...SAC_RECIPE },
    dense: { segments: 2500, pairsPerSegment: 32 },
    sparse: { segments: 20_000 },
  },
};

export const OFFLINE_SUITES: Readonly<Record<string, SuiteSpec>> = { 'offline-cpl': offlineCpl };
