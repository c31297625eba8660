/**
 * Building an offline preference dataset the way the CPL paper does for Meta-World
 * (reference/pbrl.md §4.2): roll out policies of mixed quality, cut the episodes into length-H
 * segments, and label pairs of segments with a teacher.
 *
 * Policies: the task's scripted expert with Gaussian action noise at several levels (our stand-in for
 * CPL's noisy sub-optimal SAC policy), optionally uniform-random actions, and SAC checkpoints
 * (`pbrl train --algo sac` run folders) with action noise (CPL: std 0.3). Episode k uses source
 * k mod S, so every source gets an equal share.
 *
 * Kinds (CPL's two settings):
 *   dense:  N segments (paper: 2500), each compared with many others — by default every pair
 *           (N(N-1)/2), as the paper's "comparisons between all pairs"; or k random partners each.
 *   sparse: N segments (paper: 20000) in N/2 disjoint pairs, one comparison per segment.
 * Labels come from any teacher spec (reward/teachers/parse.ts); a skipped query is counted in the
 * header and not stored. Relative skip/equal thresholds use B-Pref's return margin of these rollouts.
 */
import { z } from 'zod';
import { Rng } from '../../core/rng.js';
import { SAC } from '../../agents/sac.js';
import { getTask, makeEnv } from '../../envs/registry.js';
import { EpisodeRecorder } from '../../envs/recorder.js';
import { DEFAULT_ENV_VERSION, ENV_VERSIONS } from '../../envs/sawyer-env.js';
import { segmentId, type RewardSegment } from '../../reward/segments.js';
import { parseRatingTeacher, parseSpecParts, parseTeacher } from '../../reward/teachers/parse.js';
import { returnMargin } from '../../reward/teachers/teacher.js';
import { ratingTeacherSpec } from '../../reward/rating-learner.js';
import { versions } from '../versions.js';
import { expertValues } from './expert-value.js';
import { DATASET_FORMAT, DATASET_VERSION, type DatasetHeader, type DatasetSource, type OfflineDataset } from './format.js';
import { checkSacRunMatches, loadSacCheckpoint, type SacCheckpoint, sacCriticValues, valueSampleNoise } from './sac-checkpoint.js';

/** The scripted mix's noise levels unless `noise` is given. */
export const DEFAULT_SCRIPTED_NOISE = [0.1, 0.3, 0.6, 1.0];

