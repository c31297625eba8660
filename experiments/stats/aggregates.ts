/**
 * Aggregate scores over runs and tasks with rliable's definitions (Agarwal et al., 2021).
 *
 * Scores are stratified: `scores[t]` holds one score per run on task t. Tasks may have different
 * numbers of runs (a failed cell drops one), which rliable's (runs x tasks) matrix cannot express;
 * every definition below reduces to rliable's when the counts are equal.
 */
import { mean, median, trimMean } from './basic.js';

/** One array per task (stratum), one entry per run. */
export type Stratified<T = number> = T[][];

function taskMeans(scores: Stratified): number[] {
  return scores.map((runs) => mean(runs));
}

/** All runs of all tasks in one array (a plain loop: Array.prototype.flat dominated bootstrap time). */
export function pooled(scores: Stratified): Float64Array {
  let n = 0;
  for (const runs of scores) n += runs.length;
  const out = new Float64Array(n);
  let k = 0;
  for (const runs of scores) for (let i = 0; i < runs.length; i++) out[k++] = runs[i];
  return out;
}

/** Mean over tasks of the per-task mean score. */
export function aggregateMean(scores: Stratified): number {
  return mean(taskMeans(scores));
}

/** Median over tasks of the per-task mean score. */
export function aggregateMedian(scores: Stratified): number {
  return median(taskMeans(scores));
}

/** Interquartile mean: 25% trimmed mean of all runs pooled across tasks. */
export function aggregateIqm(scores: Stratified): number {
  return trimMean(pooled(scores), 0.25);
}

/** How far runs fall short of `gamma` on average; scores above gamma count as gamma. */
export function optimalityGap(scores: Stratified, gamma = 1): number {
  const all = pooled(scores);
  let sum = 0;
  for (let i = 0; i < all.length; i++) sum += Math.min(all[i], gamma);
  return gamma - sum / all.length;
}

export const AGGREGATES = {
  iqm: aggregateIqm,
  mean: aggregateMean,
  median: aggregateMedian,
  optimality_gap: (s: Stratified) => optimalityGap(s, 1),
} as const;

export type AggregateName = keyof typeof AGGREGATES;
