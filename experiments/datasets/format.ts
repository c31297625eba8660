/**
 * The offline preference dataset file (`*.pbrlds`), written with core/serialize's checksummed binary
 * container (magic, JSON header, arrays, sha256), so a truncated or corrupted file is a clear error.
 *
 * Header (JSON): format "pbrl-preference-dataset", version 1, task, kind (dense | sparse), teacher
 * (spec string), seed, obsDim, actDim, episodes (E), episodeLength (T), segmentLength (H),
 * segments (N), pairs (P), skipped (queries the teacher declined), sources (the rollout policies:
 * name, noise, episodes, success rate, mean return), poseBodies (names, when poses are stored),
 * goalObservable and envVersion (the env settings the rollouts ran under; files written before they
 * existed lack them and were recorded with the goal visible on v2: see `datasetEnvSettings`),
 * createdAt, pbrlVersion.
 *
 * Arrays (little-endian, row-major):
 *   obs          f32 [E, T + 1, obsDim]   every observation of every episode, the final one included
 *   actions      f32 [E, T, actDim]
 *   rewards      f32 [E, T]               true env rewards (teachers used them; learners must not)
 *   success      u8  [E, T]
 *   episodeSource i32 [E]                 index into header.sources
 *   segEpisode   i32 [N]                  segment i is steps [segStart, segStart + H) of episode segEpisode
 *   segStart     i32 [N]
 *   pairA, pairB i32 [P]                  segment indices of each labelled pair
 *   labels       f32 [P]                  P(A preferred): 1, 0 or 0.5 (equal)
 *   ratings      i32 [N]                  optional: each segment's rating class (header.rating says by whom)
 *   poses        f32 [E, T + 1, bodies, 7] optional: position + quaternion (xyzw) of each body
 */
import { existsSync, statSync } from 'node:fs';
import { z } from 'zod';
import { readBinFile, writeBinFile, type BinArray } from '../../core/serialize.js';
import { validatePreferenceData, type PreferenceData } from '../../agents/offline/data.js';
import { ENV_VERSIONS, type EnvVersion } from '../../envs/sawyer-env.js';

export const DATASET_FORMAT = 'pbrl-preference-dataset';
export const DATASET_VERSION = 1;
export const DATASET_EXTENSION = '.pbrlds';

export const SourceSchema = z.object({
  /** 'scripted', 'random' or 'sac:<checkpoint dir>'. */
  policy: z.string(),
  /** Std of the Gaussian action noise added to the policy's action. */
  noise: z.number().nonnegative(),
  episodes: z.number().int().nonnegative(),
  successRate: z.number().min(0).max(1),
  meanReturn: z.number(),
});

export type DatasetSource = z.infer<typeof SourceSchema>;

export const DatasetHeaderSchema = z
  .object({
    format: z.literal(DATASET_FORMAT),
    version: z.literal(DATASET_VERSION),
    task: z.string().min(1),
    kind: z.enum(['dense', 'sparse']),
    teacher: z.string().min(1),
    seed: z.number().int().nonnegative(),
    obsDim: z.number().int().positive(),
    actDim: z.number().int().positive(),
    episodes: z.number().int().positive(),
    episodeLength: z.number().int().positive(),
    segmentLength: z.number().int().positive(),
    segments: z.number().int().min(2),
    pairs: z.number().int().positive(),
    skipped: z.number().int().nonnegative(),
    sources: z.array(SourceSchema).min(1),
    poseBodies: z.array(z.string()).optional(),
    goalObservable: z.boolean().optional(),
    envVersion: z.enum(ENV_VERSIONS).optional(),
    /**
     * The V* of regret labels (absent: no regret teacher, or a file from before it was recorded).
     * 'expert-rollout': Monte-Carlo returns of the scripted expert (expert-value.ts), pbrl's stand-in
     * for the reference's oracle SAC critic trained on the true reward; 'sac-critic': that critic.
     */
    regretValue: z.discriminatedUnion('source', [
      z.object({ source: z.literal('expert-rollout'), gamma: z.number(), horizon: z.number().int().positive() }).strict(),
      /** The reference's way: V(s) = E_{a~pi}[mean of the Q heads] of a SAC run on the true reward (sac-checkpoint.ts). */
      z.object({ source: z.literal('sac-critic'), checkpoint: z.string(), samples: z.number().int().positive() }).strict(),
    ]).optional(),
    /**
     * The rollout policy: 'scripted-mix' (the sources: scripted expert at several noise levels, maybe
     * random and SAC checkpoints) or 'sac' (the reference recipe: one SAC checkpoint with Gaussian
     * action noise, clipped to [-1, 1]). Absent in files from before it was recorded (scripted mix).
     */
    behaviour: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('scripted-mix') }).strict(),
      z.object({ kind: z.literal('sac'), checkpoint: z.string(), actionNoise: z.number().nonnegative() }).strict(),
    ]).optional(),
    /**
     * With the `ratings` array: who rated every segment (the rating teacher's spec, its return range
     * included) into how many classes, for rating-based RL (rbrl-iql); the pairs are labelled as always.
     */
    rating: z.object({ teacher: z.string().min(1), classes: z.number().int().min(2) }).strict().optional(),
    createdAt: z.string(),
    pbrlVersion: z.string(),
  })
  .strict();

