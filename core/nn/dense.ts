/**
 * Dense layers with hand-written gradients.
 *
 * Why: on the wasm backend a matmul with a transposed operand is 10-15x slower than a plain one
 * (design.md), and tfjs's own matMul gradient asks for exactly those. Here the backward pass either
 * transposes explicitly (pure wasm: one cheap copy, then the fast plain kernel) or passes the transpose
 * flag straight to BLAS (native GEMM, where flags are free). The forward pass uses tf.fused.matMul so
 * bias and activation ride along with the matmul in one kernel where the backend fuses them.
 *
 * Shapes: single layer x [B, in], w [in, out], b [out]. Ensemble layer x [E, B, in] (or shared
 * [B, in]), w [E, in, out], b [E, 1, out]: E independent members computed as one batched matmul.
 */
import * as tf from '@tensorflow/tfjs';
import { ACT_GRAD_KERNEL, nativeActGradSupports, nativeGemmActive } from '../native-gemm.js';

export const ACTIVATIONS = ['linear', 'relu', 'tanh', 'sigmoid', 'elu', 'leakyrelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export function assertActivation(a: string, field: string): asserts a is Activation {
  if (!(ACTIVATIONS as readonly string[]).includes(a)) {
    throw new Error(`${field}: unknown activation "${a}"; expected one of ${ACTIVATIONS.join(', ')}`);
  }
}

/** LeakyReLU slope: PyTorch's default 0.01, which the B-Pref/PEBBLE reward models use (tfjs defaults to 0.2). */
export const LEAKY_ALPHA = 0.01;

/** Which activations the fused kernels run (tanh is not one of tfjs's fused activations). */
const FUSABLE: Partial<Record<Activation, tf.fused.Activation>> = {
  linear: 'linear', relu: 'relu', sigmoid: 'sigmoid', elu: 'elu', leakyrelu: 'leakyrelu',
};

/** d(act)/d(pre) * dy, written in terms of the activation's output y (cheaper: no saved pre-activation). */
function activationGrad(dy: tf.Tensor, y: tf.Tensor, act: Activation): tf.Tensor {
  if (nativeActGradSupports(act)) {
    return tf.engine().runKernel(ACT_GRAD_KERNEL, { dy, y }, { activation: act, alpha: LEAKY_ALPHA }) as tf.Tensor;
  }
  switch (act) {
    case 'linear':
      return dy;
    case 'relu':
      return tf.mul(dy, tf.step(y));
    case 'tanh':
      return tf.mul(dy, tf.sub(1, tf.square(y)));
    case 'sigmoid':
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    case 'elu':
      // y > 0: 1; else d/dx (e^x - 1) = e^x = y + 1
      return tf.mul(dy, tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1)));
    case 'leakyrelu':
      // slope = max(step(y), alpha): two cheap kernels instead of a where over three full tensors.
      return tf.mul(dy, tf.maximum(tf.step(y), LEAKY_ALPHA));
  }
}

function applyActivation(pre: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'linear':
      return pre;
    case 'relu':
      return tf.relu(pre);
    case 'tanh':
      return tf.tanh(pre);
    case 'sigmoid':
      return tf.sigmoid(pre);
    case 'elu':
      return tf.elu(pre);
    case 'leakyrelu':
      return tf.leakyRelu(pre, LEAKY_ALPHA);
  }
}

/** Pure wasm: the only fast matmul is a plain, unbatched one (batched and transposed forms are 10-25x slower). */
export function slowMatMulPath(): boolean {
  return tf.getBackend() === 'wasm' && !nativeGemmActive();
}

function t2(m: tf.Tensor): tf.Tensor {
  return tf.transpose(m, [1, 0]);
}

/**
 * (Batched) matmul with optional transposes. With native GEMM or a TensorFlow backend the flags go
 * straight to the kernel. On pure wasm, each batch entry becomes a plain 2-D matmul on explicitly
 * transposed operands, which the wasm kernel runs at full speed.
 */
export function bmm(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (!slowMatMulPath() || (a.rank === 2 && b.rank === 2 && !transposeA && !transposeB)) return tf.matMul(a, b, transposeA, transposeB);
  if (a.rank === 2 && b.rank === 2) return tf.matMul(transposeA ? t2(a) : a, transposeB ? t2(b) : b);
  if (a.rank > 3 || b.rank > 3) return tf.matMul(a, b, transposeA, transposeB);
  const E = a.rank === 3 ? a.shape[0] : b.shape[0];
  const prepA = (m: tf.Tensor) => (transposeA ? t2(m) : m);
  const prepB = (m: tf.Tensor) => (transposeB ? t2(m) : m);
  const as = a.rank === 3 ? tf.unstack(a).map(prepA) : new Array<tf.Tensor>(E).fill(prepA(a));
  const bs = b.rank === 3 ? tf.unstack(b).map(prepB) : new Array<tf.Tensor>(E).fill(prepB(b));
  return tf.stack(as.map((ai, i) => tf.matMul(ai, bs[i])));
}

function forward(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, act: Activation, fuseBias: boolean): tf.Tensor {
  const fusedAct = FUSABLE[act];
  // The stock wasm fused kernel only takes a rank-1 bias and is slow batched; ensembles go unfused there.
  const canFuse = fusedAct !== undefined && (w.rank === 2 || !slowMatMulPath()) && (fuseBias || !slowMatMulPath());
  if (canFuse && nativeGemmActive()) {
    // Straight to the (native) kernel: tf.fused.matMul would add three reshapes and, under a gradient
    // tape, split into matmul + add + activation again. Gradients come from our own gradFunc.
    return tf.engine().runKernel('_FusedMatMul', { a: x, b: w, bias: b }, {
      transposeA: false, transposeB: false, activation: fusedAct, leakyreluAlpha: LEAKY_ALPHA,
    }) as tf.Tensor;
  }
  if (canFuse) {
    return tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation: fusedAct, leakyreluAlpha: LEAKY_ALPHA });
  }
  return applyActivation(tf.add(bmm(x, w), b), act);
}