export const MakeDatasetSchema = z
  .object({
    task: z.string().superRefine((t, ctx) => {
      try {
        getTask(t);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }),
    kind: z.enum(['dense', 'sparse']),
    teacher: z.string().min(1).default('oracle'),
    seed: z.number().int().nonnegative().default(0),
    /** Rollouts in all (CPL: 2500). */
    episodes: z.number().int().positive().default(250),
    /** Segments N; default 2500 (dense) or 20000 (sparse), the paper's counts. */
    segments: z.number().int().min(2).optional(),
    /** Segment length H (CPL: 64). */
    segmentLength: z.number().int().positive().default(64),
    /** Dense only: random partners per segment; 0 = every pair. */
    pairsPerSegment: z.number().int().nonnegative().default(0),
    maxPathLength: z.number().int().positive().default(500),
    /** Show the goal in obs[36:39] (default hidden, as Meta-World's raw tasks and B-Pref/CPL's tasks). */
    goalObservable: z.boolean().default(false),
    /** Meta-World version the env matches where v2 and v3 differ. */
    envVersion: z.enum(ENV_VERSIONS).default(DEFAULT_ENV_VERSION),
    /**
     * Std of the Gaussian noise on the scripted expert's actions, one source per level (the scripted
     * mix). Not used when `policy` replaces the mix (the CLI refuses --noise with --policy).
     */
    noise: z.array(z.number().nonnegative()).default(DEFAULT_SCRIPTED_NOISE),
    /**
     * The reference recipe's behaviour policy: a SAC checkpoint (run folder, its checkpoint/ or an
     * agent.json) rolled out with Gaussian action noise `actionNoise`, instead of the scripted mix.
     * `{task}` in the path is replaced by the task name, so one suite entry serves every task.
     */
    policy: z.string().min(1).optional(),
    /** Action-noise std on `policy` (CPL: 0.3). */
    actionNoise: z.number().nonnegative().default(0.3),
    /** Add a uniform-random-action source. */
    includeRandom: z.boolean().default(false),
    /** SAC run folders (with checkpoint/agent.json) used as extra sources. */
    checkpoints: z.array(z.string()).default([]),
    /** Action noise std on SAC checkpoints (CPL: 0.3). */
    checkpointNoise: z.number().nonnegative().default(0.3),
    /**
     * Regret teacher only: V from this SAC checkpoint's critic (the reference's oracle critic; see
     * sac-checkpoint.ts) instead of scripted-expert rollouts. `{task}` as in `policy`.
     */
    valueFrom: z.string().min(1).optional(),
    /** Actions sampled per state for the critic's V (the reference: 64). */
    valueSamples: z.number().int().positive().default(64),
    /** Regret teacher only: discount and horizon of the expert-rollout V* estimate (expert-value.ts). */
    valueGamma: z.number().gt(0).max(1).default(0.99),
    valueHorizon: z.number().int().positive().default(200),
    /** Record body poses (for the viewer); makes the file larger. */
    poses: z.boolean().default(false),
    /**
     * Also rate every segment with this rating teacher (`rating:classes=3`; without lo/hi its return
     * range is the lowest and highest segment return of this dataset), for rating-based RL (rbrl-iql).
     */
    ratingTeacher: ratingTeacherSpec.optional(),
  })
  .strict();

export type MakeDatasetOptions = z.input<typeof MakeDatasetSchema>;
type Resolved = z.infer<typeof MakeDatasetSchema>;

/** Every pair of a dense dataset beyond this is refused: it would not fit comfortably in memory. */
const MAX_PAIRS = 20_000_000;

type PolicyFn = (obs: Float32Array, rng: Rng) => Float32Array;

interface Source {
  info: DatasetSource;
  act: PolicyFn;
  dispose?: () => void;
}

function noisy(base: (obs: Float32Array) => Float32Array, std: number): PolicyFn {
  return (obs, rng) => {
    const a = Float32Array.from(base(obs));
    if (std > 0) for (let i = 0; i < a.length; i++) a[i] += std * rng.normal();
    for (let i = 0; i < a.length; i++) a[i] = Math.max(-1, Math.min(1, a[i]));
    return a;
  };
}

function sacSource(sac: SAC, label: string, std: number): Source {
  return {
    info: { policy: `sac:${label}`, noise: std, episodes: 0, successRate: 0, meanReturn: 0 },
    act: noisy((obs) => sac.act(obs, 1, true), std),
    dispose: () => sac.dispose(),
  };
}

export interface MakeProgress {
  (stage: 'rollouts' | 'values' | 'labels', done: number, total: number): void;
}

export async function makeDataset(options: MakeDatasetOptions, onProgress?: MakeProgress): Promise<OfflineDataset> {
  const parsed = MakeDatasetSchema.safeParse(options);
  if (!parsed.success) throw new Error(`invalid dataset options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const o: Resolved = parsed.data;
  const withTask = (p: string | undefined) => p?.replaceAll('{task}', o.task);
  o.policy = withTask(o.policy);
  o.valueFrom = withTask(o.valueFrom);
  const N = o.segments ?? (o.kind === 'dense' ? 2500 : 20_000);
  const H = o.segmentLength;
  const T = o.maxPathLength;
  if (H > T) throw new Error(`segmentLength ${H} is longer than an episode (maxPathLength ${T})`);
  if (o.kind === 'sparse' && N % 2 !== 0) throw new Error(`segments must be even for a sparse dataset (disjoint pairs), got ${N}`);
  if (o.kind === 'sparse' && o.pairsPerSegment !== 0) throw new Error('pairsPerSegment applies to dense datasets only');
  const P = o.kind === 'sparse' ? N / 2 : o.pairsPerSegment > 0 ? N * o.pairsPerSegment : (N * (N - 1)) / 2;
  if (P > MAX_PAIRS) throw new Error(`a dense dataset of ${N} segments has ${P} pairs (over ${MAX_PAIRS}); give pairsPerSegment (e.g. 32) or fewer segments`);

  const task = getTask(o.task);
  const env = await makeEnv(o.task, { maxPathLength: T, seed: o.seed, goalObservable: o.goalObservable, version: o.envVersion });
  // The expert gets the goal from the env (privileged) when the observation hides it.
  const expert = task.scripted(env);
  const obsDim = env.observationSpace.size;
  const actDim = env.actionSpace.size;
  const root = new Rng(o.seed);

  const usesRegret = parseSpecParts(o.teacher).some((p) => p.name === 'regret');
  if (o.valueFrom !== undefined && !usesRegret) throw new Error(`valueFrom: only the regret teacher reads V; teacher "${o.teacher}" does not`);
  // A SAC behaviour policy replaces the scripted mix (checkpoints add SAC sources to the mix instead).
  const noiseLevels = o.policy === undefined ? o.noise : [];
  const sources: Source[] = noiseLevels.map((std) => ({ info: { policy: 'scripted', noise: std, episodes: 0, successRate: 0, meanReturn: 0 }, act: noisy(expert, std) }));
  let behaviour: DatasetHeader['behaviour'] = { kind: 'scripted-mix' };
  const loaded: Source[] = [];
  // Loaded before the rollouts so a bad checkpoint fails at once, not after them.
  let valueCk: SacCheckpoint | undefined;
  try {
    if (o.valueFrom !== undefined) {
      valueCk = await loadSacCheckpoint(o.valueFrom, obsDim, actDim);
      checkSacRunMatches(valueCk, o.task, o.goalObservable, 'value-from');
    }
    if (o.policy !== undefined) {
      const ck = await loadSacCheckpoint(o.policy, obsDim, actDim);
      loaded.push(sacSource(ck.sac, o.policy, o.actionNoise));
      checkSacRunMatches(ck, o.task, o.goalObservable, 'policy');
      behaviour = { kind: 'sac', checkpoint: ck.file, actionNoise: o.actionNoise };
    }
    for (const dir of o.checkpoints) {
      const ck = await loadSacCheckpoint(dir, obsDim, actDim);
      loaded.push(sacSource(ck.sac, dir, o.checkpointNoise));
      checkSacRunMatches(ck, o.task, o.goalObservable, 'checkpoint');
    }
  } catch (e) {
    loaded.forEach((s) => s.dispose?.());
    valueCk?.sac.dispose();
    env.close();
    throw e;
  }
  // Order: the SAC behaviour policy, the scripted mix, random, extra checkpoints (the order before
  // `policy` existed, so older option sets give the same episodes).
  if (o.includeRandom) sources.push({ info: { policy: 'random', noise: 0, episodes: 0, successRate: 0, meanReturn: 0 }, act: (_obs, rng) => env.actionSpace.sample(rng) });
  const nPolicy = o.policy !== undefined ? 1 : 0;
  sources.unshift(...loaded.slice(0, nPolicy));
  sources.push(...loaded.slice(nPolicy));
  if (sources.length === 0) {
    valueCk?.sac.dispose();
    env.close();
    throw new Error('no rollout policies: give at least one noise level, includeRandom, a checkpoint or a policy');
  }

  // ---- Rollouts ----
  const E = o.episodes;
  const obs = new Float32Array(E * (T + 1) * obsDim);
  const actions = new Float32Array(E * T * actDim);
  const rewards = new Float32Array(E * T);
  const success = new Uint8Array(E * T);
  const episodeSource = new Int32Array(E);
  const returns = new Float64Array(E);
  const episodeSeeds = new Float64Array(E);
  let poses: Float32Array | undefined;
  let poseBodies: string[] | undefined;
  const recorder = new EpisodeRecorder(env, o.poses);
  try {
    for (let k = 0; k < E; k++) {
      const s = k % sources.length;
      const seed = root.split('episode').split(k).nextUint32();
      episodeSeeds[k] = seed;
      const rng = root.split('action-noise').split(k);
      let { obs: ob } = env.reset({ seed });
      recorder.start(ob, seed);
      let ret = 0;
      let solved = false;
      for (;;) {
        const a = sources[s].act(ob, rng);
        const r = env.step(a);
        recorder.record(a, r);
        ret += r.reward;
        if (r.info.success) solved = true;
        ob = r.obs;
        if (r.terminated || r.truncated) break;
      }
      const traj = recorder.finish({ source: s });
      if (traj.length !== T) throw new Error(`episode ${k} ended after ${traj.length} steps, expected ${T} (datasets need fixed-length, time-limited episodes)`);
      obs.set(traj.obs, k * (T + 1) * obsDim);
      actions.set(traj.actions, k * T * actDim);
      rewards.set(traj.rewards, k * T);
      success.set(traj.success, k * T);
      if (traj.poses) {
        poseBodies ??= traj.poses.bodyNames;
        poses ??= new Float32Array(E * traj.poses.data.length);
        poses.set(traj.poses.data, k * traj.poses.data.length);
      }
      episodeSource[k] = s;
      returns[k] = ret;
      const info = sources[s].info;
      info.episodes++;
      info.successRate += solved ? 1 : 0;
      info.meanReturn += ret;
      onProgress?.('rollouts', k + 1, E);
    }
  } catch (e) {
    valueCk?.sac.dispose();
    throw e;
  } finally {
    env.close();
    sources.forEach((s) => s.dispose?.());
  }
  for (const s of sources) {
    if (s.info.episodes > 0) {
      s.info.successRate /= s.info.episodes;
      s.info.meanReturn /= s.info.episodes;
    }
  }

  // ---- Segments: uniform episode, uniform start (B-Pref / CPL sampling) ----
  const segRng = root.split('segments');
  const segEpisode = new Int32Array(N);
  const segStart = new Int32Array(N);
  const segs: RewardSegment[] = new Array(N);
  for (let i = 0; i < N; i++) {
    const e = segRng.int(E);
    const st = segRng.int(T - H + 1);
    segEpisode[i] = e;
    segStart[i] = st;
    // Views into the episode arrays, not copies: a sparse dataset has 20k segments.
    segs[i] = {
      id: segmentId(o.task, e, st, H),
      task: o.task,
      source: { trajectory: e, start: st },
      length: H,
      obsDim,
      actDim,
      obs: obs.subarray((e * (T + 1) + st) * obsDim, (e * (T + 1) + st + H) * obsDim),
      actions: actions.subarray((e * T + st) * actDim, (e * T + st + H) * actDim),
      rewards: rewards.subarray(e * T + st, e * T + st + H),
      success: success.subarray(e * T + st, e * T + st + H),
      finalObs: obs.subarray((e * (T + 1) + st + H) * obsDim, (e * (T + 1) + st + H + 1) * obsDim),
    };
  }

  // ---- Pairs and labels ----
  const margin = returnMargin(returns, H, T);
  let valueFn: ((obs: Float32Array) => number) | undefined;
  let regretValue: DatasetHeader['regretValue'];
  if (usesRegret) {
    // V* at each segment's first and final state, looked up by the row the segment's view starts at.
    const rows = new Set<number>();
    for (let i = 0; i < N; i++) {
      rows.add(segEpisode[i] * (T + 1) + segStart[i]);
      rows.add(segEpisode[i] * (T + 1) + segStart[i] + H);
    }
    let values: Float32Array;
    if (valueCk) {
      const ck = valueCk;
      try {
        const list = [...rows];
        const eps = valueSampleNoise(root.split('value-samples'), o.valueSamples, actDim);
        const v = sacCriticValues(ck.sac, obs, list, eps);
        values = new Float32Array(E * (T + 1)).fill(NaN);
        list.forEach((r, i) => (values[r] = v[i]));
        regretValue = { source: 'sac-critic', checkpoint: ck.file, samples: o.valueSamples };
        onProgress?.('values', list.length, list.length);
      } finally {
        ck.sac.dispose();
      }
    } else {
      values = await expertValues(o.task, episodeSeeds, obs, actions, T, rows, {
        gamma: o.valueGamma, horizon: o.valueHorizon, goalObservable: o.goalObservable, version: o.envVersion,
      }, (d, t) => onProgress?.('values', d, t));
      regretValue = { source: 'expert-rollout', gamma: o.valueGamma, horizon: o.valueHorizon };
    }
    valueFn = (v: Float32Array) => {
      const row = v.byteOffset / 4 / obsDim;
      if (v.buffer !== obs.buffer || !Number.isInteger(row) || Number.isNaN(values[row])) throw new Error('regret teacher: V* asked for a state that is not a segment boundary of this dataset');
      return values[row];
    };
  }
  const teacher = parseTeacher(o.teacher, root.split('teacher'), { returnMargin: margin, valueFn });
  const pairRng = root.split('pairs');
  const pa = new Int32Array(P);
  const pb = new Int32Array(P);
  const lab = new Float32Array(P);
  let kept = 0;
  let skipped = 0;
  const add = (a: number, b: number) => {
    const y = teacher.label(segs[a], segs[b]);
    if (y === null) {
      skipped++;
      return;
    }
    pa[kept] = a;
    pb[kept] = b;
    lab[kept] = y;
    kept++;
  };
  if (o.kind === 'sparse') {
    for (let i = 0; i < N; i += 2) add(i, i + 1);
  } else if (o.pairsPerSegment > 0) {
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < o.pairsPerSegment; k++) {
        let j = pairRng.int(N - 1);
        if (j >= i) j++; // a random other segment
        // Random order, so "A" is not always the same segment.
        if (pairRng.uniform() < 0.5) add(i, j);
        else add(j, i);
      }
      onProgress?.('labels', i + 1, N);
    }
  } else {
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) add(i, j);
      onProgress?.('labels', i + 1, N);
    }
  }
  if (kept === 0) throw new Error(`teacher "${o.teacher}" skipped all ${skipped} queries; no labelled pairs`);
  const rated = o.ratingTeacher === undefined ? undefined : rateSegments(o.ratingTeacher, segs, root.split('rating-teacher'));

  return {
    header: {
      format: DATASET_FORMAT,
      version: DATASET_VERSION,
      task: o.task,
      kind: o.kind,
      teacher: teacher.spec,
      seed: o.seed,
      obsDim,
      actDim,
      episodes: E,
      episodeLength: T,
      segmentLength: H,
      segments: N,
      pairs: kept,
      skipped,
      sources: sources.map((s) => s.info),
      ...(poseBodies ? { poseBodies } : {}),
      goalObservable: o.goalObservable,
      envVersion: o.envVersion,
      behaviour,
      ...(regretValue ? { regretValue } : {}),
      ...(rated ? { rating: { teacher: rated.teacher, classes: rated.classes } } : {}),
      createdAt: new Date().toISOString(),
      pbrlVersion: String(versions().pbrl),
    },
    data: {
      obsDim, actDim, episodes: E, episodeLength: T, segmentLength: H,
      obs, actions, rewards, success, segEpisode, segStart,
      pairA: pa.slice(0, kept), pairB: pb.slice(0, kept), labels: lab.slice(0, kept),
      ...(rated ? { ratings: rated.ratings, ratingClasses: rated.classes } : {}),
    },
    episodeSource,
    ...(poses ? { poses } : {}),
  };
}

/**
 * Every segment's rating (its own rng stream, so the pairs and their labels are the same with or without
 * ratings). Without lo/hi in the spec the teacher's return range is this dataset's segment returns.
 */
function rateSegments(spec: string, segs: readonly RewardSegment[], rng: Rng): { teacher: string; classes: number; ratings: Int32Array } {
  const teacher = parseRatingTeacher(spec, rng);
  if (!teacher.hasReturnRange) teacher.fitReturnRange(segs);
  return { teacher: teacher.spec, classes: teacher.classes, ratings: Int32Array.from(segs, (s) => teacher.rate(s)) };
}