export type DatasetHeader = z.infer<typeof DatasetHeaderSchema>;

/** The env settings a dataset's observations were recorded under (older files: goal visible, v2). */
export function datasetEnvSettings(h: DatasetHeader): { goalObservable: boolean; envVersion: EnvVersion } {
  return { goalObservable: h.goalObservable ?? true, envVersion: h.envVersion ?? 'v2' };
}

export interface OfflineDataset {
  header: DatasetHeader;
  data: PreferenceData;
  episodeSource: Int32Array;
  /** [E, T + 1, bodies, 7] when the rollouts recorded poses. */
  poses?: Float32Array;
}

/** Array name -> dtype the file must hold. */
const ARRAY_DTYPES: Record<string, 'f32' | 'i32' | 'u8'> = {
  obs: 'f32', actions: 'f32', rewards: 'f32', success: 'u8', episodeSource: 'i32',
  segEpisode: 'i32', segStart: 'i32', pairA: 'i32', pairB: 'i32', labels: 'f32',
};

function dtypeOf(a: BinArray): 'f32' | 'i32' | 'u8' {
  return a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : 'u8';
}

/** Checks header against data, then the data itself; throws naming the first bad field. */
export function validateDataset(ds: OfflineDataset, where = 'dataset'): void {
  const h = ds.header;
  const d = ds.data;
  const pairs: [string, number, number][] = [
    ['obsDim', h.obsDim, d.obsDim], ['actDim', h.actDim, d.actDim], ['episodes', h.episodes, d.episodes],
    ['episodeLength', h.episodeLength, d.episodeLength], ['segmentLength', h.segmentLength, d.segmentLength],
    ['segments', h.segments, d.segEpisode.length], ['pairs', h.pairs, d.labels.length],
  ];
  for (const [f, hv, dv] of pairs) if (hv !== dv) throw new Error(`${where}: header.${f} is ${hv} but the arrays hold ${dv}`);
  if ((h.rating === undefined) !== (d.ratings === undefined)) throw new Error(`${where}: header.rating and the ratings array must be given together`);
  if (h.rating && h.rating.classes !== d.ratingClasses) throw new Error(`${where}: header.rating.classes is ${h.rating.classes} but the data says ${d.ratingClasses}`);
  validatePreferenceData(d, where);
  if (ds.episodeSource.length !== h.episodes) throw new Error(`${where}: episodeSource has ${ds.episodeSource.length} values, expected ${h.episodes}`);
  for (let e = 0; e < h.episodes; e++) {
    const s = ds.episodeSource[e];
    if (!(s >= 0 && s < h.sources.length)) throw new Error(`${where}: episodeSource[${e}] = ${s} is outside [0, ${h.sources.length})`);
  }
  if (ds.poses || h.poseBodies) {
    if (!ds.poses || !h.poseBodies) throw new Error(`${where}: poses and header.poseBodies must be given together`);
    const n = h.episodes * (h.episodeLength + 1) * h.poseBodies.length * 7;
    if (ds.poses.length !== n) throw new Error(`${where}: poses has ${ds.poses.length} values, expected episodes * (episodeLength + 1) * bodies * 7 = ${n}`);
  }
}

export function writeDataset(path: string, ds: OfflineDataset): void {
  validateDataset(ds, path);
  const d = ds.data;
  const arrays: Record<string, BinArray> = {
    obs: d.obs, actions: d.actions, rewards: d.rewards, success: d.success, episodeSource: ds.episodeSource,
    segEpisode: d.segEpisode, segStart: d.segStart, pairA: d.pairA, pairB: d.pairB, labels: d.labels,
  };
  if (ds.poses) arrays.poses = ds.poses;
  if (d.ratings) arrays.ratings = d.ratings;
  writeBinFile(path, ds.header, arrays);
}

