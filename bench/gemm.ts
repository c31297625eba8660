/**
 * `npm run perf -- gemm [--quick] [--threads N]`: where the native matmul path loses time against the
 * same OpenBLAS called directly from C, measured side by side in this process: sgemm from C on the
 * addon's own aligned buffers; the native kernel through tfjs (tensor allocation + dispatch + sgemm);
 * the same with the result read back to JS (what a dataSync costs); and the transposed forms backprop
 * uses. Rounds alternate between the paths so load changes hit all of them alike.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../core/backend.js';
import { nativeSgemmMs, setBlasThreads } from '../core/native-gemm.js';
import { fmt, table, timeIt } from './_timing.js';

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const threads = arg(args, '--threads', 1);
  const info = await initBackend({ backend: 'wasm' });
  if (!info.nativeGemm.active) {
    console.log(`native GEMM is off (${info.nativeGemm.reason}); nothing to compare`);
    return;
  }
  setBlasThreads(threads);
  const budgetMs = quick ? 300 : 800;
  const rounds = quick ? 2 : 3;
  const shapes: [number, number, number, boolean, boolean][] = [
    [512, 512, 512, false, false],
    [512, 256, 256, false, false],
    [256, 256, 256, false, false],
    [256, 256, 512, true, false], // dW = x^T g at batch 512
    [512, 256, 256, false, true], // dx = g W^T
  ];
  const rows: (string | number)[][] = [['M x N x K (transA, transB)', 'C sgemm GFLOP/s', 'tfjs native GFLOP/s', 'ratio', '+ readback GFLOP/s', 'ratio']];
  for (const [M, N, K, ta, tb] of shapes) {
    const flop = 2 * M * N * K;
    const a = tf.randomNormal(ta ? [K, M] : [M, K], 0, 1, 'float32', 1);
    const b = tf.randomNormal(tb ? [N, K] : [K, N], 0, 1, 'float32', 2);
    const best = { c: Infinity, tfjs: Infinity, read: Infinity };
    for (let r = 0; r < rounds; r++) {
      const iters = Math.max(5, Math.round(budgetMs / Math.max(0.05, (flop / 100e9) * 1000)));
      best.c = Math.min(best.c, nativeSgemmMs(M, N, K, iters, ta, tb) ?? NaN);
      best.tfjs = Math.min(best.tfjs, timeIt(() => tf.matMul(a, b, ta, tb).dispose(), { budgetMs }));
      best.read = Math.min(best.read, timeIt(() => tf.tidy(() => { tf.matMul(a, b, ta, tb).dataSync(); }), { budgetMs }));
    }
    a.dispose();
    b.dispose();
    const g = (ms: number) => flop / (ms * 1e6);
    rows.push([
      `${M}x${N}x${K} (${ta}, ${tb})`, fmt(g(best.c), 1), fmt(g(best.tfjs), 1), fmt(g(best.tfjs) / g(best.c)),
      fmt(g(best.read), 1), fmt(g(best.read) / g(best.c)),
    ]);
  }
  console.log(table(rows));
  console.log(`best of ${rounds} alternating rounds; OpenBLAS ${info.nativeGemm.blasCore}, ${threads} thread(s); target: tfjs native >= 0.9x C`);
}
