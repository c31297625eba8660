/**
 * Typed, defaulted configuration of the reward side of a run (what `pbrl train` writes beside its
 * results): the reward model, the feedback schedule, the teacher spec and optional SURF settings.
 * Defaults are PEBBLE / B-Pref Meta-World values (reference/pbrl.md). Errors name the field.
 */
import { z } from 'zod';
import { ACTIVATIONS } from '../core/nn/dense.js';
import { Rng } from '../core/rng.js';
import { QUERY_STRATEGIES } from './query/select.js';
import { REWARD_INPUTS } from './reward-model.js';
import { SURF_DEFAULTS } from './surf.js';
import { PriorConfigSchema } from './prior.js';
import { parseTeacher } from './teachers/parse.js';
import { THRESHOLD_RULES } from './teachers/teacher.js';

const posInt = () => z.number().int().min(1);

export const rewardModelSchema = z
  .object({
    members: posInt().default(3),
    hiddenDims: z.array(posInt()).min(1).default([256, 256, 256]),
    activation: z.enum(ACTIVATIONS).default('leakyrelu'),
    outputActivation: z.enum(ACTIVATIONS).default('tanh'),
    lr: z.number().positive().finite().default(3e-4),
    batchSize: posInt().default(128),
    /**
     * 'state-action' (B-Pref; what unset means) or 'state': r_hat ignores the action
     * (reward/reward-model.ts). No default filled in, so existing configs and bench cell ids stay as they were.
     */
    inputs: z.enum(REWARD_INPUTS).optional(),
  })
  .strict();

export const surfSchema = z
  .object({
    window: z.number().int().min(0).default(SURF_DEFAULTS.window),
    cropRange: z.number().int().min(0).default(SURF_DEFAULTS.cropRange),
    threshold: z.number().min(0.5).max(1).default(SURF_DEFAULTS.threshold),
    lambda: z.number().min(0).finite().default(SURF_DEFAULTS.lambda),
    mu: z.number().int().min(0).default(SURF_DEFAULTS.mu),
    invLabelRatio: z.number().int().min(0).default(SURF_DEFAULTS.invLabelRatio),
    epochs: posInt().default(SURF_DEFAULTS.epochs),
  })
  .strict()
  .refine((s) => s.cropRange <= s.window, { message: 'cropRange must be <= window', path: ['cropRange'] });

function teacherSpecError(spec: string): string | null {
  try {
    // V* is supplied at run time; a stand-in lets the spec itself be checked now.
    parseTeacher(spec, new Rng(0), { valueFn: () => 0 });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export const feedbackSchema = z
  .object({
    segmentLength: posInt().default(50),
    queriesPerRound: posInt().default(50),
    maxFeedback: z.number().int().min(0).default(10_000),
    strategy: z
      .string()
      .default('disagreement')
      .refine((s) => QUERY_STRATEGIES.has(s), { message: `unknown query strategy; known: ${[...QUERY_STRATEGIES.keys()].join(', ')}` }),
    poolMultiplier: posInt().default(10),
    epochs: posInt().default(10),
    earlyStopAccuracy: z.number().min(0).max(1).default(0.97),
    datasetCapacity: posInt().default(500_000),
    teacher: z.string().default('oracle').superRefine((s, ctx) => {
      const err = teacherSpecError(s);
      if (err) ctx.addIssue({ code: 'custom', message: err });
    }),
    surf: surfSchema.optional(),
    /** Hindsight PRIOR's return-redistribution loss and world model (reward/prior.ts); unset: plain PEBBLE training. */
    prior: PriorConfigSchema.optional(),
    /**
     * Relative skip/equal thresholds: 'bpref-code' reproduces B-Pref's code (frac x margin in the first
     * round, frac^2 x margin after), 'paper' the paper's frac x margin every round (reward/README.md).
     */
    thresholdRule: z.enum(THRESHOLD_RULES).default('bpref-code'),
  })
  .strict();

export const rewardConfigSchema = z
  .object({
    model: rewardModelSchema.default(rewardModelSchema.parse({})),
    feedback: feedbackSchema.default(feedbackSchema.parse({})),
  })
  .strict();

export type RewardConfig = z.infer<typeof rewardConfigSchema>;

/** Validates and fills defaults; an error lists every bad field as path: message. */
export function parseRewardConfig(input: unknown): RewardConfig {
  const r = rewardConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid reward config:\n${lines.join('\n')}`);
  }
  return r.data;
}
