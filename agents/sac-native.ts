/**
 * SAC's whole update as one native call (native/sac.c) when the native kernels are live: the tfjs
 * update in agents/sac.ts ran ~200 small kernels per update, and at SAC's sizes their dispatch cost
 * was most of the time. Same losses, same noise in the same order, same Adam; the tfjs update stays
 * the reference and the fallback (pure wasm, cpu, tfjs-node, other activations), and
 * test/agents/sac-native.test.ts checks that the two agree.
 *
 * PBRL_NATIVE_SAC=0 (or setNativeSacUpdate(false)) keeps the tfjs update.
 */
import * as tf from '@tensorflow/tfjs';
import { MLP_ACT_CODES, nativeSacUpdate, nativeSacUpdateActive } from '../core/native-gemm.js';
import { LEAKY_ALPHA } from '../core/nn/dense.js';
import type { Adam } from '../core/nn/adam.js';
import type { EnsembleMLP, MLP } from '../core/nn/mlp.js';
import { nonFiniteLoss } from '../core/nn/optim.js';
import type { Batch } from './replay-buffer.js';

export interface SacParts {
  obsDim: number;
  actDim: number;
  actor: MLP;
  critic: EnsembleMLP;
  criticTarget: EnsembleMLP;
  logAlpha: tf.Variable;
  actorOpt: Adam;
  criticOpt: Adam;
  alphaOpt: Adam;
  targetEntropy: number;
  discount: number;
  tau: number;
  logStdMin: number;
  logStdMax: number;
}

export interface SacStepPlan {
  epsTarget: Float32Array;
  /** null: no actor (and temperature) step this update. */
  epsActor: Float32Array | null;
  learnTemperature: boolean;
  polyak: boolean;
}

/** Whether this SAC's networks fit the kernel (two critics, same hidden sizes, known activations). */
export function nativeSacApplies(p: SacParts): boolean {
  if (!nativeSacUpdateActive()) return false;
  const a = p.actor.config;
  const c = p.critic.config;
  return p.critic.members === 2 && a.activation === c.activation && a.outputActivation === 'linear' && c.outputActivation === 'linear' &&
    a.activation in MLP_ACT_CODES && a.hiddenDims.length === c.hiddenDims.length && a.hiddenDims.every((h, i) => h === c.hiddenDims[i]) &&
    a.hiddenDims.length + 1 <= 16;
}

const NO_NOISE = new Float32Array(0);

/**
 * One SAC update natively; returns its metrics (as SAC.update reports them), or null where the kernel
 * does not apply, having changed nothing. Throws NonFiniteLossError as the tfjs update does: a
 * non-finite critic loss changes nothing; a non-finite actor loss leaves the critic step applied.
 */
export function nativeSacStep(p: SacParts, batch: Batch, plan: SacStepPlan): Record<string, number> | null {
  const B = batch.size;
  const layers = p.actor.variables.length / 2;
  const withMoments = (vars: tf.Variable[], ms: { m: tf.Tensor; v: tf.Tensor }[]) => {
    const out: tf.Tensor[] = [];
    for (let l = 0; l < layers; l++) out.push(vars[2 * l], vars[2 * l + 1], ms[2 * l].m, ms[2 * l].v, ms[2 * l + 1].m, ms[2 * l + 1].v);
    return out;
  };
  // Moments first: creating them may grow the wasm heap, and offsets are read after.
  const am = p.actorOpt.moments(p.actor.variables);
  const cm = p.criticOpt.moments(p.critic.variables);
  const [alm] = p.alphaOpt.moments([p.logAlpha]);
  const tensors = [
    ...withMoments(p.actor.variables, am),
    ...withMoments(p.critic.variables, cm),
    ...p.criticTarget.variables,
    p.logAlpha, alm.m, alm.v,
  ];
  const cfg = p.actor.config;
  const spec = [B, p.obsDim, p.actDim, layers, MLP_ACT_CODES[cfg.activation], MLP_ACT_CODES[cfg.outputActivation], LEAKY_ALPHA, ...cfg.hiddenDims];
  const doActor = plan.epsActor !== null;
  const doAlpha = doActor && plan.learnTemperature;
  const adamParams = (opt: Adam) => [opt.learningRate, opt.beta1, opt.beta2, opt.epsilon, opt.iterations + 1];
  const params = [
    ...adamParams(p.actorOpt), ...adamParams(p.criticOpt), ...adamParams(p.alphaOpt),
    p.discount, p.tau, p.logStdMin, p.logStdMax, p.targetEntropy, doActor ? 1 : 0, doAlpha ? 1 : 0, plan.polyak ? 1 : 0,
  ];
  const out = new Float64Array(5);
  const arrays = [batch.obs, batch.actions, batch.nextObs, batch.rewards, batch.dones, plan.epsTarget, plan.epsActor ?? NO_NOISE];
  if (!nativeSacUpdate(tensors, spec, arrays, params, out)) return null;
  const [criticLoss, actorLoss, entropy, alphaLoss, status] = out;
  if (status === 1) throw nonFiniteLoss('SAC critic loss', criticLoss);
  p.criticOpt.iterations++;
  if (status === 2) throw nonFiniteLoss('SAC actor loss', actorLoss);
  const metrics: Record<string, number> = { critic_loss: criticLoss };
  if (doActor) {
    p.actorOpt.iterations++;
    metrics.actor_loss = actorLoss;
    metrics.entropy = entropy;
  }
  if (doAlpha) {
    p.alphaOpt.iterations++;
    metrics.alpha_loss = alphaLoss;
  }
  return metrics;
}
