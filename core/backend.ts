/**
 * Tensor backend selection (design.md, "Tensor backends").
 *
 * Order when nothing is forced: tfjs-node-gpu, then tfjs-node, when installed (they are optional: their
 * install step downloads libtensorflow, which fails offline); otherwise wasm with the native GEMM
 * kernels when the addon is built; `cpu` only if wasm cannot start. PBRL_BACKEND forces one and fails
 * loudly if it is unavailable; PBRL_NATIVE_GEMM=0 keeps wasm pure.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import os from 'node:os';
import { activeNativeKernels, installNativeGemm, nativeGemmActive, nativeInfo, nativeLoadError, nativeMlpKernelsActive, uninstallNativeGemm, nativeSacUpdateActive } from './native-gemm.js';
import { fusedMlpEnabled } from './nn/fused-mlp.js';

export const BACKEND_NAMES = ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  backend: BackendName;
  reason: string;
  nativeGemm: {
    active: boolean; reason: string; blasThreads?: number; blasConfig?: string; blasCore?: string;
    /** Native kernels registered with tfjs. */
    kernels?: string[];
    /** Whole-network MLP kernels in use (off without them in the addon, or with PBRL_FUSED_MLP=0). */
    fusedMlp?: boolean;
    /** SAC.update as one native call (off without it in the addon, or with PBRL_NATIVE_SAC=0). */
    sacUpdate?: boolean;
  };
  wasmSimd?: boolean;
  wasmThreads?: boolean;
  tfjsVersion: string;
}

const NODE_PACKAGES: Record<'tensorflow' | 'tensorflow-gpu', string> = {
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
};

const require = createRequire(import.meta.url);

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

export interface BackendOptions {
  backend?: string;
  nativeGemm?: boolean;
  blasThreads?: number;
}

let current: BackendInfo | null = null;

/**
 * The emscripten glue of the wasm backend installs process-wide uncaughtException/unhandledRejection
 * handlers that rethrow, which makes Node print the whole minified module as the "source line" of any
 * later crash. Drop the handlers it adds so errors print as ordinary stack traces.
 */
async function withoutWasmProcessHandlers<T>(fn: () => Promise<T>): Promise<T> {
  const events = ['uncaughtException', 'unhandledRejection'];
  const proc = process as unknown as NodeJS.EventEmitter;
  const before = events.map((e) => new Set(proc.listeners(e)));
  try {
    return await fn();
  } finally {
    events.forEach((e, i) => {
      for (const l of proc.listeners(e)) if (!before[i].has(l)) proc.removeListener(e, l as (...a: unknown[]) => void);
    });
  }
}

/**
 * PBRL_BLAS_THREADS: a count >= 1, or `auto` for every core this process may use (for a run that has
 * the machine to itself; the bench runner's cells set 1, one cell per core). Unset means 1.
 */
export function parseBlasThreads(v: string | undefined): number {
  if (v === undefined || v === '') return 1;
  if (v === 'auto') return Math.max(1, os.availableParallelism());
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`PBRL_BLAS_THREADS must be an integer >= 1 or auto, got ${v}`);
  return n;
}

/**
 * OpenBLAS threads for one training run that has the machine to itself, when PBRL_BLAS_THREADS is
 * unset: every core for networks 256 wide or wider, one below. Measured whole runs (`npm run perf --
 * train-speed`, 2 cores): 3x256 / batch 512 SAC ran 1.31x the env steps/s on two threads, while
 * 2x128 / batch 256 ran 0.90x (its GEMMs are too small to split). Results were bit-identical on one
 * and two threads (OpenBLAS splits sgemm over rows and columns, not over the inner dimension).
 * `pbrl bench` cells always get 1 (one cell per core); several runs started by hand at once should
 * set PBRL_BLAS_THREADS=1 too.
 */
export function blasThreadsForRun(widestLayer: number, env: string | undefined = process.env.PBRL_BLAS_THREADS): number {
  if (env !== undefined && env !== '') return parseBlasThreads(env);
  return widestLayer >= 256 ? Math.max(1, os.availableParallelism()) : 1;
}

