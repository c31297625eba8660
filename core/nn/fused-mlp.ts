/**
 * A whole MLP (or ensemble of MLPs) as one tfjs op: one native kernel forward, one backward
 * (native/mlp.c), with tfjs autodiff seeing a single node. Used by MLP.apply and EnsembleMLP.apply
 * when the native kernels are live and the activations are ones the kernel knows; otherwise those
 * fall back to the per-layer path in dense.ts, which computes the same function.
 *
 * Why: at SAC sizes a per-layer update costs ~10 kernel dispatches per layer (forward matmul, saves,
 * activation gradient, three matmuls, a bias reduction); their fixed cost dominated small networks.
 *
 * PBRL_FUSED_MLP=0 turns this path off (benchmarks compare both in one process).
 */
import * as tf from '@tensorflow/tfjs';
import { MLP_ACT_CODES, MLP_BACKWARD_KERNEL, MLP_FORWARD_KERNEL, nativeMlpKernelsActive } from '../native-gemm.js';
import { LEAKY_ALPHA, type Activation } from './dense.js';

const MAX_LAYERS = 16;
let enabled = process.env.PBRL_FUSED_MLP !== '0';

/** Turn the fused path on or off for this process (benchmarks and tests compare both). */
export function setFusedMlp(on: boolean): void {
  enabled = on;
}

export function fusedMlpEnabled(): boolean {
  return enabled;
}

export interface FusedMlpOptions {
  /** Ensemble members (the weights are [E, in, out]); 0 for a plain MLP (weights [in, out]). */
  members: number;
  activation: Activation;
  outputActivation: Activation;
  inputGrad: boolean;
  paramGrad: boolean;
}

/** Whether fusedMlp can run this network now. */
export function fusedMlpApplies(layers: number, activation: Activation, outputActivation: Activation): boolean {
  return enabled && layers >= 1 && layers <= MAX_LAYERS && activation in MLP_ACT_CODES && outputActivation in MLP_ACT_CODES &&
    nativeMlpKernelsActive();
}

type FusedFn = (...inputs: tf.Tensor[]) => tf.Tensor;

function kernelInputs(x: tf.Tensor, params: tf.Tensor[], L: number, o: FusedMlpOptions): { spec: number[]; inputs: tf.NamedTensorMap } {
  const ensemble = o.members > 0;
  const E = ensemble ? o.members : 1;
  const shared = !ensemble || x.rank === 2;
  const B = x.shape[x.rank - 2];
  const dims = [x.shape[x.rank - 1], ...Array.from({ length: L }, (_, l) => params[2 * l].shape[params[2 * l].rank - 1])];
  const spec = [E, B, L, shared ? 1 : 0, MLP_ACT_CODES[o.activation], MLP_ACT_CODES[o.outputActivation], LEAKY_ALPHA, ...dims];
  const inputs: tf.NamedTensorMap = { x };
  for (let l = 0; l < L; l++) {
    inputs[`w${l}`] = params[2 * l];
    inputs[`b${l}`] = params[2 * l + 1];
  }
  return { spec, inputs };
}

/**
 * Outside any gradient tape nothing will read the hidden activations back, so the forward kernel runs
 * without a workspace and tiles rows through all layers (relabelling and inference).
 */
function inferenceForward(x: tf.Tensor, weights: tf.Tensor[], o: FusedMlpOptions): tf.Tensor {
  const { spec, inputs } = kernelInputs(x, weights, weights.length / 2, o);
  const attrs = { spec, ensemble: o.members > 0, inference: true } as unknown as tf.NamedAttrMap;
  const [y, ws] = tf.engine().runKernel(MLP_FORWARD_KERNEL, inputs, attrs) as tf.Tensor[];
  ws.dispose();
  return y;
}
const cache = new Map<string, FusedFn>();

function build(L: number, o: FusedMlpOptions, weightsAreVariables: boolean): FusedFn {
  const key = `${L}|${o.members}|${o.activation}|${o.outputActivation}|${o.inputGrad}|${o.paramGrad}|${weightsAreVariables}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const ensemble = o.members > 0;
  const fn = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [x, ...params] = args as tf.Tensor[];
    const { spec, inputs } = kernelInputs(x, params, L, o);
    const attrs = { spec, ensemble } as unknown as tf.NamedAttrMap;
    const [y, ws] = tf.engine().runKernel(MLP_FORWARD_KERNEL, inputs, attrs) as tf.Tensor[];
    // Variables outlive any scope, so they are read from this closure; other weights (slices, test
    // tensors) may be disposed before backprop and go through save().
    save(weightsAreVariables ? [x, ws, y] : [x, ws, y, ...params]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, wss, ys, ...savedParams] = saved;
        const ps = weightsAreVariables ? params : savedParams;
        const bin: tf.NamedTensorMap = { dy, x: xs, ws: wss, y: ys };
        for (let l = 0; l < L; l++) {
          bin[`w${l}`] = ps[2 * l];
          bin[`b${l}`] = ps[2 * l + 1];
        }
        const battrs = { spec, ensemble, inputGrad: o.inputGrad, paramGrad: o.paramGrad } as unknown as tf.NamedAttrMap;
        const [dx, ...rest] = tf.engine().runKernel(MLP_BACKWARD_KERNEL, bin, battrs) as tf.Tensor[];
        const grads: tf.Tensor[] = [dx];
        for (let l = 0; l < L; l++) grads.push(rest[l], rest[L + l]);
        return grads;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as FusedFn;
  cache.set(key, fn);
  return fn;
}

/**
 * y = MLP(x) for weights [w0, b0, w1, b1, ...]: x [B, in] -> [B, out] (members 0), or for an ensemble
 * x [B, in] shared or [E, B, in] -> [E, B, out]. Callers check fusedMlpApplies first.
 */
export function fusedMlp(x: tf.Tensor, weights: tf.Tensor[], opts: FusedMlpOptions): tf.Tensor {
  if (x.dtype !== 'float32') throw new Error(`fusedMlp: input must be float32, got ${x.dtype}`);
  const L = weights.length / 2;
  if (!(tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn()) return inferenceForward(x, weights, opts);
  const areVariables = weights.every((w) => w instanceof tf.Variable);
  return build(L, opts, areVariables)(x, ...weights);
}