/**
 * Bias gradient: g summed over the batch axis, as ones[1, B] @ g. The wasm Sum kernel reduces only the
 * innermost axis and transposes first otherwise, which made these sums the slowest part of an update;
 * a matmul by ones is one fast GEMM call (native) or one plain 2-D matmul (wasm).
 */
function sumOverBatch(g: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return g.rank === 2 ? tf.sum(g, 0) : tf.sum(g, 1, true);
  const B = g.shape[g.rank - 2];
  const ones = tf.ones([1, B]);
  if (g.rank === 2) return tf.reshape(tf.matMul(ones, g), [g.shape[1]!]);
  return bmm(ones, g); // [1, B] x [E, B, out] -> [E, 1, out]
}

/** Sum over the member axis of [E, B, in] -> [B, in], as a sum of slices (contiguous adds, no transpose). */
function sumMembers(x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.sum(x, 0);
  return tf.addN(tf.unstack(x));
}

type DenseFn = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;
const cache = new Map<string, DenseFn>();

/**
 * Build (once per activation / input-grad / sharing combination) the custom-gradient function.
 * `inputGrad=false` skips dL/dx: the first layer of a network fed with data never needs it, and
 * it is a full matmul saved per update.
 */
function denseFn(act: Activation, inputGrad: boolean, sharedInput: boolean, fuseBias = true, paramGrad = true): DenseFn {
  const key = `${act}|${inputGrad}|${sharedInput}|${fuseBias}|${paramGrad}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // tfjs disposes a forward pass's intermediates before backprop, so x and y must go through save()
  // (which clones through an Identity kernel). A weight that is a Variable survives any tidy, so it is
  // read from this closure instead: one kernel dispatch less per layer.
  const fn = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = forward(x, w, b, act, fuseBias);
    const wIsVariable = w instanceof tf.Variable;
    save(wIsVariable ? [x, y] : [x, y, w]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys] = saved;
        const ws = wIsVariable ? w : saved[2];
        const g = activationGrad(dy, ys, act);
        let dx: tf.Tensor;
        if (!inputGrad) dx = tf.zerosLike(xs);
        else if (sharedInput) dx = sumMembers(bmm(g, ws, false, true)); // each member's path adds to the shared input
        else dx = bmm(g, ws, false, true);
        if (!paramGrad) {
          const biasShape = ws.rank === 2 ? [ws.shape[1] as number] : [ws.shape[0], 1, ws.shape[2] as number];
          return [dx, tf.zerosLike(ws), tf.zeros(biasShape)];
        }
        const dw = bmm(xs, g, true, false); // shared x [B,in] broadcasts against g [E,B,out] -> [E,in,out]
        const db = sumOverBatch(g);
        return [dx, dw, db];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as DenseFn;
  cache.set(key, fn);
  return fn;
}

export interface DenseOptions {
  activation?: Activation;
  /** Compute the gradient with respect to x (default true). */
  inputGrad?: boolean;
  /**
   * Let the stock wasm fused kernel add the bias (default true). Turn off for a bias that is a slice
   * or reshape of a larger tensor: that kernel reads the rank from the tensor's storage, not its shape.
   */
  fuseBias?: boolean;
  /**
   * Compute weight and bias gradients (default true). False when only the input gradient is wanted,
   * e.g. SAC's actor loss backpropagates through the critic without updating it: skips a matmul per layer.
   */
  paramGrad?: boolean;
}

/** y = act(x @ w + b) for x [B, in], w [in, out], b [out]. */
export function dense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, opts: DenseOptions = {}): tf.Tensor {
  const act = opts.activation ?? 'linear';
  if (x.rank !== 2 || w.rank !== 2 || b.rank !== 1) {
    throw new Error(`dense: expected x [B, in], w [in, out], b [out]; got x [${x.shape}], w [${w.shape}], b [${b.shape}]`);
  }
  if (x.shape[1] !== w.shape[0] || w.shape[1] !== b.shape[0]) {
    throw new Error(`dense: shape mismatch: x [${x.shape}] @ w [${w.shape}] + b [${b.shape}]`);
  }
  return denseFn(act, opts.inputGrad ?? true, false, opts.fuseBias ?? true, opts.paramGrad ?? true)(x, w, b);
}

/**
 * Ensemble layer: member e computes act(x_e @ w_e + b_e). x is [E, B, in], or [B, in] shared by all
 * members (twin critics and reward ensembles all read the same batch). Returns [E, B, out].
 */
export function ensembleDense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, opts: DenseOptions = {}): tf.Tensor {
  const act = opts.activation ?? 'linear';
  if (w.rank !== 3 || b.rank !== 3 || (x.rank !== 2 && x.rank !== 3)) {
    throw new Error(`ensembleDense: expected x [E, B, in] or [B, in], w [E, in, out], b [E, 1, out]; got x [${x.shape}], w [${w.shape}], b [${b.shape}]`);
  }
  const [E, inDim, outDim] = w.shape;
  const xIn = x.shape[x.rank - 1];
  if (xIn !== inDim || b.shape[0] !== E || b.shape[1] !== 1 || b.shape[2] !== outDim || (x.rank === 3 && x.shape[0] !== E)) {
    throw new Error(`ensembleDense: shape mismatch: x [${x.shape}] @ w [${w.shape}] + b [${b.shape}]`);
  }
  return denseFn(act, opts.inputGrad ?? true, x.rank === 2, true, opts.paramGrad ?? true)(x, w, b);
}
