/**
 * The fast layers: gradients against tf.grad of a plain reference, ensembles against single MLPs,
 * no tensor leaks, determinism, and clear errors on bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend.js';
import { installNativeGemm, uninstallNativeGemm } from '../../core/native-gemm.js';
import { Rng } from '../../core/rng.js';
import { ACTIVATIONS, Activation, dense, ensembleDense, LEAKY_ALPHA } from '../../core/nn/dense.js';
import { EnsembleMLP, MLP } from '../../core/nn/mlp.js';
import { orthogonal } from '../../core/nn/init.js';
import { adam, clipByGlobalNorm, NonFiniteLossError, optimizerStep } from '../../core/nn/optim.js';

let nativeAvailable = false;
beforeAll(async () => {
  nativeAvailable = (await initBackend({ backend: 'wasm' })).nativeGemm.active;
});
afterAll(() => {
  if (nativeAvailable) installNativeGemm();
});

function act(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a) {
    case 'linear': return x;
    case 'relu': return tf.relu(x);
    case 'tanh': return tf.tanh(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'elu': return tf.elu(x);
    case 'leakyrelu': return tf.leakyRelu(x, LEAKY_ALPHA);
  }
}

const rand = (rng: Rng, shape: number[]) =>
  tf.tensor(Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.range(-1, 1)), shape);

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const paths = ['wasm', 'native'] as const;
function usePath(p: (typeof paths)[number]): boolean {
  if (p === 'native') {
    if (!nativeAvailable) return false;
    installNativeGemm();
  } else uninstallNativeGemm();
  return true;
}

describe.each(paths)('fast layers on the %s path', (path) => {
  it('dense gradients equal tf.grad of the plain reference to 1e-5', () => {
    if (!usePath(path)) return;
    const rng = new Rng(11);
    for (const a of ACTIVATIONS) {
      tf.tidy(() => {
        const x = rand(rng, [7, 5]);
        const w = rand(rng, [5, 4]);
        const b = rand(rng, [4]);
        const up = rand(rng, [7, 4]); // a random upstream gradient makes every output count
        const ours = tf.grads((x, w, b) => tf.sum(tf.mul(dense(x, w, b, { activation: a }), up)))([x, w, b]);
        const ref = tf.grads((x, w, b) => tf.sum(tf.mul(act(tf.add(tf.matMul(x, w), b), a), up)))([x, w, b]);
        ours.forEach((g, i) => expect(maxDiff(g, ref[i]), `${a} grad ${i}`).toBeLessThan(1e-5));
      });
    }
  });

  it('ensemble dense gradients equal the reference, for per-member and shared inputs', () => {
    if (!usePath(path)) return;
    const rng = new Rng(12);
    for (const shared of [false, true]) {
      for (const a of ['relu', 'tanh', 'linear'] as const) {
        tf.tidy(() => {
          const x = rand(rng, shared ? [6, 5] : [3, 6, 5]);
          const w = rand(rng, [3, 5, 4]);
          const b = rand(rng, [3, 1, 4]);
          const up = rand(rng, [3, 6, 4]);
          const ours = tf.grads((x, w, b) => tf.sum(tf.mul(ensembleDense(x, w, b, { activation: a }), up)))([x, w, b]);
          // tfjs's own matMul gradient mishandles a broadcast operand, so the reference tiles it.
          const ref = tf.grads((x, w, b) => {
            const xs = x.rank === 2 ? tf.tile(tf.expandDims(x, 0), [3, 1, 1]) : x;
            return tf.sum(tf.mul(act(tf.add(tf.matMul(xs, w), b), a), up));
          })([x, w, b]);
          ours.forEach((g, i) => expect(maxDiff(g, ref[i]), `${a} shared=${shared} grad ${i}`).toBeLessThan(1e-5));
        });
      }
    }
  });

  it('MLP parameter gradients equal tf.grad through the plain reference network', () => {
    if (!usePath(path)) return;
    const net = new MLP({ inputDim: 6, hiddenDims: [8, 8], outputDim: 2, activation: 'tanh', seed: 3 });
    const rng = new Rng(13);
    tf.tidy(() => {
      const x = rand(rng, [9, 6]);
      const ours = tf.variableGrads(() => tf.sum(tf.square(net.apply(x))) as tf.Scalar, net.variables).grads;
      const ref = tf.variableGrads(() => {
        let h: tf.Tensor = x;
        const v = net.variables;
        for (let l = 0; l < v.length / 2; l++) {
          h = tf.add(tf.matMul(h, v[2 * l]), v[2 * l + 1]);
          if (l < v.length / 2 - 1) h = tf.tanh(h);
        }
        return tf.sum(tf.square(h)) as tf.Scalar;
      }, net.variables).grads;
      for (const v of net.variables) expect(maxDiff(ours[v.name], ref[v.name])).toBeLessThan(1e-5);
    });
    net.dispose();
  });

  it('ensemble member i equals a single MLP with the same weights', () => {
    if (!usePath(path)) return;
    const ens = new EnsembleMLP({ inputDim: 5, hiddenDims: [16, 16], outputDim: 3, members: 3, seed: 21 });
    const rng = new Rng(22);
    const x = rand(rng, [10, 5]);
    const out = ens.apply(x);
    for (let i = 0; i < 3; i++) {
      const m = ens.member(i);
      // built from the same seed stream, a standalone MLP matches member i as well
      const fresh = new MLP({ inputDim: 5, hiddenDims: [16, 16], outputDim: 3, seed: new Rng(21).split(`member${i}`) });
      const mi = tf.tidy(() => tf.squeeze(tf.slice(out, [i, 0, 0], [1, 10, 3]), [0]));
      expect(maxDiff(m.apply(x), mi)).toBeLessThan(1e-5);
      expect(maxDiff(fresh.apply(x), mi)).toBeLessThan(1e-5);
      mi.dispose();
      m.dispose();
      fresh.dispose();
    }
    x.dispose();
    out.dispose();
    ens.dispose();
  });
});

describe('training utilities', () => {
  it('tensor count stays flat over 1,000 Adam updates (MLP and ensemble)', () => {
    const net = new MLP({ inputDim: 8, hiddenDims: [16, 16], outputDim: 1, seed: 1 });
    const ens = new EnsembleMLP({ inputDim: 8, hiddenDims: [16], outputDim: 1, members: 3, seed: 2 });
    const rng = new Rng(3);
    const x = rand(rng, [32, 8]);
    const y = rand(rng, [32, 1]);
    const opt = adam(1e-3);
    const opt2 = adam(1e-3);
    const step = () => {
      optimizerStep(opt, () => tf.losses.meanSquaredError(y, net.apply(x)) as tf.Scalar, net.variables, { clipNorm: 10 });
      optimizerStep(opt2, () => tf.losses.meanSquaredError(tf.stack([y, y, y]), ens.apply(x)) as tf.Scalar, ens.variables);
    };
    for (let i = 0; i < 10; i++) step(); // optimizer slots are created lazily on the first steps
    const before = tf.memory().numTensors;
    let first = 0;
    let last = 0;
    for (let i = 0; i < 1000; i++) {
      step();
      const l = tf.tidy(() => tf.losses.meanSquaredError(y, net.apply(x)).dataSync()[0]);
      if (i === 0) first = l;
      last = l;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first); // and the updates did fit the data
    [net, ens].forEach((n) => n.dispose());
    [x, y].forEach((t) => t.dispose());
  });

  it('a NaN loss is an error and leaves the weights unchanged', () => {
    const net = new MLP({ inputDim: 3, hiddenDims: [4], outputDim: 1, seed: 1 });
    const before = net.getWeights();
    const x = tf.tensor2d([[1, NaN, 0]]);
    expect(() => optimizerStep(adam(1e-3), () => tf.sum(net.apply(x)) as tf.Scalar, net.variables, { name: 'critic loss' }))
      .toThrow(NonFiniteLossError);
    expect(() => optimizerStep(adam(1e-3), () => tf.sum(net.apply(x)) as tf.Scalar, net.variables, { name: 'critic loss' }))
      .toThrow(/critic loss is NaN; no weights were changed/);
    expect(net.getWeights()).toEqual(before);
    expect(() => net.predict(Float32Array.from([1, NaN, 0]))).toThrow(/input\[0\]\[1\] is NaN/);
    x.dispose();
    net.dispose();
  });

  it('clipByGlobalNorm scales all gradients jointly', () => {
    const g = { a: tf.tensor([3, 0]), b: tf.tensor([0, 4]) }; // joint norm 5
    const c = clipByGlobalNorm(g, 1);
    expect(Array.from(c.a.dataSync())).toEqual([expect.closeTo(0.6, 6), 0]);
    expect(Array.from(c.b.dataSync())).toEqual([0, expect.closeTo(0.8, 6)]);
    const same = clipByGlobalNorm(g, 10);
    expect(Array.from(same.a.dataSync())).toEqual([3, 0]);
  });

  it('wrong shapes and bad configs are clear errors', () => {
    const net = new MLP({ inputDim: 3, hiddenDims: [4], outputDim: 1 });
    expect(() => net.apply(tf.zeros([2, 5]))).toThrow(/input must be \[batch, 3\], got \[2,5\]/);
    expect(() => new MLP({ inputDim: 3, hiddenDims: [0], outputDim: 1 })).toThrow(/layer size 1 must be a positive integer/);
    expect(() => new MLP({ inputDim: 3, hiddenDims: [4], outputDim: 1, activation: 'swish' as Activation })).toThrow(/unknown activation "swish"/);
    expect(() => dense(tf.zeros([2, 3]), tf.zeros([4, 2]), tf.zeros([2]))).toThrow(/shape mismatch/);
    expect(() => net.setWeights([new Float32Array(1)])).toThrow(/got 1 arrays, expected 4/);
    expect(() => adam(-1)).toThrow(/learning rate/);
    net.dispose();
  });

  it('same seed => same weights; save/load round-trips exactly; polyak averaging', () => {
    const a = new MLP({ inputDim: 4, hiddenDims: [8], outputDim: 2, init: 'orthogonal', seed: 5 });
    const b = new MLP({ inputDim: 4, hiddenDims: [8], outputDim: 2, init: 'orthogonal', seed: 5 });
    expect(a.getWeights()).toEqual(b.getWeights());
    const c = MLP.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    const x = Float32Array.from([0.1, -0.2, 0.3, 0.4]);
    expect(Array.from(c.predict(x))).toEqual(Array.from(a.predict(x)));
    const t = new MLP({ inputDim: 4, hiddenDims: [8], outputDim: 2, seed: 6 });
    const w0 = t.getWeights()[0][0];
    t.polyakUpdate(a, 0.25);
    expect(t.getWeights()[0][0]).toBeCloseTo(0.75 * w0 + 0.25 * a.getWeights()[0][0], 6);
    const e = new EnsembleMLP({ inputDim: 4, hiddenDims: [8], outputDim: 1, members: 2, seed: 1 });
    const e2 = EnsembleMLP.fromJSON(JSON.parse(JSON.stringify(e.toJSON())));
    expect(Array.from(e2.predict(x))).toEqual(Array.from(e.predict(x)));
    [a, b, c, t, e, e2].forEach((n) => n.dispose());
  });

  it('orthogonal init gives orthonormal columns (times gain)', () => {
    const w = orthogonal(new Rng(1), 6, 4);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let dot = 0;
        for (let r = 0; r < 6; r++) dot += w[r * 4 + i] * w[r * 4 + j];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    }
  });
});

describe.each(paths)('Adam on the %s path', (path) => {
  it('matches tf.train.adam step for step (in-place native update or tf ops)', () => {
    if (!usePath(path)) return;
    const a = new MLP({ inputDim: 6, hiddenDims: [16, 16], outputDim: 2, seed: 8 });
    const b = new MLP({ inputDim: 6, hiddenDims: [16, 16], outputDim: 2, seed: 8 });
    const ours = adam(1e-2);
    const stock = tf.train.adam(1e-2, 0.9, 0.999, 1e-8); // same epsilon as ours and PyTorch (tfjs defaults to 1e-7)
    const rng = new Rng(9);
    const x = rand(rng, [20, 6]);
    const y = rand(rng, [20, 2]);
    const maxGap = () => {
      const wb = b.getWeights();
      return Math.max(...a.getWeights().flatMap((w, i) => Array.from(w, (v, j) => Math.abs(v - wb[i][j]))));
    };
    for (let i = 0; i < 50; i++) {
      optimizerStep(ours, () => tf.losses.meanSquaredError(y, a.apply(x)) as tf.Scalar, a.variables);
      optimizerStep(stock, () => tf.losses.meanSquaredError(y, b.apply(x)) as tf.Scalar, b.variables);
      // One step agrees to float32 rounding; over 50 steps of lr 1e-2 (weights move ~0.5) rounding
      // differences in the bias correction may accumulate to ~1e-5.
      if (i === 0) expect(maxGap()).toBeLessThan(1e-6);
    }
    expect(maxGap()).toBeLessThan(1e-4);
    expect(ours.iterations).toBe(50);
    [a, b].forEach((n) => n.dispose());
    [ours, stock].forEach((o) => o.dispose());
    [x, y].forEach((t) => t.dispose());
  });

  it('state round-trips: a restored optimizer continues identically', async () => {
    if (!usePath(path)) return;
    const rng = new Rng(10);
    const x = rand(rng, [12, 4]);
    const y = rand(rng, [12, 1]);
    const run = async (restoreAt: number | null) => {
      const net = new MLP({ inputDim: 4, hiddenDims: [8], outputDim: 1, seed: 2 });
      let opt = adam(5e-3);
      for (let i = 0; i < 20; i++) {
        if (i === restoreAt) {
          const state = await opt.getWeights();
          opt.dispose();
          opt = adam(5e-3);
          await opt.setWeights(state, net.variables);
          state.forEach((s) => s.tensor.dispose());
        }
        optimizerStep(opt, () => tf.losses.meanSquaredError(y, net.apply(x)) as tf.Scalar, net.variables);
      }
      const w = net.getWeights();
      net.dispose();
      opt.dispose();
      return w;
    };
    expect(await run(10)).toEqual(await run(null));
  });
});

describe('input-only gradients', () => {
  it('paramGrad: false gives the same input gradient and zero weight gradients', () => {
    for (const p of paths) {
      if (!usePath(p)) continue;
      const ens = new EnsembleMLP({ inputDim: 5, hiddenDims: [8, 8], outputDim: 1, members: 2, seed: 4 });
      const rng = new Rng(5);
      tf.tidy(() => {
        const x = rand(rng, [7, 5]);
        const full = tf.grad((x: tf.Tensor) => tf.sum(ens.apply(x, { inputGrad: true })))(x);
        const only = tf.grad((x: tf.Tensor) => tf.sum(ens.apply(x, { inputGrad: true, paramGrad: false })))(x);
        expect(maxDiff(full, only)).toBeLessThan(1e-6);
        const wg = tf.variableGrads(() => tf.sum(ens.apply(x, { paramGrad: false })) as tf.Scalar, ens.variables).grads;
        for (const v of ens.variables) expect(tf.max(tf.abs(wg[v.name])).dataSync()[0]).toBe(0);
      });
      ens.dispose();
    }
  });
});

describe.each(paths)('Polyak averaging on the %s path', (path) => {
  it('target <- tau * online + (1 - tau) * target, for single and ensemble networks', () => {
    if (!usePath(path)) return;
    for (const make of [
      (seed: number) => new MLP({ inputDim: 3, hiddenDims: [5], outputDim: 2, seed }),
      (seed: number) => new EnsembleMLP({ inputDim: 3, hiddenDims: [5], outputDim: 1, members: 2, seed }),
    ]) {
      const online = make(1);
      const target = make(2);
      const t0 = target.getWeights();
      const o = online.getWeights();
      target.polyakUpdate(online, 0.3);
      target.getWeights().forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(0.7 * t0[i][j] + 0.3 * o[i][j], 6)));
      expect(online.getWeights()).toEqual(o);
      online.dispose();
      target.dispose();
    }
  });
});
