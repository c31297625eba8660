/**
 * `pbrl demo`: a one-minute end-to-end check that the tensor core learns from preferences.
 *
 * A hidden linear reward scores random 8-dim states; pairs of 10-step segments are labelled by an
 * oracle (the higher true return wins); a 3-member ensemble reward model is fit with the
 * Bradley-Terry loss on segment sums; the demo reports held-out preference accuracy and update speed.
 * It stands in for the quick benchmark until the environments and agents land.
 */
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { EnsembleMLP } from '../../core/nn/mlp.js';
import { adam, optimizerStep } from '../../core/nn/optim.js';

const DIM = 8;
const LEN = 10;

interface PairSet {
  a: Float32Array; // pairs * LEN * DIM
  b: Float32Array;
  label: Float32Array; // 1 if a preferred
  n: number;
}

function makePairs(rng: Rng, w: Float32Array, n: number): PairSet {
  const a = rng.fillNormal(new Float32Array(n * LEN * DIM)) as Float32Array;
  const b = rng.fillNormal(new Float32Array(n * LEN * DIM)) as Float32Array;
  const label = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    let ra = 0;
    let rb = 0;
    for (let t = 0; t < LEN; t++) {
      for (let d = 0; d < DIM; d++) {
        ra += w[d] * a[(p * LEN + t) * DIM + d];
        rb += w[d] * b[(p * LEN + t) * DIM + d];
      }
    }
    label[p] = ra > rb ? 1 : 0;
  }
  return { a, b, label, n };
}

/** Segment returns under each member: [E, pairs]. */
function segmentReturns(model: EnsembleMLP, x: tf.Tensor2D, pairs: number): tf.Tensor2D {
  const r = model.apply(x); // [E, pairs*LEN, 1]
  return tf.sum(tf.reshape(r, [model.members, pairs, LEN]), 2) as tf.Tensor2D;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('learn a reward model from synthetic preferences (Bradley-Terry, 3-member ensemble) and report accuracy and speed')
    .option('--steps <n>', 'gradient steps', '600')
    .option('--seed <n>', 'random seed', '0')
    .option('--batch <n>', 'pairs per step', '64')
    .action(async (opts: { steps: string; seed: string; batch: string }) => {
      const steps = Number(opts.steps);
      const seed = Number(opts.seed);
      const batch = Number(opts.batch);
      for (const [k, v] of Object.entries({ steps, seed, batch })) {
        if (!Number.isInteger(v) || v < (k === 'seed' ? 0 : 1)) throw new Error(`--${k} must be a ${k === 'seed' ? 'non-negative' : 'positive'} integer, got ${(opts as Record<string, string>)[k]}`);
      }
      const info = await initBackend();
      console.log(`backend: ${info.backend}${info.backend === 'wasm' ? `, native GEMM ${info.nativeGemm.active ? 'on' : 'off'}` : ''}`);
      const rng = new Rng(seed);
      const w = rng.split('true-reward').fillNormal(new Float32Array(DIM)) as Float32Array;
      const train = makePairs(rng.split('train'), w, 2000);
      const test = makePairs(rng.split('test'), w, 500);
      const model = new EnsembleMLP({ inputDim: DIM, hiddenDims: [64, 64], outputDim: 1, members: 3, seed: rng.split('model') });
      const opt = adam(3e-3);
      const sampler = rng.split('batches');

      const accuracy = (set: PairSet): number =>
        tf.tidy(() => {
          const ra = tf.mean(segmentReturns(model, tf.tensor2d(set.a, [set.n * LEN, DIM]), set.n), 0);
          const rb = tf.mean(segmentReturns(model, tf.tensor2d(set.b, [set.n * LEN, DIM]), set.n), 0);
          const pred = tf.cast(tf.greater(ra, rb), 'float32');
          return tf.mean(tf.cast(tf.equal(pred, tf.tensor1d(set.label)), 'float32')).dataSync()[0];
        });

      const before = accuracy(test);
      const bar = new SingleBar({ format: 'training |{bar}| {value}/{total} steps | loss {loss} | {speed} steps/s | ETA {eta}s', hideCursor: true }, Presets.shades_classic);
      bar.start(steps, 0, { loss: '-', speed: '-' });
      const xa = new Float32Array(batch * LEN * DIM);
      const xb = new Float32Array(batch * LEN * DIM);
      const yl = new Float32Array(batch);
      const t0 = performance.now();
      let loss = NaN;
      for (let s = 0; s < steps; s++) {
        for (let i = 0; i < batch; i++) {
          const p = sampler.int(train.n);
          xa.set(train.a.subarray(p * LEN * DIM, (p + 1) * LEN * DIM), i * LEN * DIM);
          xb.set(train.b.subarray(p * LEN * DIM, (p + 1) * LEN * DIM), i * LEN * DIM);
          yl[i] = train.label[p];
        }
        loss = tf.tidy(() => {
          const a = tf.tensor2d(xa, [batch * LEN, DIM]);
          const b = tf.tensor2d(xb, [batch * LEN, DIM]);
          const y = tf.tensor1d(yl);
          return optimizerStep(opt, () => {
            // Bradley-Terry: P(a > b) = sigmoid(R(a) - R(b)); each member gets the same labels.
            const logits = tf.sub(segmentReturns(model, a, batch), segmentReturns(model, b, batch));
            return tf.losses.sigmoidCrossEntropy(tf.broadcastTo(y, logits.shape), logits) as tf.Scalar;
          }, model.variables, { name: 'Bradley-Terry loss' });
        });
        if (s % 10 === 0 || s === steps - 1) {
          bar.update(s + 1, { loss: loss.toFixed(3), speed: ((s + 1) / ((performance.now() - t0) / 1000)).toFixed(0) });
        }
      }
      bar.stop();
      const secs = (performance.now() - t0) / 1000;
      const after = accuracy(test);
      console.log(`held-out preference accuracy: ${(100 * before).toFixed(1)}% before training -> ${(100 * after).toFixed(1)}% after ${steps} steps`);
      console.log(`${(steps / secs).toFixed(0)} ensemble updates/s (${((1000 * secs) / steps).toFixed(1)} ms each, ${batch} pairs x ${LEN} steps, 3 members)`);
      model.dispose();
      opt.dispose();
      if (after < 0.85) {
        throw new Error(`demo reward model reached only ${(100 * after).toFixed(1)}% accuracy; expected >= 85%`);
      }
    });
}