export function readDataset(path: string): OfflineDataset {
  if (!existsSync(path)) throw new Error(`dataset ${path} does not exist (make one with \`pbrl dataset make\`)`);
  if (!statSync(path).isFile()) throw new Error(`dataset ${path} is not a file`);
  const { header: raw, arrays } = readBinFile(path);
  if (raw.format !== DATASET_FORMAT) throw new Error(`${path}: not a preference dataset (format "${String(raw.format)}", expected "${DATASET_FORMAT}")`);
  if (raw.version !== DATASET_VERSION) throw new Error(`${path}: dataset version ${String(raw.version)} is not supported (this pbrl reads version ${DATASET_VERSION})`);
  const parsed = DatasetHeaderSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: bad header: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const h = parsed.data;
  for (const [name, dtype] of Object.entries(ARRAY_DTYPES)) {
    const a = arrays[name];
    if (!a) throw new Error(`${path}: array "${name}" is missing`);
    if (dtypeOf(a) !== dtype) throw new Error(`${path}: array "${name}" is ${dtypeOf(a)}, expected ${dtype}`);
  }
  if (arrays.poses && dtypeOf(arrays.poses) !== 'f32') throw new Error(`${path}: array "poses" is ${dtypeOf(arrays.poses)}, expected f32`);
  if (arrays.ratings && dtypeOf(arrays.ratings) !== 'i32') throw new Error(`${path}: array "ratings" is ${dtypeOf(arrays.ratings)}, expected i32`);
  const ds: OfflineDataset = {
    header: h,
    data: {
      obsDim: h.obsDim, actDim: h.actDim, episodes: h.episodes, episodeLength: h.episodeLength, segmentLength: h.segmentLength,
      obs: arrays.obs as Float32Array, actions: arrays.actions as Float32Array, rewards: arrays.rewards as Float32Array,
      success: arrays.success as Uint8Array, segEpisode: arrays.segEpisode as Int32Array, segStart: arrays.segStart as Int32Array,
      pairA: arrays.pairA as Int32Array, pairB: arrays.pairB as Int32Array, labels: arrays.labels as Float32Array,
      ...(arrays.ratings ? { ratings: arrays.ratings as Int32Array } : {}),
      ...(h.rating ? { ratingClasses: h.rating.classes } : {}),
    },
    episodeSource: arrays.episodeSource as Int32Array,
    ...(arrays.poses ? { poses: arrays.poses as Float32Array } : {}),
  };
  validateDataset(ds, path);
  return ds;
}

/** One-paragraph description for `pbrl dataset info` and logs. */
export function describeDataset(ds: OfflineDataset): string {
  const h = ds.header;
  const ties = Array.from(ds.data.labels).filter((y) => y === 0.5).length;
  const env = datasetEnvSettings(h);
  const lines = [
    `task ${h.task} (goal ${env.goalObservable ? 'observable' : 'hidden'}, Meta-World ${env.envVersion}${h.goalObservable === undefined ? ', as files of before the setting was recorded' : ''}), ${h.kind} dataset, teacher "${h.teacher}", seed ${h.seed}`,
    `${h.episodes} episodes x ${h.episodeLength} steps; ${h.segments} segments of ${h.segmentLength} steps; ${h.pairs} labelled pairs (${ties} equal), ${h.skipped} skipped`,
    ...h.sources.map((s) => `  source ${s.policy} noise ${s.noise}: ${s.episodes} episodes, success ${(100 * s.successRate).toFixed(0)}%, mean return ${s.meanReturn.toFixed(1)}`),
    h.behaviour?.kind === 'sac' ? `behaviour policy: SAC ${h.behaviour.checkpoint} with action noise ${h.behaviour.actionNoise}` : 'behaviour policy: scripted mix',
    ...(h.regretValue ? [h.regretValue.source === 'sac-critic' ? `regret V: SAC critic ${h.regretValue.checkpoint} (${h.regretValue.samples} action samples per state)` : `regret V: scripted-expert rollouts (gamma ${h.regretValue.gamma}, ${h.regretValue.horizon} steps)`] : []),
    ...(h.rating && ds.data.ratings ? [`ratings by "${h.rating.teacher}": ${ratingCounts(ds.data.ratings, h.rating.classes)}`] : []),
    h.poseBodies ? `poses of ${h.poseBodies.length} bodies` : 'no poses',
  ];
  return lines.join('\n');
}

/** "class 0: 120, class 1: 90, ..." for `pbrl dataset info`. */
function ratingCounts(ratings: Int32Array, classes: number): string {
  const n = new Array(classes).fill(0);
  for (const r of ratings) n[r]++;
  return n.map((c, i) => `class ${i}: ${c}`).join(', ');
}
