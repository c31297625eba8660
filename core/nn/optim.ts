/**
 * One optimisation step with the checks a long run needs: a NaN/Inf loss or gradient stops the step
 * before any weight changes (so a checkpoint written afterwards is still good), and gradients can be
 * clipped by global norm.
 */
import * as tf from '@tensorflow/tfjs';
import { Adam } from './adam.js';

/** What optimizerStep needs: our Adam or any tf.Optimizer. */
export interface GradientApplier {
  applyGradients(grads: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void;
}

export interface StepOptions {
  /** Clip gradients to this global L2 norm (0 or undefined: no clipping). */
  clipNorm?: number;
  /** Where this loss comes from, for error messages ("critic", "reward model"). */
  name?: string;
}

export class NonFiniteLossError extends Error {}

/** The error a non-finite loss stops a step with (also raised by native whole-update kernels). */
export function nonFiniteLoss(name: string, loss: number): NonFiniteLossError {
  return new NonFiniteLossError(`${name} is ${loss}; no weights were changed (check inputs for NaN/Inf, or lower the learning rate)`);
}

/**
 * Computes lossFn's gradient with respect to `vars`, checks it, optionally clips it, and applies it
 * with `optimizer`. Returns the loss value.
 */
export function optimizerStep(
  optimizer: GradientApplier,
  lossFn: () => tf.Scalar,
  vars: tf.Variable[],
  opts: StepOptions = {},
): number {
  const name = opts.name ?? 'loss';
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(lossFn, vars);
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) {
      throw nonFiniteLoss(name, loss);
    }
    let g = grads;
    if (opts.clipNorm && opts.clipNorm > 0) g = clipByGlobalNorm(grads, opts.clipNorm);
    optimizer.applyGradients(g);
    return loss;
  });
}

/** Scales all gradients together so their joint L2 norm is at most maxNorm. */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const sq = tf.addN(names.map((k) => tf.sum(tf.square(grads[k]))));
    const norm = tf.sqrt(sq);
    const scale = tf.minimum(1, tf.div(maxNorm, tf.maximum(norm, 1e-12)));
    const out: tf.NamedTensorMap = {};
    for (const k of names) out[k] = tf.mul(grads[k], scale);
    return out;
  });
}

export function adam(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): Adam {
  return new Adam(learningRate, beta1, beta2, epsilon);
}

export { Adam };
