/**
 * `npm run perf -- sac-update [--quick] [--threads 1,2] [--rounds N] [--with-wasm]`: ms per full SAC
 * update (critic + actor + temperature + target) at obs 39 / act 4 for the quick config (2x128, batch
 * 256) and the paper config (3x256, batch 256 and 512), on
 *   native     the whole update as one native call (native/sac.c, agents/sac-native.ts; the default)
 *   fused      native GEMM with whole-network kernels (core/nn/fused-mlp.ts), the rest as tfjs ops
 *   per-layer  native GEMM, one tfjs kernel per layer operation (the path before the fused kernels)
 *   wasm       pure wasm (with --with-wasm; slow)
 * each beside the FLOP bound at the rate of OpenBLAS sgemm called from C in this process
 * ([batch x hidden x hidden]), and PyTorch (CPU) running the same update with the same thread count,
 * when a python with torch is found. Rounds alternate all paths and PyTorch; each cell is the best
 * round, since this machine is shared and load comes and goes.
 */
import { initBackend } from '../core/backend.js';
import { installNativeGemm, nativeSacUpdateActive, nativeSgemmMs, setBlasThreads, setNativeSacUpdate, uninstallNativeGemm } from '../core/native-gemm.js';
import { setFusedMlp } from '../core/nn/fused-mlp.js';
import { Rng } from '../core/rng.js';
import { SAC } from '../agents/sac.js';
import { allocBatch } from '../agents/replay-buffer.js';
import { fmt, table, timeIt } from './_timing.js';
import { runTorchScript, torchPython, TORCH_SKIPPED } from './_torch.js';

const OBS = 39;
const ACT = 4;

interface Config { name: string; hidden: number[]; batch: number }
const CONFIGS: Config[] = [
  { name: 'quick 2x128', hidden: [128, 128], batch: 256 },
  { name: 'paper 3x256', hidden: [256, 256, 256], batch: 256 },
  { name: 'paper 3x256', hidden: [256, 256, 256], batch: 512 },
];

/** Matmul FLOPs of one SAC update per sample (forward = 2*params; backward = 2x forward, minus dx of the first layer). */
export function sacFlopsPerSample(H: number[]): number {
  const mm = (dims: number[]) => dims.slice(0, -1).reduce((s, d, i) => s + d * dims[i + 1], 0);
  const actor = mm([OBS, ...H, 2 * ACT]);
  const critic = 2 * mm([OBS + ACT, ...H, 1]);
  const firstActor = OBS * H[0];
  const firstCritic = 2 * (OBS + ACT) * H[0];
  const fwd = (p: number) => 2 * p;
  const bwd = (p: number, first: number) => 2 * (2 * p - first);
  const target = fwd(actor) + fwd(critic);
  const criticUpdate = fwd(critic) + bwd(critic, firstCritic);
  // actor loss: actor fwd/bwd, then the critic forward and a backward for dx only (no weight grads)
  const actorUpdate = fwd(actor) + bwd(actor, firstActor) + fwd(critic) + fwd(critic);
  return target + criticUpdate + actorUpdate;
}

/** Wall ms and process CPU ms per update (CPU time moves less with other processes' load). */
function timeUpdate(c: Config, budgetMs: number): { wall: number; cpu: number } {
  const sac = new SAC(OBS, ACT, { hiddenDims: c.hidden }, 0);
  const rng = new Rng(1);
  const b = allocBatch(c.batch, OBS, ACT);
  rng.fillNormal(b.obs);
  rng.fillNormal(b.nextObs);
  rng.fillUniform(b.actions, -1, 1);
  rng.fillNormal(b.rewards);
  let step = 0;
  for (let i = 0; i < 5; i++) sac.update(b, step++);
  const c0 = process.cpuUsage();
  const n0 = step;
  const wall = timeIt(() => sac.update(b, step++), { budgetMs, warmup: 0 });
  const cu = process.cpuUsage(c0);
  sac.dispose();
  return { wall, cpu: (cu.user + cu.system) / 1000 / (step - n0) };
}

function listArg(args: string[], name: string, dflt: number[]): number[] {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1].split(',').map(Number) : dflt;
}

type Path = 'native' | 'fused' | 'per-layer' | 'wasm';

