/**
 * The regression task the NN benchmarks and `pbrl doctor` time: one Adam step of an MLP (or ensemble)
 * on a mean-squared-error loss against fixed targets. Kept in core so doctor and bench time the same thing.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { EnsembleMLP, MLP } from './mlp.js';
import { adam, optimizerStep } from './optim.js';

export interface UpdateBench {
  step(): number;
  dispose(): void;
}

export function mlpUpdateBench(dims: number[], batch: number, members = 0, seed = 0): UpdateBench {
  const rng = new Rng(seed);
  const [inputDim, ...rest] = dims;
  const outputDim = rest[rest.length - 1];
  const hiddenDims = rest.slice(0, -1);
  const net = members > 0
    ? new EnsembleMLP({ inputDim, hiddenDims, outputDim, members, seed: rng.split('net') })
    : new MLP({ inputDim, hiddenDims, outputDim, seed: rng.split('net') });
  const x = tf.tensor2d(rng.fillNormal(new Float32Array(batch * inputDim)) as Float32Array, [batch, inputDim]);
  const yShape = members > 0 ? [members, batch, outputDim] : [batch, outputDim];
  const y = tf.tensor(rng.fillNormal(new Float32Array(yShape.reduce((a, b) => a * b))) as Float32Array, yShape);
  const opt = adam(3e-4);
  return {
    step: () => optimizerStep(opt, () => tf.losses.meanSquaredError(y, net.apply(x)) as tf.Scalar, net.variables),
    dispose: () => {
      net.dispose();
      x.dispose();
      y.dispose();
      opt.dispose();
    },
  };
}

/** The same update with stock tf.layers models (the baseline our layers are measured against). */
export function layersUpdateBench(dims: number[], batch: number, members = 0, seed = 0): UpdateBench {
  const rng = new Rng(seed);
  const [inputDim, ...rest] = dims;
  const outputDim = rest[rest.length - 1];
  const n = Math.max(1, members);
  const models = Array.from({ length: n }, () => {
    const m = tf.sequential();
    rest.forEach((units, i) =>
      m.add(tf.layers.dense({ units, inputShape: i === 0 ? [inputDim] : undefined, activation: i === rest.length - 1 ? 'linear' : 'relu' })),
    );
    return m;
  });
  const x = tf.tensor2d(rng.fillNormal(new Float32Array(batch * inputDim)) as Float32Array, [batch, inputDim]);
  const y = tf.tensor2d(rng.fillNormal(new Float32Array(batch * outputDim)) as Float32Array, [batch, outputDim]);
  const vars = models.flatMap((m) => m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
  const stockOpt = tf.train.adam(3e-4); // the stock baseline uses the stock optimizer too
  return {
    step: () =>
      optimizerStep(stockOpt, () => tf.addN(models.map((m) => tf.losses.meanSquaredError(y, m.apply(x) as tf.Tensor))) as tf.Scalar, vars),
    dispose: () => {
      models.forEach((m) => m.dispose());
      x.dispose();
      y.dispose();
      stockOpt.dispose();
    },
  };
}

/**
 * Plain matmul throughput, GFLOP/s, for an n x n x n product on the active kernels. The product is not
 * read back to JS per call (kernels on wasm, cpu and tfjs-node run synchronously); a copy-out per call
 * once cost a third of the measured rate and is not what training does.
 */
export function matmulGflops(n: number, timeMs: (fn: () => void) => number): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const ms = timeMs(() => tf.matMul(a, b).dispose());
  tf.tidy(() => { tf.matMul(a, b).dataSync(); });
  a.dispose();
  b.dispose();
  return (2 * n * n * n) / (ms * 1e6);
}
