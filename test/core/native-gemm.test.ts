/**
 * Both matmul paths (stock wasm kernels and native OpenBLAS on the wasm heap) against a float64
 * reference, for every transpose combination, batch broadcasting, and the fused bias/activation kernel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend.js';
import { installNativeGemm, nativeGemmActive, uninstallNativeGemm } from '../../core/native-gemm.js';
import { Rng } from '../../core/rng.js';

let nativeAvailable = false;

beforeAll(async () => {
  const info = await initBackend({ backend: 'wasm' });
  nativeAvailable = info.nativeGemm.active;
});
afterAll(() => {
  if (nativeAvailable) installNativeGemm();
});

/** Row-major reference batched matmul with numpy broadcasting of the batch dims. */
function reference(a: number[], aShape: number[], b: number[], bShape: number[], ta: boolean, tb: boolean) {
  const ar = aShape.length;
  const br = bShape.length;
  const M = ta ? aShape[ar - 1] : aShape[ar - 2];
  const K = ta ? aShape[ar - 2] : aShape[ar - 1];
  const N = tb ? bShape[br - 2] : bShape[br - 1];
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const n = Math.max(aBatch.length, bBatch.length);
  const pad = (s: number[]) => [...new Array(n - s.length).fill(1), ...s];
  const pa = pad(aBatch);
  const pb = pad(bBatch);
  const outBatch = pa.map((d, i) => Math.max(d, pb[i]));
  const total = outBatch.reduce((x, y) => x * y, 1);
  const out: number[] = [];
  for (let t = 0; t < total; t++) {
    // unravel t, then map to each operand's (broadcast) batch index
    let rem = t;
    const idx = new Array(n).fill(0);
    for (let d = n - 1; d >= 0; d--) {
      idx[d] = rem % outBatch[d];
      rem = Math.floor(rem / outBatch[d]);
    }
    const flat = (s: number[]) => idx.reduce((acc, v, d) => acc * s[d] + (s[d] === 1 ? 0 : v), 0);
    const ao = flat(pa) * M * K;
    const bo = flat(pb) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = ta ? a[ao + k * M + i] : a[ao + i * K + k];
          const bv = tb ? b[bo + j * K + k] : b[bo + k * N + j];
          s += av * bv;
        }
        out.push(s);
      }
    }
  }
  return { out, shape: [...outBatch, M, N] };
}

const CASES: { a: number[]; b: number[] }[] = [
  { a: [5, 7], b: [7, 3] },
  { a: [4, 5, 7], b: [4, 7, 3] },
  { a: [5, 7], b: [3, 7, 6] }, // shared left operand (ensemble input)
  { a: [3, 5, 7], b: [7, 6] }, // shared right operand
  { a: [2, 1, 5, 7], b: [1, 3, 7, 4] }, // multi-axis broadcast (native falls back to the wasm kernel)
  { a: [1, 9], b: [9, 1] },
  { a: [6, 0], b: [0, 4] }, // empty inner dimension
];

function transposedShape(s: number[], t: boolean) {
  if (!t) return s;
  const r = [...s];
  [r[r.length - 1], r[r.length - 2]] = [r[r.length - 2], r[r.length - 1]];
  return r;
}

for (const path of ['wasm', 'native'] as const) {
  describe(`matMul on the ${path} path`, () => {
    it('equals the reference for all transpose and broadcast cases', () => {
      if (path === 'native') {
        if (!nativeAvailable) {
          // CI builds the addon (PBRL_REQUIRE_NATIVE=1); elsewhere its absence is allowed.
          expect(process.env.PBRL_REQUIRE_NATIVE).not.toBe('1');
          return;
        }
        installNativeGemm();
        expect(nativeGemmActive()).toBe(true);
      } else {
        uninstallNativeGemm();
        expect(nativeGemmActive()).toBe(false);
      }
      const rng = new Rng(5);
      for (const c of CASES) {
        // The stock wasm kernel flattens the batch axes, so broadcasting over several of them gives
        // wrong numbers there (a tfjs limitation); the native path maps each output matrix itself.
        if (path === 'wasm' && c.a.length > 3) continue;
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const aShape = transposedShape(c.a, ta);
            const bShape = transposedShape(c.b, tb);
            const a = Array.from({ length: aShape.reduce((x, y) => x * y, 1) }, () => rng.range(-1, 1));
            const b = Array.from({ length: bShape.reduce((x, y) => x * y, 1) }, () => rng.range(-1, 1));
            const want = reference(a, aShape, b, bShape, ta, tb);
            const got = tf.tidy(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb));
            expect(got.shape).toEqual(want.shape);
            const data = got.dataSync();
            got.dispose();
            want.out.forEach((v, i) => expect(Math.abs(data[i] - v)).toBeLessThan(1e-5));
          }
        }
      }
    });

    it('fused matmul adds bias and applies the activation like the unfused ops', () => {
      if (path === 'native') {
        if (!nativeAvailable) return;
        installNativeGemm();
      } else uninstallNativeGemm();
      const rng = new Rng(6);
      const rand = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.range(-1, 1)), shape);
      const biasCases: { x: number[]; w: number[]; b: number[] }[] = [
        { x: [6, 5], w: [5, 4], b: [4] },
        { x: [6, 5], w: [5, 4], b: [1] },
        { x: [3, 6, 5], w: [3, 5, 4], b: [3, 1, 4] }, // per-member bias
        { x: [6, 5], w: [3, 5, 4], b: [3, 1, 4] },
      ];
      for (const c of biasCases) {
        // The stock wasm kernel accepts only a rank-1 bias of length N (a length-1 bias gives wrong
        // numbers there, a tfjs limitation our layers never hit); on that path test that case only.
        if (path === 'wasm' && (c.b.length > 1 || c.b[0] !== c.w[c.w.length - 1])) continue;
        for (const activation of ['linear', 'relu', 'sigmoid', 'elu', 'leakyrelu', 'relu6'] as const) {
          tf.tidy(() => {
            const x = rand(c.x);
            const w = rand(c.w);
            const b = rand(c.b);
            const fused = tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation, leakyreluAlpha: 0.2 });
            const pre = tf.add(tf.matMul(x, w), b);
            const plain = { linear: pre, relu: tf.relu(pre), sigmoid: tf.sigmoid(pre), elu: tf.elu(pre), leakyrelu: tf.leakyRelu(pre, 0.2), relu6: tf.relu6(pre) }[activation];
            const diff = tf.max(tf.abs(tf.sub(fused, plain))).dataSync()[0];
            expect(diff, `${activation} ${JSON.stringify(c)}`).toBeLessThan(1e-5);
          });
        }
      }
    });
  });
}

describe('NaN propagation', () => {
  // The stock wasm fused kernel (XNNPACK) clamps NaN to 0 in relu; ours must not hide NaNs. (On pure
  // wasm the finiteness checks at the boundaries — MLP.predict, optimizerStep — are what catch them.)
  it('a NaN input stays NaN through the native fused relu kernel (never silently 0)', () => {
    for (const path of ['native'] as const) {
      if (!nativeAvailable) continue;
      installNativeGemm();
      const out = tf.tidy(() =>
        tf.fused.matMul({ a: tf.tensor2d([[NaN, 1]]), b: tf.tensor2d([[1, -1], [1, -1]]), bias: tf.tensor1d([0, 0]), activation: 'relu' }).dataSync(),
      );
      expect(Number.isNaN(out[0]) && Number.isNaN(out[1]), path).toBe(true);
    }
  });
});
