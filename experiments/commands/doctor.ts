/**
 * `pbrl doctor`: what this machine will run on — tensor backend and why, wasm features, native GEMM,
 * library versions, CPUs — and a ~2 s micro-benchmark so a slow path is obvious before a long run.
 */
import type { Command } from 'commander';
import os from 'node:os';
import { initBackend } from '../../core/backend.js';
import { matmulGflops, mlpUpdateBench } from '../../core/nn/mlp-bench-model.js';
import { nativeSgemmMs } from '../../core/native-gemm.js';
import { versions } from '../versions.js';

function timeFor(fn: () => void, budgetMs: number): number {
  fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budgetMs || n < 3) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('print the active tensor backend, native GEMM status, library versions and a 2-second speed check')
    .option('--no-bench', 'skip the micro-benchmark')
    .option('--json', 'print one JSON object instead of text')
    .action(async (opts: { bench: boolean; json?: boolean }) => {
      const info = await initBackend();
      const report: Record<string, unknown> = {
        backend: info.backend,
        reason: info.reason,
        wasmSimd: info.wasmSimd,
        wasmThreads: info.wasmThreads,
        nativeGemm: info.nativeGemm,
        versions: versions(),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        platform: `${process.platform}-${process.arch}`,
      };
      if (opts.bench) {
        const gflops = matmulGflops(256, (fn) => timeFor(fn, 500));
        const results: Record<string, number> = { matmulGflops256: Number(gflops.toFixed(1)) };
        if (info.nativeGemm.active) {
          // The same product through OpenBLAS from C: the native path should be close to it.
          const ms = nativeSgemmMs(256, 256, 256, 200);
          if (ms !== null) results.cSgemmGflops256 = Number(((2 * 256 ** 3) / (ms * 1e6)).toFixed(1));
        }
        for (const batch of [256]) {
          const b = mlpUpdateBench([43, 256, 256, 256, 1], batch);
          results[`mlpUpdateMs_b${batch}`] = Number(timeFor(() => b.step(), 700).toFixed(2));
          b.dispose();
          const e = mlpUpdateBench([43, 256, 256, 256, 1], batch, 3);
          results[`ensemble3UpdateMs_b${batch}`] = Number(timeFor(() => e.step(), 700).toFixed(2));
          e.dispose();
        }
        report.bench = results;
      }
      if (opts.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      const v = report.versions as Record<string, string | null>;
      const lines = [
        `backend                        ${info.backend} (${info.reason})`,
        info.backend === 'wasm' ? `wasm                           SIMD ${info.wasmSimd ? 'on' : 'off'}, threads ${info.wasmThreads ? 'on' : 'off'}` : null,
        `native GEMM                    ${info.nativeGemm.active ? 'live' : 'off'}: ${info.nativeGemm.reason}` +
          (info.nativeGemm.active ? ` [OpenBLAS core ${info.nativeGemm.blasCore}, ${info.nativeGemm.blasThreads} thread(s)]` : ''),
        info.nativeGemm.active ? `native kernels                 ${(info.nativeGemm.kernels ?? []).join(', ')}` : null,
        info.nativeGemm.active ? `fused MLP                      ${info.nativeGemm.fusedMlp ? 'on' : 'off'}${process.env.PBRL_FUSED_MLP === '0' ? ' (PBRL_FUSED_MLP=0)' : ''}` : null,
        info.nativeGemm.active ? `native SAC update              ${info.nativeGemm.sacUpdate ? 'on' : 'off'}${process.env.PBRL_NATIVE_SAC === '0' ? ' (PBRL_NATIVE_SAC=0)' : ''}` : null,
        `cpus                           ${report.cpus} x ${report.cpuModel}`,
        `node                           ${v.node} (${report.platform})`,
        ...Object.entries(v)
          .filter(([k]) => k !== 'node')
          .map(([k, ver]) => `${k.padEnd(30)} ${ver ?? "not installed"}`),
      ].filter(Boolean);
      console.log(lines.join('\n'));
      if (report.bench) {
        const b = report.bench as Record<string, number>;
        const c = b.cSgemmGflops256 !== undefined ? ` (OpenBLAS from C: ${b.cSgemmGflops256})` : '';
        console.log(`speed check                    matmul 256^3: ${b.matmulGflops256} GFLOP/s${c}; Adam update of a 43-256-256-256-1 MLP at batch 256: ` +
          `${b.mlpUpdateMs_b256} ms (3-member ensemble: ${b.ensemble3UpdateMs_b256} ms)`);
      }
      if (info.backend === 'wasm' && !info.nativeGemm.active && process.env.PBRL_NATIVE_GEMM !== '0') {
        console.log('hint                           apt-get install libopenblas-dev && npm run build:native  (3-4x faster training)');
      }
    });
}
