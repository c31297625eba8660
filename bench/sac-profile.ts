/**
 * `npm run perf -- sac-profile`: where one SAC update's time goes, for the quick config (2x128, batch
 * 256) and the paper config (3x256, batch 512), with the fused whole-network kernels and without:
 * tfjs kernel calls per update, the share of kernel time in GEMM-carrying kernels, and ms of process
 * CPU time per update (CPU time rather than wall time: on a shared machine it moves less with load).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../core/backend.js';
import { setFusedMlp } from '../core/nn/fused-mlp.js';
import { Rng } from '../core/rng.js';
import { SAC } from '../agents/sac.js';
import { allocBatch } from '../agents/replay-buffer.js';
import { fmt, table } from './_timing.js';

const GEMM_KERNELS = new Set(['BatchMatMul', '_FusedMatMul', 'PbrlMlpForward', 'PbrlMlpBackward']);

function cpuMsPer(fn: () => void, n: number): number {
  for (let i = 0; i < 10; i++) fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

export async function main(args: string[]): Promise<void> {
  const n = args.includes('--quick') ? 10 : 40;
  const info = await initBackend({ backend: 'wasm' });
  // JIT warm-up of both paths first, or the first path measured pays for V8's compiles.
  for (const fused of info.nativeGemm.active ? [true, false] : [false]) {
    setFusedMlp(fused);
    const sac = new SAC(39, 4, { hiddenDims: [64, 64] }, 0);
    const b = allocBatch(64, 39, 4);
    for (let i = 0; i < 30; i++) sac.update(b, i);
    sac.dispose();
  }
  const rows: (string | number)[][] = [['config', 'batch', 'fused', 'kernels/update', 'GEMM kernels', 'GEMM share of kernel time', 'top other kernels', 'CPU ms/update']];
  for (const [hidden, batch] of [[[128, 128], 256], [[256, 256, 256], 512]] as [number[], number][]) {
    for (const fused of info.nativeGemm.active ? [true, false] : [false]) {
      setFusedMlp(fused);
      const sac = new SAC(39, 4, { hiddenDims: hidden }, 0);
      const rng = new Rng(1);
      const b = allocBatch(batch, 39, 4);
      rng.fillNormal(b.obs);
      rng.fillNormal(b.nextObs);
      rng.fillUniform(b.actions, -1, 1);
      rng.fillNormal(b.rewards);
      let step = 0;
      const cpu = cpuMsPer(() => sac.update(b, step++), n);
      const prof = await tf.profile(() => { sac.update(b, step++); });
      const by = new Map<string, number>();
      let gemmMs = 0;
      let allMs = 0;
      let gemmCalls = 0;
      for (const k of prof.kernels) {
        const ms = Number(k.kernelTimeMs) || 0;
        allMs += ms;
        if (GEMM_KERNELS.has(k.name)) {
          gemmMs += ms;
          gemmCalls++;
        } else by.set(k.name, (by.get(k.name) ?? 0) + 1);
      }
      const top = [...by.entries()].sort((x, y) => y[1] - x[1]).slice(0, 4).map(([k, c]) => `${k} x${c}`).join(', ');
      rows.push([hidden.join('x'), batch, fused ? 'yes' : 'no', prof.kernels.length, gemmCalls, `${fmt((100 * gemmMs) / allMs, 0)}%`, top, fmt(cpu)]);
      sac.dispose();
    }
  }
  setFusedMlp(true);
  console.log(table(rows));
  console.log('kernel times come from tf.profile (one update, includes its overhead); CPU ms from process.cpuUsage over the timed updates');
}
