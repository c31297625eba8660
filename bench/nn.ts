/**
 * `npm run perf -- nn`: matmul GFLOP/s per path, and ms per Adam update of a 43-256-256-256-1 MLP and
 * a 3-member ensemble of it, at batch 256 and 512, for
 *   (a) stock tf.layers on pure wasm, (b) our layers on pure wasm, (c) our layers with native GEMM,
 * each with its speed-up over (a), all in one process.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../core/backend.js';
import { installNativeGemm, uninstallNativeGemm } from '../core/native-gemm.js';
import { layersUpdateBench, matmulGflops, mlpUpdateBench } from '../core/nn/mlp-bench-model.js';
import { fmt, table, timeIt } from './_timing.js';

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const budgetMs = quick ? 400 : 1500;
  const info = await initBackend({ backend: 'wasm' });
  if (info.backend !== 'wasm') throw new Error('bench nn compares wasm paths; it needs the wasm backend');
  const hasNative = info.nativeGemm.active;
  const t = (fn: () => void) => timeIt(fn, { budgetMs });
  const dims = [43, 256, 256, 256, 1];

  uninstallNativeGemm();
  const rows: (string | number)[][] = [['matmul', 'wasm GFLOP/s', 'native GFLOP/s']];
  for (const n of [256, 512]) {
    const w = matmulGflops(n, t);
    let nat = NaN;
    if (hasNative) {
      installNativeGemm();
      nat = matmulGflops(n, t);
      uninstallNativeGemm();
    }
    rows.push([`${n}x${n}x${n}`, fmt(w, 1), hasNative ? fmt(nat, 1) : 'n/a']);
  }
  console.log(table(rows));
  console.log();

  const out: (string | number)[][] = [['network', 'batch', '(a) tf.layers wasm ms', '(b) ours wasm ms', 'b speed-up', '(c) ours native ms', 'c speed-up']];
  for (const members of [0, 3]) {
    for (const batch of [256, 512]) {
      const measure = (make: typeof mlpUpdateBench) => {
        const b = make(dims, batch, members);
        const ms = t(() => b.step());
        b.dispose();
        return ms;
      };
      uninstallNativeGemm();
      const a = measure(layersUpdateBench);
      const b = measure(mlpUpdateBench);
      let c = NaN;
      if (hasNative) {
        installNativeGemm();
        c = measure(mlpUpdateBench);
        uninstallNativeGemm();
      }
      out.push([
        members ? `${members}x ${dims.join('-')}` : dims.join('-'), batch, fmt(a), fmt(b), `${fmt(a / b, 1)}x`,
        hasNative ? fmt(c) : 'n/a', hasNative ? `${fmt(a / c, 1)}x` : 'n/a',
      ]);
      console.error(`  measured ${out[out.length - 1].slice(0, 2).join(' batch ')}`);
    }
  }
  console.log(table(out));
  console.log();
  if (hasNative) installNativeGemm();
  console.log(`tfjs ${tf.version.tfjs}, wasm SIMD ${info.wasmSimd}, threads ${info.wasmThreads}; native: ${info.nativeGemm.reason}`);
  console.log('targets: (b) >= 4x faster than (a); (c) >= 10x faster than (a)');
}
