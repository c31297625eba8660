/**
 * The typed, validated configuration of `pbrl train`. Defaults follow PEBBLE's SAC on Meta-World
 * (reference/pbrl.md §2.7) except where a field says otherwise. A run writes the fully resolved
 * object to config.json, so a run can be reproduced from that file alone (`--config`).
 */
import { z } from 'zod';
import { SAC_SEED_STEPS, SacConfigSchema } from '../agents/sac.js';
import { PEBBLE_SEED_STEPS, PebbleConfigSchema } from '../agents/pebble.js';
import { ZOO_ALGOS, ZOO_CONFIG_FIELDS, withZooDefaults, zooConfigDefaults } from './zoo-config.js';
import { rewardConfigSchema } from '../reward/config.js';
import { taskNames } from '../envs/registry.js';
import { DEFAULT_ENV_VERSION, ENV_VERSIONS } from '../envs/sawyer-env.js';

/** Online algorithms: SAC on the true reward; PEBBLE and SURF learn the reward from preferences. */
export const ALGOS = ['sac', 'pebble', 'surf', ...ZOO_ALGOS] as const;

export const TrainConfigSchema = z
  .object({
    algo: z.enum(ALGOS).default('sac'),
    task: z.string().superRefine((t, ctx) => {
      if (!taskNames().includes(t)) ctx.addIssue({ code: 'custom', message: `unknown task "${t}"; valid tasks: ${taskNames().join(', ')}` });
    }),
    steps: z.number().int().positive().default(100_000),
    seed: z.number().int().nonnegative().default(0),
    evalEvery: z.number().int().positive().default(10_000),
    evalEpisodes: z.number().int().positive().default(10),
    /** Random warm-up steps. parseTrainConfig fills a missing one per algo (sac 5000, pebble/surf 1000, as B-Pref). */
    seedSteps: z.number().int().nonnegative().default(PEBBLE_SEED_STEPS),
    batchSize: z.number().int().positive().default(512),
    bufferCapacity: z.number().int().positive().default(1_000_000),
    checkpointEvery: z.number().int().positive().default(10_000),
    maxPathLength: z.number().int().positive().default(500),
    /**
     * Show the goal in obs[36:39] (Meta-World's goal-observable / MT setting). Default false: the raw
     * task classes and B-Pref/PEBBLE hide it. `pbrl envs` marks tasks whose goal cannot be inferred.
     */
    goalObservable: z.boolean().default(false),
    /** Meta-World version the task matches where v2 and v3 differ (v2: as B-Pref used it, mid-2021). */
    envVersion: z.enum(ENV_VERSIONS).default(DEFAULT_ENV_VERSION),
    /** Rollout worker processes stepping envs while this process learns (0: in-process; see online-runner). */
    workers: z.number().int().min(0).max(64).default(0),
    sac: SacConfigSchema.optional().default(SacConfigSchema.parse({})),
    /** PEBBLE / SURF schedule (ignored by sac). */
    pebble: PebbleConfigSchema.optional().default(PebbleConfigSchema.parse({})),
    /**
     * People label the queries in the browser (`--teacher human`): the labeling page is served while
     * training, each feedback round waits for answers up to timeoutS, then applies the fallback:
     * 'skip' (unanswered queries count as skipped) or a teacher spec answering in their place.
     */
    human: z
      .object({
        name: z.string().min(1).default('human'),
        timeoutS: z.number().positive().default(600),
        fallback: z.string().default('skip'),
        port: z.number().int().min(0).max(65535).default(0),
        instructions: z.string().optional(),
        /** "Both bad" answers: dropped like skips, or trained on as equal (target 0.5). */
        bothBad: z.enum(['drop', 'equal']).default('drop'),
        /** "Can't tell" answers: dropped like skips, or trained on as equal (target 0.5). */
        cantTell: z.enum(['drop', 'equal']).default('drop'),
        /** Answers a person marked below this confidence are dropped (unset: every confidence counts). */
        minConfidence: z.enum(['low', 'medium', 'high']).optional(),
      })
      .strict()
      .optional(),
    ...ZOO_CONFIG_FIELDS,
    /** Reward model, teacher, query strategy and budget (PEBBLE / SURF). SURF sets feedback.surf. */
    reward: rewardConfigSchema.optional().default(rewardConfigSchema.parse({})),
  })
  .strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/** Validate, naming every bad field and what it accepts. */
export function parseTrainConfig(raw: unknown): TrainConfig {
  const r = TrainConfigSchema.safeParse(withZooDefaults(withAlgoSeedSteps(raw)));
  if (!r.success) {
    throw new Error(`invalid training config:\n${r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return zooConfigDefaults(r.data);
}

/**
 * A config read back from a run's config.json. Runs written before the goal option existed trained
 * with the goal visible (the old default) on the v2 tasks, so a missing field means that, not today's
 * default: evaluating or resuming such a run with a hidden goal would feed its policy zeros it never saw.
 */
export function parseSavedTrainConfig(raw: unknown): TrainConfig {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !('goalObservable' in raw)) {
    return parseTrainConfig({ ...(raw as Record<string, unknown>), goalObservable: true });
  }
  return parseTrainConfig(raw);
}

/** B-Pref's SAC baseline warms up on 5,000 random steps, PEBBLE on 1,000: a missing seedSteps follows the algo. */
function withAlgoSeedSteps(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const o = raw as Record<string, unknown>;
  if (o.seedSteps !== undefined) return raw;
  const algo = o.algo ?? 'sac';
  return algo === 'sac' ? { ...o, seedSteps: SAC_SEED_STEPS } : raw;
}
