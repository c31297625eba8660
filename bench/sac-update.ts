/**
 * `npm run perf -- sac-update`: ms per full SAC update (critic + actor + temperature + target) with
 * Meta-World sizes (obs 39, act 4, 3x256 hidden) at batch 256 and 512, on the native GEMM path and on
 * pure wasm, each as a multiple of the FLOP-implied time at the plain-matmul rate measured in the
 * same run; and, when /usr/bin/python3 has torch, the same update in PyTorch (CPU, 1 thread) run in
 * the same invocation, with our time / PyTorch's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../core/backend.js';
import { installNativeGemm, uninstallNativeGemm } from '../core/native-gemm.js';
import { matmulGflops } from '../core/nn/mlp-bench-model.js';
import { Rng } from '../core/rng.js';
import { SAC } from '../agents/sac.js';
import { allocBatch } from '../agents/replay-buffer.js';
import { fmt, table, timeIt } from './_timing.js';

const OBS = 39;
const ACT = 4;
const H = [256, 256, 256];

/** Matmul FLOPs of one SAC update per sample (forward = 2*params; backward = 2x forward, minus dx of the first layer). */
function sacFlopsPerSample(): number {
  const mm = (dims: number[]) => dims.slice(0, -1).reduce((s, d, i) => s + d * dims[i + 1], 0);
  const actor = mm([OBS, ...H, 2 * ACT]);
  const critic = 2 * mm([OBS + ACT, ...H, 1]);
  const firstActor = OBS * H[0];
  const firstCritic = 2 * (OBS + ACT) * H[0];
  const fwd = (p: number) => 2 * p;
  const bwd = (p: number, first: number) => 2 * (2 * p - first);
  const target = fwd(actor) + fwd(critic);
  const criticUpdate = fwd(critic) + bwd(critic, firstCritic);
  // actor loss: actor fwd/bwd, critic fwd and a backward that needs dx everywhere (our layers also form dW)
  const actorUpdate = fwd(actor) + bwd(actor, firstActor) + fwd(critic) + bwd(critic, 0);
  return target + criticUpdate + actorUpdate;
}

function torchTimes(budget: number): Record<string, number> | null {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return null;
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  // Debian's torch uses the libblas alternative; its OpenMP OpenBLAS honours torch's 1-thread setting,
  // and the CPU must be named for OpenBLAS 0.3.21 on newer CPUs (see core/native-gemm.ts).
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  const omp = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
  if (existsSync(join(omp, 'libblas.so.3'))) env.LD_LIBRARY_PATH = omp;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'sac_update_torch.py');
  const r = spawnSync(py, [script, String(budget)], { encoding: 'utf8', env, timeout: 300_000 });
  if (r.status !== 0) {
    console.error(`PyTorch comparison failed: ${r.stderr.slice(-500)}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function timeUpdate(batch: number, budgetMs: number): number {
  const sac = new SAC(OBS, ACT, {}, 0);
  const rng = new Rng(1);
  const b = allocBatch(batch, OBS, ACT);
  rng.fillNormal(b.obs);
  rng.fillNormal(b.nextObs);
  rng.fillUniform(b.actions, -1, 1);
  rng.fillNormal(b.rewards);
  let step = 0;
  const ms = timeIt(() => sac.update(b, step++), { budgetMs, warmup: 5 });
  sac.dispose();
  return ms;
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const budgetMs = quick ? 600 : 2000;
  const info = await initBackend({ backend: 'wasm' });
  const flops = sacFlopsPerSample();
  const t = (fn: () => void) => timeIt(fn, { budgetMs: 600 });
  const rows: (string | number)[][] = [['path', 'batch', 'ms/update', 'GFLOP/update', 'matmul GFLOP/s', 'FLOP-implied ms', 'x FLOP-implied', 'x PyTorch']];
  const ours: Record<string, Record<number, number>> = {};
  const paths: ('native' | 'wasm')[] = info.nativeGemm.active ? ['native', 'wasm'] : ['wasm'];
  const rate: Record<string, number> = {};
  for (const path of paths) {
    if (path === 'native') installNativeGemm();
    else uninstallNativeGemm();
    rate[path] = matmulGflops(512, t);
    ours[path] = {};
    for (const batch of [256, 512]) ours[path][batch] = timeUpdate(batch, budgetMs);
  }
  if (info.nativeGemm.active) installNativeGemm();
  const torch = torchTimes(budgetMs / 1000);
  for (const path of paths) {
    for (const batch of [256, 512]) {
      const gflop = (flops * batch) / 1e9;
      const implied = (gflop / rate[path]) * 1000;
      const ms = ours[path][batch];
      rows.push([
        path, batch, fmt(ms), fmt(gflop, 3), fmt(rate[path], 1), fmt(implied), `${fmt(ms / implied)}x`,
        torch ? `${fmt(ms / torch[String(batch)])}x` : 'n/a',
      ]);
    }
  }
  console.log(table(rows));
  if (torch) console.log(`PyTorch ${torch.torch} CPU, 1 thread: ${fmt(torch['256'])} ms (batch 256), ${fmt(torch['512'])} ms (batch 512)`);
  else console.log('PyTorch comparison skipped: /usr/bin/python3 has no torch (Debian: apt-get install python3-torch libopenblas0-openmp)');
  console.log('targets: native <= 1.5x PyTorch; pure wasm within 1.5x of its FLOP-implied time');
}