function usePath(p: Path): void {
  if (p === 'wasm') uninstallNativeGemm();
  else installNativeGemm();
  setFusedMlp(p === 'fused' || p === 'native');
  setNativeSacUpdate(p === 'native');
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const budgetMs = quick ? 500 : 1500;
  const rounds = listArg(args, '--rounds', [quick ? 1 : 2])[0];
  const threadCounts = listArg(args, '--threads', [1]);
  const info = await initBackend({ backend: 'wasm' });
  if (!info.nativeGemm.active) console.log(`native GEMM off (${info.nativeGemm.reason}): pure wasm only`);
  const paths: Path[] = info.nativeGemm.active ? ['fused', 'per-layer'] : ['wasm'];
  if (info.nativeGemm.active && nativeSacUpdateActive()) paths.unshift('native');
  if (info.nativeGemm.active && args.includes('--with-wasm')) paths.push('wasm');
  const hasTorch = torchPython() !== null;
  const key = (c: Config) => `${c.hidden.join('x')}@${c.batch}`;
  const best = new Map<string, number>();
  const keep = (k: string, v: number) => best.set(k, Math.min(best.get(k) ?? Infinity, v));
  for (let r = 0; r < rounds; r++) {
    for (const t of threadCounts) {
      if (info.nativeGemm.active) setBlasThreads(t);
      for (const c of CONFIGS) {
        for (const p of paths) {
          if (p === 'wasm' && t > 1) continue; // pure wasm is single-threaded here
          usePath(p);
          const m = timeUpdate(c, budgetMs);
          keep(`${key(c)}|${t}|${p}`, m.wall);
          keep(`${key(c)}|${t}|${p}|cpu`, m.cpu);
        }
        if (info.nativeGemm.active) {
          const h = c.hidden[0];
          const ms = nativeSgemmMs(c.batch, h, h, Math.max(20, Math.round(5e10 / (2 * c.batch * h * h))));
          if (ms !== null) keep(`${key(c)}|${t}|C`, ms);
        }
        console.error(`  round ${r + 1}/${rounds}, ${t} thread(s): ${c.name} batch ${c.batch} measured`);
      }
      if (hasTorch) {
        for (const hidden of [...new Set(CONFIGS.map((c) => c.hidden.join(',')))]) {
          const batches = CONFIGS.filter((c) => c.hidden.join(',') === hidden).map((c) => c.batch);
          const res = runTorchScript('sac_update_torch.py', [String(budgetMs / 1000), hidden, batches.join(','), String(t)], t);
          if (!res) continue;
          for (const b of batches) keep(`${hidden.split(',').join('x')}@${b}|${t}|torch`, Number(res[String(b)]));
          torchVersion = String(res.torch);
        }
      }
    }
  }
  usePath(paths[0]);
  setBlasThreads(threadCounts[0]);

  const rows: (string | number)[][] = [[
    'config', 'batch', 'threads', 'path', 'ms/update', 'CPU ms', 'updates/s', 'per-layer / this', 'fused / this', 'C sgemm GFLOP/s', 'FLOP bound ms', 'x bound', 'PyTorch ms', 'x PyTorch',
  ]];
  for (const c of CONFIGS) {
    for (const t of threadCounts) {
      const cms = best.get(`${key(c)}|${t}|C`);
      const h = c.hidden[0];
      const cRate = cms !== undefined ? (2 * c.batch * h * h) / (cms * 1e6) : NaN;
      const bound = ((sacFlopsPerSample(c.hidden) * c.batch) / 1e9 / cRate) * 1000;
      const torch = best.get(`${key(c)}|${t}|torch`);
      const perLayer = best.get(`${key(c)}|${t}|per-layer`);
      const fused = best.get(`${key(c)}|${t}|fused`);
      for (const p of paths) {
        const ms = best.get(`${key(c)}|${t}|${p}`);
        if (ms === undefined) continue;
        rows.push([
          c.name, c.batch, t, p, fmt(ms), fmt(best.get(`${key(c)}|${t}|${p}|cpu`)!), fmt(1000 / ms, 0), perLayer !== undefined ? `${fmt(perLayer / ms)}x` : 'n/a',
          fused !== undefined ? `${fmt(fused / ms)}x` : 'n/a',
          fmt(cRate, 1), fmt(bound), `${fmt(ms / bound)}x`, torch !== undefined ? fmt(torch) : 'n/a',
          torch !== undefined ? `${fmt(ms / torch)}x` : 'n/a',
        ]);
      }
    }
  }
  console.log(table(rows));
  console.log(`best of ${rounds} round(s) per cell; CPU ms = process CPU time per update (all threads); FLOP bound = matmul FLOPs / (C sgemm rate at [batch x hidden x hidden], same thread count)`);
  console.log(hasTorch ? `PyTorch ${torchVersion} (${torchPython()!.python}), same thread count as the row` : TORCH_SKIPPED);
  console.log('targets: the default path (native) <= 0.65x PyTorch and <= 1.25x the FLOP bound (paper config); quick config >= 3x fewer ms than fused (the path before the whole-update kernel)');
}

let torchVersion = '?';
