/**
 * The fused whole-network kernels (native/mlp.c via core/nn/fused-mlp.ts) against a plain tfjs
 * reference built from tf.matMul / tf.add / activations with tfjs's own autodiff: forward values,
 * gradients for every weight and bias, input gradients (plain, per-member and shared-input ensembles),
 * and the paramGrad=false / inputGrad=false variants. Skipped where the addon is not built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend.js';
import { nativeMlpKernelsActive } from '../../core/native-gemm.js';
import { EnsembleMLP, MLP } from '../../core/nn/mlp.js';
import { fusedMlpApplies, setFusedMlp } from '../../core/nn/fused-mlp.js';
import { LEAKY_ALPHA, type Activation } from '../../core/nn/dense.js';
import { Rng } from '../../core/rng.js';

let live = false;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  live = nativeMlpKernelsActive();
});
afterAll(() => setFusedMlp(true));

function act(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a) {
    case 'relu': return tf.relu(x);
    case 'leakyrelu': return tf.leakyRelu(x, LEAKY_ALPHA);
    case 'tanh': return tf.tanh(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'elu': return tf.elu(x);
    default: return x;
  }
}

/** Reference forward pass from plain tfjs ops; ensembles member by member on slices of the weights. */
function reference(x: tf.Tensor, vars: tf.Tensor[], members: number, hidden: Activation, out: Activation): tf.Tensor {
  const L = vars.length / 2;
  const run = (xe: tf.Tensor, w: (l: number) => tf.Tensor, b: (l: number) => tf.Tensor) => {
    let h = xe;
    for (let l = 0; l < L; l++) h = act(tf.add(tf.matMul(h, w(l)), b(l)), l === L - 1 ? out : hidden);
    return h;
  };
  if (members === 0) return run(x, (l) => vars[2 * l], (l) => vars[2 * l + 1]);
  const outs: tf.Tensor[] = [];
  for (let e = 0; e < members; e++) {
    const xe = x.rank === 3 ? tf.squeeze(tf.slice(x, [e, 0, 0], [1, -1, -1]), [0]) : x;
    const w = (l: number) => tf.squeeze(tf.slice(vars[2 * l], [e, 0, 0], [1, -1, -1]), [0]);
    const b = (l: number) => tf.reshape(tf.slice(vars[2 * l + 1], [e, 0, 0], [1, -1, -1]), [-1]);
    outs.push(run(xe, w, b));
  }
  return tf.stack(outs);
}

/** tf.tidy for a function returning plain arrays (tidy's types only allow tensors out). */
function scoped<T>(fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}

function close(a: Float32Array | number[], b: Float32Array | number[], what: string): void {
  expect(a.length, what).toBe(b.length);
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  expect(worst / scale, `${what}: max abs diff ${worst} at scale ${scale}`).toBeLessThan(2e-5);
}

interface Case {
  name: string;
  members: number;
  perMemberInput?: boolean;
  dims: number[];
  hidden: Activation;
  out: Activation;
  batch: number;
}

const cases: Case[] = [
  { name: 'mlp relu/linear', members: 0, dims: [7, 16, 12, 3], hidden: 'relu', out: 'linear', batch: 9 },
  { name: 'mlp leakyrelu/tanh', members: 0, dims: [5, 8, 2], hidden: 'leakyrelu', out: 'tanh', batch: 33 },
  { name: 'mlp tanh/sigmoid, one layer', members: 0, dims: [6, 4], hidden: 'tanh', out: 'sigmoid', batch: 5 },
  { name: 'ensemble shared input relu', members: 2, dims: [11, 16, 16, 1], hidden: 'relu', out: 'linear', batch: 17 },
  { name: 'ensemble per-member input leakyrelu/tanh', members: 3, perMemberInput: true, dims: [6, 10, 9, 1], hidden: 'leakyrelu', out: 'tanh', batch: 13 },
  { name: 'ensemble of one', members: 1, dims: [4, 8, 2], hidden: 'sigmoid', out: 'linear', batch: 6 },
  // More rows than the inference kernel's 256-row tile, so tiling and the partial last tile are covered.
  { name: 'ensemble, rows over a tile', members: 3, dims: [9, 20, 20, 1], hidden: 'leakyrelu', out: 'tanh', batch: 600 },
  { name: 'mlp, rows over a tile', members: 0, dims: [5, 12, 3], hidden: 'relu', out: 'linear', batch: 513 },
];

