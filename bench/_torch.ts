/**
 * Finds a Python with PyTorch for the side-by-side comparisons (the perf benches run PyTorch when it
 * is importable and say they skipped it otherwise; CI does not install it). Tried in order:
 * PBRL_PYTHON, `python3` on PATH, Debian's /usr/bin/python3.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TorchPython {
  python: string;
  env: NodeJS.ProcessEnv;
}

let found: TorchPython | null | undefined;

export function torchPython(): TorchPython | null {
  if (found !== undefined) return found;
  found = null;
  for (const py of [process.env.PBRL_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py) continue;
    const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) continue;
    const env: NodeJS.ProcessEnv = { ...process.env };
    // Debian's torch uses the libblas alternative; its OpenMP OpenBLAS honours torch's thread setting.
    const omp = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
    if (py === '/usr/bin/python3' && existsSync(join(omp, 'libblas.so.3'))) env.LD_LIBRARY_PATH = omp;
    found = { python: py, env };
    break;
  }
  return found;
}

/** Runs bench/<script> with args and `threads` CPU threads; the last stdout line parsed as JSON, or null. */
export function runTorchScript(script: string, args: string[], threads: number): Record<string, number | string> | null {
  const t = torchPython();
  if (!t) return null;
  const env = { ...t.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const path = join(dirname(fileURLToPath(import.meta.url)), script);
  const r = spawnSync(t.python, [path, ...args], { encoding: 'utf8', env, timeout: 600_000 });
  if (r.status !== 0) {
    console.error(`PyTorch comparison (${script}) failed: ${r.stderr.slice(-500)}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export const TORCH_SKIPPED = 'PyTorch comparison skipped: no python with torch (PBRL_PYTHON, python3 on PATH, /usr/bin/python3); `pip install torch` enables it';
