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

function pooled(scores: Stratified): number[] {
  return scores.flat();
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
  return gamma - mean(all.map((x) => Math.min(x, gamma)));
}

export const AGGREGATES = {
  iqm: aggregateIqm,
  mean: aggregateMean,
  median: aggregateMedian,
  optimality_gap: (s: Stratified) => optimalityGap(s, 1),
} as const;

export type AggregateName = keyof typeof AGGREGATES;
