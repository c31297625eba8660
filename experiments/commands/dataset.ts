/**
 * `pbrl dataset`: offline preference datasets.
 *   make        roll out mixed-quality policies, cut segments, label pairs with a teacher, write a .pbrlds file
 *   info        print a dataset's header summary (validates the whole file)
 *   export-npz  write the dataset as a numpy .npz
 */
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { describeTeachers } from '../../reward/teachers/parse.js';
import { describeDataset, readDataset, writeDataset } from '../datasets/format.js';
import { makeDataset, type MakeDatasetOptions } from '../datasets/make.js';
import { writeDatasetNpz } from '../datasets/npz.js';
import { parseEnvVersion } from '../../envs/sawyer-env.js';

export interface MakeOpts {
  task: string;
  kind: string;
  teacher: string;
  seed: string;
  episodes?: string;
  segments?: string;
  segmentLength?: string;
  pairsPerSegment?: string;
  maxPathLength?: string;
  noise?: string;
  random?: boolean;
  checkpoint?: string[];
  checkpointNoise?: string;
  policy?: string;
  actionNoise?: string;
  valueFrom?: string;
  valueSamples?: string;
  poses?: boolean;
  ratingTeacher?: string;
  goalObservable?: boolean;
  envVersion?: string;
  valueHorizon?: string;
  valueGamma?: string;
  out: string;
  npz?: string;
  progress: boolean;
}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function nonNeg(name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got "${v}"`);
  return n;
}

/**
 * `pbrl dataset make`'s flags as make options (unset flags left out, so the schema's defaults apply).
 * The bench runner builds datasets through these flags (experiments/bench/cell.ts datasetMakeArgs);
 * its tests parse them back through here.
 */
export function makeOptionsFromCli(opts: MakeOpts): MakeDatasetOptions {
  if (opts.kind !== 'dense' && opts.kind !== 'sparse') throw new Error(`--kind must be "dense" or "sparse", got "${opts.kind}"`);
  if (opts.policy !== undefined && opts.noise !== undefined) throw new Error('--policy replaces the scripted mix, so --noise does not apply; use --checkpoint to add SAC runs to the scripted mix instead');
  if (opts.actionNoise !== undefined && opts.policy === undefined) throw new Error('--action-noise applies to --policy only (--checkpoint-noise for --checkpoint)');
  const options: MakeDatasetOptions = {
    task: opts.task,
    kind: opts.kind,
    teacher: opts.teacher,
    seed: int('seed', opts.seed, 0),
    episodes: int('episodes', opts.episodes, 1),
    segments: int('segments', opts.segments, 2),
    segmentLength: int('segment-length', opts.segmentLength, 1),
    pairsPerSegment: int('pairs-per-segment', opts.pairsPerSegment, 0),
    maxPathLength: int('max-path-length', opts.maxPathLength, 1),
    noise: opts.noise?.split(',').map((s) => nonNeg('noise', s)),
    includeRandom: Boolean(opts.random),
    checkpoints: opts.checkpoint ?? [],
    checkpointNoise: opts.checkpointNoise === undefined ? undefined : nonNeg('checkpoint-noise', opts.checkpointNoise),
    policy: opts.policy,
    actionNoise: opts.actionNoise === undefined ? undefined : nonNeg('action-noise', opts.actionNoise),
    valueFrom: opts.valueFrom,
    valueSamples: int('value-samples', opts.valueSamples, 1),
    poses: Boolean(opts.poses),
    ratingTeacher: opts.ratingTeacher,
    goalObservable: Boolean(opts.goalObservable),
    envVersion: opts.envVersion === undefined ? undefined : parseEnvVersion(opts.envVersion, '--env-version'),
    valueHorizon: int('value-horizon', opts.valueHorizon, 1),
    valueGamma: opts.valueGamma === undefined ? undefined : nonNeg('value-gamma', opts.valueGamma),
  };
  for (const k of Object.keys(options) as (keyof MakeDatasetOptions)[]) if (options[k] === undefined) delete options[k];
  return options;
}

export function register(program: Command): void {
  const ds = program.command('dataset').description('offline preference datasets: make, info, export-npz');

  ds.command('make')
    .description('roll out policies of mixed quality, cut segments and label pairs with a teacher (CPL-style)')
    .requiredOption('--task <name>', 'task name (see `pbrl envs`)')
    .requiredOption('--kind <dense|sparse>', 'dense: few segments, many comparisons each; sparse: many segments, one comparison each')
    .option('--teacher <spec>', 'teacher spec, e.g. oracle, stoc:beta=1, mistake:eps=0.1', 'oracle')
    .option('--seed <n>', 'random seed', '0')
    .option('--episodes <n>', 'rollouts in all (default 250)')
    .option('--segments <n>', 'segments (default 2500 dense, 20000 sparse)')
    .option('--segment-length <n>', 'segment length H (default 64)')
    .option('--pairs-per-segment <n>', 'dense: random partners per segment (default 0 = every pair)')
    .option('--max-path-length <n>', 'episode length (default 500)')
    .option('--noise <list>', 'action-noise stds of the scripted expert, comma-separated (default 0.1,0.3,0.6,1)')
    .option('--random', 'add a uniform-random-action source')
    .option('--checkpoint <dir...>', 'SAC run folders (pbrl train --algo sac) to roll out as extra sources')
    .option('--checkpoint-noise <std>', 'action-noise std on SAC checkpoints (default 0.3)')
    .option('--policy <sac>', 'the CPL recipe: roll out this SAC checkpoint (pbrl train --algo sac run folder, or its agent.json) instead of the scripted mix')
    .option('--action-noise <std>', 'Gaussian action-noise std on --policy, clipped to [-1, 1] (default 0.3, as CPL)')
    .option('--value-from <sac>', 'regret teacher: V(s) from this SAC checkpoint\'s critic (mean of the Q heads over sampled actions, as CPL\'s rl_sum) instead of scripted-expert rollouts')
    .option('--value-samples <n>', 'regret teacher with --value-from: actions sampled per state (default 64)')
    .option('--poses', 'record body poses (for the viewer; larger file)')
    .option('--rating-teacher <spec>', 'also rate every segment into k classes for rating-based RL (pbrl train --algo rbrl-iql), e.g. rating:classes=3 (return range: this dataset\'s segment returns unless lo/hi are given)')
    .option('--goal-observable', 'show the goal in obs[36:39] (default hidden, as Meta-World\'s raw tasks and B-Pref; the scripted expert reads it from the env either way)')
    .option('--env-version <v>', 'Meta-World version to match where they differ: v2 (B-Pref, mid-2021; default) | v3')
    .option('--value-horizon <n>', 'regret teacher: expert steps per V* estimate (default 200)')
    .option('--value-gamma <x>', 'regret teacher: discount of the V* estimate (default 0.99)')
    .requiredOption('--out <file>', 'dataset file to write (.pbrlds)')
    .option('--npz <file>', 'also write a numpy .npz')
    .option('--no-progress', 'no progress output')
    .addHelpText('after', `\nTeachers (regret: V* from scripted-expert rollouts replayed from each segment boundary):\n${describeTeachers()}\n\nExample:\n  pbrl dataset make --task drawer-open --kind dense --segments 500 --pairs-per-segment 32 --out data/drawer-open-dense.pbrlds`)
    .action(async (opts: MakeOpts) => {
      const options = makeOptionsFromCli(opts);
      const bar = opts.progress && process.stderr.isTTY ? new SingleBar({ format: '{stage} {bar} {value}/{total} | ETA {eta_formatted}', stream: process.stderr }) : null;
      let stage = '';
      const t0 = performance.now();
      const dataset = await makeDataset(options, (s, done, total) => {
        if (!bar) return;
        if (s !== stage) {
          if (stage) bar.stop();
          stage = s;
          bar.start(total, 0, { stage: s });
        }
        if (done % 10 === 0 || done === total) bar.update(done, { stage: s });
      });
      bar?.stop();
      writeDataset(opts.out, dataset);
      if (opts.progress) console.log(`${describeDataset(dataset)}\nwrote ${opts.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (opts.npz) {
        writeDatasetNpz(opts.npz, dataset);
        if (opts.progress) console.log(`wrote ${opts.npz}`);
      }
    });

  ds.command('info')
    .description('check a dataset file and print its summary')
    .argument('<file>', 'dataset file')
    .action((file: string) => {
      console.log(describeDataset(readDataset(file)));
    });

  ds.command('export-npz')
    .description('write a dataset as a numpy .npz (np.load(f)["obs"], ...; header as JSON bytes in "header")')
    .argument('<file>', 'dataset file')
    .argument('<out>', '.npz file to write')
    .action((file: string, out: string) => {
      writeDatasetNpz(out, readDataset(file));
      console.log(`wrote ${out}`);
    });
}
