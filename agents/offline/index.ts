/**
 * The offline algorithms by name, for the runner and the CLI. Each entry builds its agent from a
 * plain config object (validated by the agent's own schema) and says how many labelled pairs a
 * batch holds by default (the reference configs' batch sizes).
 */
import type { Agent } from '../agent.js';
import { PairSampler, type BatchSampler, type PreferenceData } from './data.js';
import { BC, BcConfigSchema } from './bc.js';
import { CPL, CplConfigSchema, phaseSteps } from './cpl.js';
import { DPPO, DppoConfigSchema } from './dppo.js';
import { PercentBC, PercentBcConfigSchema, SFT, SftConfigSchema } from './filtered-bc.js';
import { IPL, IplConfigSchema } from './ipl.js';
import { IQL, IqlConfigSchema } from './iql.js';
import { RbrlIQL, RbrlIqlConfigSchema } from './rbrl-iql.js';

/** `pbc` is a deprecated alias of `sft` (see filtered-bc.ts). */
export const OFFLINE_ALGOS = ['bc', 'sft', 'percent-bc', 'pbc', 'iql', 'cpl', 'ipl', 'dppo', 'rbrl-iql'] as const;
export type OfflineAlgo = (typeof OFFLINE_ALGOS)[number];

export function isOfflineAlgoName(name: unknown): name is OfflineAlgo {
  return typeof name === 'string' && (OFFLINE_ALGOS as readonly string[]).includes(name);
}

interface OfflineEntry {
  description: string;
  /** Labelled pairs per batch in the reference configs. */
  defaultBatchPairs: number;
  schema: { parse(raw: unknown): unknown };
  create(obsDim: number, actDim: number, config: Record<string, unknown>, seed: number): Agent;
}

export const OFFLINE_REGISTRY: Readonly<Record<OfflineAlgo, OfflineEntry>> = {
  // The reference FeedbackBuffer's batch_size 96 counts pairs (96 first segments, each with a partner:
  // 192 segments) for CPL, SFT and P-IQL alike.
  bc: { description: 'behaviour cloning on all segments', defaultBatchPairs: 96, schema: BcConfigSchema, create: (o, a, c, s) => new BC(o, a, c, s) },
  sft: { description: 'SFT: BC on all segments, then on the preferred ones (ties kept)', defaultBatchPairs: 96, schema: SftConfigSchema, create: (o, a, c, s) => new SFT(o, a, c, s) },
  'percent-bc': { description: '%BC (oracle): BC on the top 10% of episodes by true return', defaultBatchPairs: 96, schema: PercentBcConfigSchema, create: (o, a, c, s) => new PercentBC(o, a, c, s) },
  pbc: { description: 'deprecated alias of sft', defaultBatchPairs: 96, schema: SftConfigSchema, create: (o, a, c, s) => new SFT(o, a, c, s) },
  iql: { description: 'P-IQL: Bradley-Terry reward model, then IQL on its rewards', defaultBatchPairs: 96, schema: IqlConfigSchema, create: (o, a, c, s) => new IQL(o, a, c, s) },
  cpl: { description: 'CPL: contrastive preference loss on the policy, no reward, no RL', defaultBatchPairs: 96, schema: CplConfigSchema, create: (o, a, c, s) => new CPL(o, a, c, s) },
  ipl: { description: 'IPL: Q-function fitted to preferences via its implicit reward', defaultBatchPairs: 16, schema: IplConfigSchema, create: (o, a, c, s) => new IPL(o, a, c, s) },
  // 128 pairs = 256 segments: the reference's policy batch of 256 segments (its predictor takes 256 pairs).
  dppo: { description: 'DPPO: preference predictor, then a contrastive policy-segment distance loss, no reward, no RL', defaultBatchPairs: 128, schema: DppoConfigSchema, create: (o, a, c, s) => new DPPO(o, a, c, s) },
  // As P-IQL's 96 pairs: 192 rated segments per batch.
  'rbrl-iql': { description: 'rating-based RL offline: a reward model fitted to segment ratings (RbRL\'s multi-class loss), then IQL on it', defaultBatchPairs: 96, schema: RbrlIqlConfigSchema, create: (o, a, c, s) => new RbrlIQL(o, a, c, s) },
};

/**
 * Fills the step counts an agent derives from the run's length (CPL's bcSteps from bcFraction) into
 * an already schema-parsed config, so config.json records the absolute number. Explicit values stay.
 */
export function resolveOfflineAgentConfig(algo: OfflineAlgo, config: Record<string, unknown>, totalSteps: number): Record<string, unknown> {
  if (algo === 'cpl') {
    const c = config as { bcSteps?: number; bcFraction: number };
    return { ...config, bcSteps: phaseSteps(c.bcSteps, c.bcFraction, totalSteps) };
  }
  if (algo === 'dppo') {
    const c = config as { predictorSteps?: number; predictorFraction: number };
    return { ...config, predictorSteps: phaseSteps(c.predictorSteps, c.predictorFraction, totalSteps) };
  }
  if (algo === 'sft' || algo === 'pbc') {
    const c = config as { allSteps?: number; allFraction: number };
    return { ...config, allSteps: phaseSteps(c.allSteps, c.allFraction, totalSteps) };
  }
  return config;
}

/**
 * Builds an offline agent. totalSteps (the run's gradient steps) resolves run-relative fields such as
 * CPL's bcFraction; without it those fields must be given as absolute step counts.
 */
export function makeOfflineAgent(algo: string, obsDim: number, actDim: number, config: Record<string, unknown> = {}, seed = 0, totalSteps?: number): Agent {
  if (!isOfflineAlgoName(algo)) throw new Error(`unknown offline algorithm "${algo}"; expected one of ${OFFLINE_ALGOS.join(', ')}`);
  if (algo === 'pbc') warnPbc();
  const entry = OFFLINE_REGISTRY[algo];
  const resolved = totalSteps === undefined ? config : resolveOfflineAgentConfig(algo, entry.schema.parse(config) as Record<string, unknown>, totalSteps);
  return entry.create(obsDim, actDim, resolved, seed);
}

/**
 * The batches an offline agent trains on: its own sampler where it has one (%BC's top episodes, IPL's
 * sub-sampled segments, rbrl-iql's rated segments), else whole labelled pairs.
 */
export function samplerFor(agent: Agent, data: PreferenceData): BatchSampler {
  const own = (agent as Partial<{ makeSampler(d: PreferenceData): BatchSampler }>).makeSampler;
  return own ? own.call(agent, data) : new PairSampler(data);
}

let pbcWarned = false;
/** Once per process: `pbc` used to clone preferred segments from step 0 with ties at half weight. */
export function warnPbc(): void {
  if (pbcWarned) return;
  pbcWarned = true;
  console.warn('offline algo "pbc" is deprecated: it now runs "sft" (the reference SFT: BC on all segments, then on the preferred ones, ties at full weight); use --algo sft, or percent-bc for %BC');
}

export { BC, SFT, PercentBC, CPL, IQL, IPL, DPPO, RbrlIQL };
export * from './data.js';
export * from './common.js';