/** Parse PBRL_BACKEND / options; unknown names are an error listing the valid ones. */
export function resolveBackendRequest(requested: string | undefined): BackendName | undefined {
  if (requested === undefined || requested === '' || requested === 'auto') return undefined;
  if (!(BACKEND_NAMES as readonly string[]).includes(requested)) {
    throw new Error(`unknown tensor backend "${requested}" (PBRL_BACKEND): expected one of ${BACKEND_NAMES.join(', ')}, or auto`);
  }
  return requested as BackendName;
}

async function activateNode(name: 'tensorflow' | 'tensorflow-gpu'): Promise<void> {
  const pkg = NODE_PACKAGES[name];
  if (!isInstalled(pkg)) {
    throw new Error(
      `tensor backend "${name}" needs ${pkg}, which is not installed. Install it with \`npm install ${pkg}@${tf.version_core}\`` +
        ` (its install downloads libtensorflow, so it needs internet${name === 'tensorflow-gpu' ? ' and CUDA' : ''}), or use PBRL_BACKEND=wasm`,
    );
  }
  await import(pkg);
  if (!(await tf.setBackend(name))) throw new Error(`${pkg} is installed but the "${name}" backend failed to initialise`);
}

/**
 * Select and initialise the tensor backend once per process. Later calls return the same info unless
 * `force` asks for a different one (tests and benchmarks switch between paths).
 */
export async function initBackend(opts: BackendOptions = {}, force = false): Promise<BackendInfo> {
  if (current && !force) return current;
  const requested = resolveBackendRequest(opts.backend ?? process.env.PBRL_BACKEND);
  const nativeWanted = opts.nativeGemm ?? process.env.PBRL_NATIVE_GEMM !== '0';
  const blasThreads = opts.blasThreads ?? parseBlasThreads(process.env.PBRL_BLAS_THREADS);

  let backend: BackendName;
  let reason: string;
  if (requested === 'tensorflow' || requested === 'tensorflow-gpu') {
    await activateNode(requested);
    backend = requested;
    reason = 'forced by PBRL_BACKEND';
  } else if (requested === 'cpu') {
    await tf.setBackend('cpu');
    backend = 'cpu';
    reason = 'forced by PBRL_BACKEND';
  } else if (!requested && isInstalled(NODE_PACKAGES['tensorflow-gpu'])) {
    await activateNode('tensorflow-gpu');
    backend = 'tensorflow-gpu';
    reason = '@tensorflow/tfjs-node-gpu is installed';
  } else if (!requested && isInstalled(NODE_PACKAGES.tensorflow)) {
    await activateNode('tensorflow');
    backend = 'tensorflow';
    reason = '@tensorflow/tfjs-node is installed';
  } else {
    const ok = await withoutWasmProcessHandlers(() => tf.setBackend('wasm').catch(() => false));
    if (ok) {
      backend = 'wasm';
      reason = requested ? 'forced by PBRL_BACKEND' : 'default (no tfjs-node package installed)';
    } else if (requested === 'wasm') {
      throw new Error('PBRL_BACKEND=wasm but the wasm backend failed to initialise');
    } else {
      await tf.setBackend('cpu');
      backend = 'cpu';
      reason = 'wasm failed to initialise; plain JS fallback';
    }
  }

  let native: BackendInfo['nativeGemm'];
  if (backend !== 'wasm') {
    native = { active: false, reason: `not used on the ${backend} backend` };
  } else if (!nativeWanted) {
    uninstallNativeGemm();
    native = { active: false, reason: 'turned off (PBRL_NATIVE_GEMM=0)' };
  } else if (installNativeGemm(blasThreads)) {
    const info = nativeInfo();
    native = {
      active: nativeGemmActive(), reason: 'OpenBLAS sgemm on the wasm heap', blasThreads: info?.threads, blasConfig: info?.config, blasCore: info?.core,
      kernels: activeNativeKernels(), fusedMlp: nativeMlpKernelsActive() && fusedMlpEnabled(), sacUpdate: nativeSacUpdateActive(),
    };
  } else {
    native = { active: false, reason: nativeLoadError() ?? 'addon unavailable' };
  }

  current = {
    backend,
    reason,
    nativeGemm: native,
    tfjsVersion: tf.version.tfjs,
    ...(backend === 'wasm'
      ? {
          wasmSimd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
          wasmThreads: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
        }
      : {}),
  };
  return current;
}

export function backendInfo(): BackendInfo | null {
  return current;
}

export { tf };
