/**
 * The method zoo's algorithms (issue 17) as `pbrl train` algos: each has its own config section,
 * filled with its paper's defaults only when that algo is chosen, so other algos' resolved configs
 * (and the bench cell ids hashed from them) stay exactly as they were.
 */
import { z } from 'zod';
import { QpaConfigSchema } from '../agents/qpa.js';
import { RbrlConfigSchema } from '../reward/rating-learner.js';
import { HeronConfigSchema } from '../reward/teachers/heron.js';
import { PriorConfigSchema } from '../reward/prior.js';

/**
 * qpa: PEBBLE + policy-aligned queries + hybrid replay; rbrl: ratings of single segments; heron: factor-hierarchy teacher;
 * prior: PEBBLE with Hindsight PRIOR's return-redistribution loss (its settings in reward.feedback.prior, not a section here).
 */
export const ZOO_ALGOS = ['qpa', 'rbrl', 'heron', 'prior'] as const;
export type ZooAlgo = (typeof ZOO_ALGOS)[number];

export const ZOO_CONFIG_FIELDS = {
  /** QPA settings (algo qpa; defaults from the authors' train_QPA.yaml). */
  qpa: QpaConfigSchema.optional(),
  /** Rating-based RL settings (algo rbrl). */
  rbrl: RbrlConfigSchema.optional(),
  /** HERON teacher settings (algo heron). */
  heron: HeronConfigSchema.optional(),
};

const SCHEMAS = { qpa: QpaConfigSchema, rbrl: RbrlConfigSchema, heron: HeronConfigSchema } as const;

export function isZooAlgo(a: string): a is ZooAlgo {
  return (ZOO_ALGOS as readonly string[]).includes(a);
}

/**
 * Raw-config defaults that differ from PEBBLE's: QPA asks uniform queries (the authors' code never
 * uses disagreement: explore=false), unless the config names a strategy.
 */
export function withZooDefaults(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const o = raw as Record<string, unknown>;
  if (o.algo !== 'qpa') return raw;
  const reward = (o.reward && typeof o.reward === 'object' ? o.reward : {}) as Record<string, unknown>;
  const feedback = (reward.feedback && typeof reward.feedback === 'object' ? reward.feedback : {}) as Record<string, unknown>;
  if (feedback.strategy !== undefined) return raw;
  return { ...o, reward: { ...reward, feedback: { ...feedback, strategy: 'uniform' } } };
}

/** Fills the chosen zoo algo's section with its defaults, so config.json records every value used. */
export function zooConfigDefaults<T extends { algo: string } & { [K in ZooAlgo]?: unknown }>(cfg: T): T {
  if (cfg.algo === 'prior') {
    // PRIOR's section lives beside SURF's in reward.feedback; filled only for algo prior.
    const reward = (cfg as { reward?: { feedback?: { prior?: unknown } } }).reward;
    if (!reward?.feedback || reward.feedback.prior !== undefined) return cfg;
    return { ...cfg, reward: { ...reward, feedback: { ...reward.feedback, prior: PriorConfigSchema.parse({}) } } };
  }
  if (!isZooAlgo(cfg.algo) || cfg[cfg.algo] !== undefined) return cfg;
  return { ...cfg, [cfg.algo]: (SCHEMAS[cfg.algo as keyof typeof SCHEMAS] as z.ZodTypeAny).parse({}) };
}
