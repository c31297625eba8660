/**
 * The two filtered-BC baselines of the CPL paper, under the reference's names (jhejna/cpl):
 * - SFT (configs/mw_state_dense/sft.yaml, algs/bc.py with bc_data "pos"): BC on every segment for the first
 *   allSteps updates (the reference's 200k of 500k; here allFraction 0.4 of the run unless allSteps is
 *   given), then BC on the preferred segment of each pair, both segments of a tie at full weight.
 * - %BC (configs/oracle/percent_bc.yaml, scripts/create_percent_bc_datasets.py): BC on the top
 *   topFraction of the dataset's episodes by true return; an oracle baseline (it reads true rewards).
 *   The reference samples 1024 transitions of those episodes per batch; here windows of the dataset's
 *   segment length from them, the same number of segments per batch as the other algorithms.
 * pbrl's former `pbc` (preferred segments from step 0, ties at half weight) is now an alias of SFT.
 */
import { z } from 'zod';
import { BC, BcConfigSchema, type RowWeighting } from './bc.js';
import { TopEpisodeSampler, type PreferenceData } from './data.js';

export const SftConfigSchema = BcConfigSchema.extend({
  /** Updates on all segments before the preferred-only phase; unset: allFraction of the run. */
  allSteps: z.number().int().nonnegative().optional(),
  allFraction: z.number().min(0).lt(1).default(0.4),
}).strict();
export type SftConfig = z.infer<typeof SftConfigSchema>;

export class SFT extends BC {
  override readonly name: string = 'sft';
  private readonly allSteps: number;

  constructor(obsDim: number, actDim: number, config: Partial<SftConfig> = {}, seed = 0) {
    super(obsDim, actDim, config, seed, SftConfigSchema, 'SFT');
    const steps = (this.config as SftConfig).allSteps;
    if (steps === undefined) throw new Error('SFT: allSteps is not set; give it, or build the agent with the run length (makeOfflineAgent(..., totalSteps)) so allFraction x steps fills it');
    this.allSteps = steps;
  }

  protected override weighting(step: number): RowWeighting {
    return step < this.allSteps ? 'all' : 'preferred-ties-full';
  }
}

export const PercentBcConfigSchema = BcConfigSchema.extend({
  /** Share of the episodes kept, best true return first (the reference's percent_bc dataset: 10%). */
  topFraction: z.number().gt(0).max(1).default(0.1),
}).strict();
export type PercentBcConfig = z.infer<typeof PercentBcConfigSchema>;

export class PercentBC extends BC {
  override readonly name: string = 'percent-bc';

  constructor(obsDim: number, actDim: number, config: Partial<PercentBcConfig> = {}, seed = 0) {
    super(obsDim, actDim, config, seed, PercentBcConfigSchema, '%BC');
  }

  /** The runner draws this agent's batches from the top episodes instead of the labelled pairs. */
  makeSampler(data: PreferenceData): TopEpisodeSampler {
    return new TopEpisodeSampler(data, (this.config as PercentBcConfig).topFraction);
  }
}
