/**
 * The interface every algorithm implements, so SAC, PEBBLE, IQL, CPL, IPL and BC share one runner
 * (progress, evaluation, metrics, checkpoints, resume).
 */
import type { Batch } from './replay-buffer.js';

export interface Agent {
  readonly name: string;
  readonly obsDim: number;
  readonly actDim: number;
  /** Actions for n observations (row-major), in [-1, 1]. Deterministic = the policy's mode. */
  act(obs: Float32Array, n: number, deterministic: boolean): Float32Array;
  /** One gradient update on a batch; returns scalar metrics (losses, temperature, ...). */
  update(batch: Batch, step: number): Record<string, number>;
  /** Everything needed to continue training exactly: weights, optimizer moments, RNG state. */
  saveState(): Promise<AgentState>;
  loadState(state: AgentState): Promise<void>;
  dispose(): void;
}

export interface AgentState {
  algo: string;
  config: unknown;
  networks: Record<string, { weights: number[][] }>;
  optimizers: Record<string, { name: string; values: number[][]; shapes: number[][] }>;
  scalars: Record<string, number>;
  rng: unknown;
}
