/**
 * The offline algorithms by name, for the runner and the CLI. Each entry builds its agent from a
 * plain config object (validated by the agent's own schema) and says how many labelled pairs a
 * batch holds by default (the reference configs' batch sizes).
 */
import type { Agent } from '../agent.js';
import { BC, BcConfigSchema } from './bc.js';
import { CPL, CplConfigSchema, phaseSteps } from './cpl.js';
import { FilteredBC } from './filtered-bc.js';
import { IPL, IplConfigSchema } from './ipl.js';
import { IQL, IqlConfigSchema } from './iql.js';

export const OFFLINE_ALGOS = ['bc', 'pbc', 'iql', 'cpl', 'ipl'] as const;
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
  pbc: { description: 'filtered BC (%BC / SFT): BC on the preferred segments', defaultBatchPairs: 96, schema: BcConfigSchema, create: (o, a, c, s) => new FilteredBC(o, a, c, s) },
  iql: { description: 'P-IQL: Bradley-Terry reward model, then IQL on its rewards', defaultBatchPairs: 96, schema: IqlConfigSchema, create: (o, a, c, s) => new IQL(o, a, c, s) },
  cpl: { description: 'CPL: contrastive preference loss on the policy, no reward, no RL', defaultBatchPairs: 96, schema: CplConfigSchema, create: (o, a, c, s) => new CPL(o, a, c, s) },
  ipl: { description: 'IPL: Q-function fitted to preferences via its implicit reward', defaultBatchPairs: 16, schema: IplConfigSchema, create: (o, a, c, s) => new IPL(o, a, c, s) },
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
  return config;
}

/**
 * Builds an offline agent. totalSteps (the run's gradient steps) resolves run-relative fields such as
 * CPL's bcFraction; without it those fields must be given as absolute step counts.
 */
export function makeOfflineAgent(algo: string, obsDim: number, actDim: number, config: Record<string, unknown> = {}, seed = 0, totalSteps?: number): Agent {
  if (!isOfflineAlgoName(algo)) throw new Error(`unknown offline algorithm "${algo}"; expected one of ${OFFLINE_ALGOS.join(', ')}`);
  const entry = OFFLINE_REGISTRY[algo];
  const resolved = totalSteps === undefined ? config : resolveOfflineAgentConfig(algo, entry.schema.parse(config) as Record<string, unknown>, totalSteps);
  return entry.create(obsDim, actDim, resolved, seed);
}

export { BC, FilteredBC, CPL, IQL, IPL };
export * from './data.js';
export * from './common.js';