describe('fused MLP kernels vs the plain tfjs reference', () => {
  for (const c of cases) {
    for (const [inputGrad, paramGrad] of [[true, true], [false, true], [true, false]] as const) {
      it(`${c.name} (inputGrad ${inputGrad}, paramGrad ${paramGrad})`, async (ctx) => {
        if (!live) ctx.skip();
        const rng = new Rng(c.dims.length * 31 + c.batch);
        const [inputDim, ...rest] = c.dims;
        const cfg = { inputDim, hiddenDims: rest.slice(0, -1), outputDim: rest[rest.length - 1], activation: c.hidden, outputActivation: c.out, seed: 3 };
        const net = c.members > 0 ? new EnsembleMLP({ ...cfg, members: c.members }) : new MLP(cfg);
        // Non-zero biases so bias handling is exercised.
        net.setWeights(net.getWeights().map((w) => rng.fillNormal(new Float32Array(w.length), 0, 0.5) as Float32Array));
        expect(fusedMlpApplies(net.variables.length / 2, c.hidden, c.out)).toBe(true);
        const xShape = c.perMemberInput ? [c.members, c.batch, inputDim] : [c.batch, inputDim];
        const x = tf.tensor(rng.fillNormal(new Float32Array(xShape.reduce((a, b) => a * b))) as Float32Array, xShape);
        const outShape = c.members > 0 ? [c.members, c.batch, cfg.outputDim] : [c.batch, cfg.outputDim];
        const r = tf.tensor(rng.fillNormal(new Float32Array(outShape.reduce((a, b) => a * b))) as Float32Array, outShape);
        const opts = { inputGrad, paramGrad };
        const lossOf = (y: tf.Tensor) => tf.sum(tf.mul(y, r)) as tf.Scalar;
        setFusedMlp(true);
        const yF = tf.tidy(() => net.apply(x, opts).dataSync() as Float32Array);
        const ran: string[] = [];
        const prof = await tf.profile(() => tf.tidy(() => {
          tf.variableGrads(() => lossOf(net.apply(x, opts)), net.variables);
        }));
        for (const k of prof.kernels) ran.push(k.name);
        expect(ran).toContain('PbrlMlpForward');
        expect(ran).toContain('PbrlMlpBackward');
        expect(ran).not.toContain('_FusedMatMul');
        const gF = scoped(() => {
          // Gradients through variables: tf.variableGrads on the fused apply.
          const { grads: vg } = tf.variableGrads(() => lossOf(net.apply(x, opts)), net.variables);
          const dx = inputGrad ? tf.grad((xin: tf.Tensor) => lossOf(net.apply(xin, opts)))(x).dataSync() as Float32Array : null;
          return { w: net.variables.map((v) => vg[v.name].dataSync() as Float32Array), dx };
        });
        const yR = tf.tidy(() => reference(x, net.variables, c.members, c.hidden, c.out).dataSync() as Float32Array);
        const gR = scoped(() => {
          const { grads: vg } = tf.variableGrads(() => lossOf(reference(x, net.variables, c.members, c.hidden, c.out)), net.variables);
          const dx = tf.grad((xin: tf.Tensor) => lossOf(reference(xin, net.variables, c.members, c.hidden, c.out)))(x).dataSync() as Float32Array;
          return { w: net.variables.map((v) => vg[v.name].dataSync() as Float32Array), dx };
        });
        close(yF, yR, 'forward');
        net.variables.forEach((v, i) => {
          if (paramGrad) close(gF.w[i], gR.w[i], `grad of ${v.name}`);
          else expect(Array.from(gF.w[i]).every((g) => g === 0), `${v.name}: no parameter gradient wanted`).toBe(true);
        });
        if (inputGrad) close(gF.dx!, gR.dx, 'input gradient');
        x.dispose();
        r.dispose();
        net.dispose();
      });
    }
  }

  it('matches the per-layer path it replaces, and leaks no tensors over repeated updates', (ctx) => {
    if (!live) ctx.skip();
    const net = new EnsembleMLP({ inputDim: 43, hiddenDims: [32, 32], outputDim: 1, members: 2, seed: 5 });
    const rng = new Rng(9);
    const x = tf.tensor2d(rng.fillNormal(new Float32Array(64 * 43)) as Float32Array, [64, 43]);
    const loss = () => tf.mean(tf.square(net.apply(x))) as tf.Scalar;
    const gradsOf = () => tf.tidy(() => {
      const { grads } = tf.variableGrads(loss, net.variables);
      return net.variables.map((v) => Array.from(grads[v.name].dataSync()));
    });
    setFusedMlp(false);
    const perLayer = gradsOf();
    setFusedMlp(true);
    const fused = gradsOf();
    fused.forEach((g, i) => close(g, perLayer[i], `variable ${i}`));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) gradsOf();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });

  it('is deterministic: the same inputs give the same bits', (ctx) => {
    if (!live) ctx.skip();
    const net = new MLP({ inputDim: 10, hiddenDims: [64, 64], outputDim: 4, seed: 1 });
    const x = tf.tensor2d(new Rng(2).fillNormal(new Float32Array(50 * 10)) as Float32Array, [50, 10]);
    const run = () => tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(net.apply(x))) as tf.Scalar, net.variables);
      return net.variables.flatMap((v) => Array.from(grads[v.name].dataSync()));
    });
    expect(run()).toEqual(run());
    x.dispose();
    net.dispose();
  });
});
