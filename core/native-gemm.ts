/**
 * Replaces the tfjs wasm backend's BatchMatMul and _FusedMatMul kernels with OpenBLAS sgemm running
 * directly on the wasm heap (native/gemm.c). Shapes the native path does not cover (multi-axis batch
 * broadcasting, prelu, odd bias shapes, non-float inputs) go to the original wasm kernels, so
 * correctness never depends on the addon.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface NativeAddon {
  gemm(
    heap: ArrayBuffer, transA: boolean, transB: boolean, M: number, N: number, K: number, batch: number,
    aOff: number, aStride: number, bOff: number, bStride: number, cOff: number,
    biasOff?: number, biasLen?: number, act?: number, alpha?: number, biasStride?: number,
  ): void;
  setThreads(n: number): void;
  adam(heap: ArrayBuffer, table: Float64Array, lr: number, beta1: number, beta2: number, eps: number, t: number): void;
  lerp(heap: ArrayBuffer, table: Float64Array, tau: number): void;
  actGrad(heap: ArrayBuffer, dyOff: number, yOff: number, outOff: number, n: number, act: number, alpha: number): void;
  /** vectorMath: tanh/exp/log1p of the SAC update run on glibc's libmvec (native/dense-ops.c). */
  info(): { config: string; threads: number; core: string; vectorMath?: boolean };
  /** Absent in addons built before the fused MLP kernels (callers fall back). */
  benchSgemm?(M: number, N: number, K: number, iters: number, transA?: boolean, transB?: boolean): number;
  mlpForward?(heap: ArrayBuffer, spec: Float64Array, offsets: Float64Array): void;
  mlpBackward?(heap: ArrayBuffer, spec: Float64Array, offsets: Float64Array, paramGrad: boolean): void;
  /** native/sac.c; absent in addons built before it. */
  sacUpdate?(
    heap: ArrayBuffer, spec: Float64Array, offsets: Float64Array, obs: Float32Array, act: Float32Array, nextObs: Float32Array,
    rew: Float32Array, done: Float32Array, epsTarget: Float32Array, epsActor: Float32Array, params: Float64Array, out: Float64Array,
  ): void;
}

/** The subset of the wasm backend's internals we touch; stable across tfjs 4.x. */
interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: object): { memoryOffset: number; shape: number[]; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

const ADDON_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'build', 'Release', 'pbrl_gemm.node');

let addon: NativeAddon | null = null;
let loadError: string | null = null;

/**
 * OpenBLAS picks its kernels from the CPU model; on CPUs newer than the library (or VMs that hide the
 * model) DYNAMIC_ARCH falls back to generic SSE3 kernels, 4-5x slower here. Choose from the CPU flags
 * instead, unless the user set OPENBLAS_CORETYPE. Must run before the library is loaded.
 */
function chooseOpenBlasCore(): void {
  if (process.env.OPENBLAS_CORETYPE || process.platform !== 'linux') return;
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return;
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  if (has('avx512f') && has('avx512bw') && has('avx512vl') && has('avx512dq')) process.env.OPENBLAS_CORETYPE = 'SkylakeX';
  else if (has('avx2') && has('fma')) process.env.OPENBLAS_CORETYPE = 'Haswell';
}

export function loadNativeAddon(): NativeAddon | null {
  if (addon || loadError) return addon;
  chooseOpenBlasCore();
  if (!existsSync(ADDON_PATH)) {
    loadError = 'addon not built (apt-get install libopenblas-dev && npm run build:native)';
    return null;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (e) {
    loadError = `addon failed to load: ${(e as Error).message}`;
  }
  return addon;
}

export function nativeLoadError(): string | null {
  return loadError;
}

const ACT_CODES: Record<string, number> = { linear: 0, relu: 1, relu6: 2, sigmoid: 3, elu: 4, leakyrelu: 5 };

type KernelArgs = { inputs: Record<string, tf.TensorInfo | undefined>; backend: unknown; attrs: Record<string, unknown> };
type KernelFunc = (args: KernelArgs) => tf.TensorInfo;

let installed = false;
const originals: Partial<Record<'BatchMatMul' | '_FusedMatMul', tf.KernelConfig>> = {};

function prod(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/** Broadcast of the batch (leading) dims, as numpy/tfjs define it; throws naming both shapes. */
function broadcastBatch(a: readonly number[], b: readonly number[], aFull: number[], bFull: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`matMul: batch dimensions of shapes [${aFull}] and [${bFull}] cannot be broadcast`);
    }
    out.push(Math.max(da, db));
  }
  return out;
}

interface Plan {
  M: number; N: number; K: number; batch: number; outShape: number[];
  aStride: number; bStride: number;
  /** For broadcasting over several batch axes: per output matrix, the a and b matrix indices. */
  pairs?: Int32Array;
}

/** Per output batch entry, which a and b matrices it multiplies (numpy broadcasting). */
function broadcastPairs(aBatch: readonly number[], bBatch: readonly number[], outBatch: number[]): Int32Array {
  const n = outBatch.length;
  const pa = [...new Array(n - aBatch.length).fill(1), ...aBatch];
  const pb = [...new Array(n - bBatch.length).fill(1), ...bBatch];
  const total = prod(outBatch);
  const pairs = new Int32Array(total * 2);
  const idx = new Array(n).fill(0);
  for (let t = 0; t < total; t++) {
    let rem = t;
    for (let d = n - 1; d >= 0; d--) {
      idx[d] = rem % outBatch[d];
      rem = Math.floor(rem / outBatch[d]);
    }
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < n; d++) {
      ia = ia * pa[d] + (pa[d] === 1 ? 0 : idx[d]);
      ib = ib * pb[d] + (pb[d] === 1 ? 0 : idx[d]);
    }
    pairs[2 * t] = ia;
    pairs[2 * t + 1] = ib;
  }
  return pairs;
}

/** Shapes for one (batched) matmul, or null where the native path does not apply. */
function plan(a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean): Plan | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) return null;
  const M = ta ? a.shape[ar - 1] : a.shape[ar - 2];
  const Ka = ta ? a.shape[ar - 2] : a.shape[ar - 1];
  const Kb = tb ? b.shape[br - 1] : b.shape[br - 2];
  const N = tb ? b.shape[br - 2] : b.shape[br - 1];
  if (Ka !== Kb) {
    throw new Error(`matMul: inner dimensions differ: [${a.shape}] x [${b.shape}] (transposeA=${ta}, transposeB=${tb})`);
  }
  const aBatchShape = a.shape.slice(0, -2);
  const bBatchShape = b.shape.slice(0, -2);
  const batchShape = broadcastBatch(aBatchShape, bBatchShape, a.shape, b.shape);
  const batchA = prod(aBatchShape);
  const batchB = prod(bBatchShape);
  const batch = prod(batchShape);
  const p: Plan = {
    M, N, K: Ka, batch, outShape: [...batchShape, M, N],
    aStride: batchA === 1 ? 0 : M * Ka * 4,
    bStride: batchB === 1 ? 0 : Ka * N * 4,
  };
  // Flat indexing is right when each operand is either full-batch or a single matrix; otherwise map
  // each output matrix to its operands (the stock wasm kernel gets this case wrong).
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) {
    p.pairs = broadcastPairs(aBatchShape, bBatchShape, batchShape);
  }
  return p;
}

function offsetOf(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('native gemm: tensor data not found on the wasm backend (disposed tensor?)');
  return d.memoryOffset;
}

function makeBatchMatMul(native: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const ta = Boolean(args.attrs.transposeA);
    const tb = Boolean(args.attrs.transposeB);
    const p = plan(a, b, ta, tb);
    if (!p) return fallback(args);
    const backend = args.backend as WasmBackendInternals;
    const out = backend.makeOutput(p.outShape, 'float32');
    if (p.batch * p.M * p.N === 0) return out;
    // Read the heap after makeOutput: an allocation may grow (and so replace) the wasm memory buffer.
    const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
    const [ao, bo, co] = [offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out)];
    if (p.pairs) {
      const [aMat, bMat, cMat] = [p.M * p.K * 4, p.K * p.N * 4, p.M * p.N * 4];
      for (let t = 0; t < p.batch; t++) {
        native.gemm(heap, ta, tb, p.M, p.N, p.K, 1, ao + p.pairs[2 * t] * aMat, 0, bo + p.pairs[2 * t + 1] * bMat, 0, co + t * cMat);
      }
      return out;
    }
    native.gemm(heap, ta, tb, p.M, p.N, p.K, p.batch, ao, p.aStride, bo, p.bStride, co);
    return out;
  };
}

function makeFusedMatMul(native: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const ta = Boolean(args.attrs.transposeA);
    const tb = Boolean(args.attrs.transposeB);
    const activation = String(args.attrs.activation ?? 'linear');
    const act = ACT_CODES[activation];
    if (act === undefined || preluActivationWeights) return fallback(args);
    const p = plan(a!, b!, ta, tb);
    if (!p || p.pairs) return fallback(args);
    // Bias: one value, one row of N shared by the batch, or one row per batch entry ([..., 1, N]).
    let biasLen = 0;
    let biasStride = 0;
    if (bias) {
      const size = prod(bias.shape);
      const last = bias.shape[bias.shape.length - 1] ?? 1;
      if (size === 1) biasLen = 1;
      else if (size === p.N && last === p.N) biasLen = p.N;
      else if (
        p.batch > 1 && size === p.batch * p.N && last === p.N && bias.shape.length >= 2 &&
        bias.shape[bias.shape.length - 2] === 1
      ) {
        biasLen = p.N;
        biasStride = p.N * 4;
      } else return fallback(args);
    }
    const backend = args.backend as WasmBackendInternals;
    const out = backend.makeOutput(p.outShape, 'float32');
    if (p.batch * p.M * p.N === 0) return out;
    native.gemm(
      backend.wasm.HEAPU8.buffer as ArrayBuffer, ta, tb, p.M, p.N, p.K, p.batch,
      offsetOf(backend, a!), p.aStride, offsetOf(backend, b!), p.bStride, offsetOf(backend, out),
      bias ? offsetOf(backend, bias) : -1, biasLen, act, Number(args.attrs.leakyreluAlpha ?? 0.2), biasStride,
    );
    return out;
  };
}

/** Swap in the native kernels on the wasm backend. Returns false (and changes nothing) without the addon. */
export function installNativeGemm(threads = 1): boolean {
  if (installed) return true;
  const native = loadNativeAddon();
  if (!native) return false;
  native.setThreads(threads);
  for (const name of ['BatchMatMul', '_FusedMatMul'] as const) {
    const orig = tf.getKernel(name, 'wasm');
    if (!orig) throw new Error(`native gemm: the wasm backend has no ${name} kernel to replace`);
    originals[name] = orig;
    const fallback = orig.kernelFunc as unknown as KernelFunc;
    const kernelFunc = name === 'BatchMatMul' ? makeBatchMatMul(native, fallback) : makeFusedMatMul(native, fallback);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  tf.registerKernel({ kernelName: ACT_GRAD_KERNEL, backendName: 'wasm', kernelFunc: makeActGrad(native) as unknown as tf.KernelFunc });
  if (native.mlpForward && native.mlpBackward) {
    tf.registerKernel({ kernelName: MLP_FORWARD_KERNEL, backendName: 'wasm', kernelFunc: makeMlpForward(native) as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: MLP_BACKWARD_KERNEL, backendName: 'wasm', kernelFunc: makeMlpBackward(native) as unknown as tf.KernelFunc });
    mlpKernels = true;
  }
  installed = true;
  return true;
}

/** Custom kernel: dy * f'(y) for an activation's output y (core/nn/dense.ts uses it in backprop). */
export const ACT_GRAD_KERNEL = 'PbrlActivationGrad';
const ACT_GRAD_CODES: Record<string, number> = { relu: 1, leakyrelu: 5, sigmoid: 3, tanh: 100 };

export function nativeActGradSupports(activation: string): boolean {
  return nativeGemmActive() && activation in ACT_GRAD_CODES;
}

function makeActGrad(native: NativeAddon): KernelFunc {
  return (args) => {
    const { dy, y } = args.inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
    const code = ACT_GRAD_CODES[String(args.attrs.activation)];
    if (code === undefined) throw new Error(`${ACT_GRAD_KERNEL}: unsupported activation ${String(args.attrs.activation)}`);
    const n = prod(y.shape);
    if (prod(dy.shape) !== n || dy.dtype !== 'float32' || y.dtype !== 'float32') {
      throw new Error(`${ACT_GRAD_KERNEL}: dy [${dy.shape}] and y [${y.shape}] must be float32 of the same size`);
    }
    const backend = args.backend as WasmBackendInternals;
    const out = backend.makeOutput([...y.shape], 'float32');
    if (n === 0) return out;
    native.actGrad(backend.wasm.HEAPU8.buffer as ArrayBuffer, offsetOf(backend, dy), offsetOf(backend, y), offsetOf(backend, out), n, code, Number(args.attrs.alpha ?? 0));
    return out;
  };
}

/**
 * Whole-network kernels (native/mlp.c): one call for an MLP's or ensemble's forward pass, one for its
 * backward pass. core/nn/fused-mlp.ts builds the spec and wires them into tfjs autodiff.
 */
export const MLP_FORWARD_KERNEL = 'PbrlMlpForward';
export const MLP_BACKWARD_KERNEL = 'PbrlMlpBackward';
let mlpKernels = false;

/** Activation codes of native/mlp.c. */
export const MLP_ACT_CODES: Record<string, number> = { linear: 0, relu: 1, sigmoid: 3, leakyrelu: 5, tanh: 100 };

/** Names of the native kernels live now (pbrl doctor prints them). */
export function activeNativeKernels(): string[] {
  if (!nativeGemmActive()) return [];
  const k = ['BatchMatMul', '_FusedMatMul (bias + activation)', `${ACT_GRAD_KERNEL}`, 'adam (one call per optimizer)', 'lerp (Polyak)'];
  if (mlpKernels) k.push(`${MLP_FORWARD_KERNEL} + ${MLP_BACKWARD_KERNEL} (whole network)`);
  if (nativeSacUpdateActive())
    k.push(`sacUpdate (a whole SAC update in one call; tanh/exp/log1p ${loadNativeAddon()?.info().vectorMath ? 'on libmvec' : 'scalar libm'})`);
  return k;
}

export function nativeMlpKernelsActive(): boolean {
  return mlpKernels && nativeGemmActive();
}

/** attrs of both MLP kernels: spec as native/mlp.c reads it ([E, B, L, shared, actHidden, actOut, alpha, d0..dL]). */
interface MlpAttrs {
  spec: number[];
}

function mlpSpec(attrs: Record<string, unknown>): { spec: Float64Array; E: number; B: number; L: number; dims: number[] } {
  const spec = Float64Array.from((attrs as unknown as MlpAttrs).spec);
  const [E, B, L] = spec;
  return { spec, E, B, L, dims: Array.from(spec.subarray(7)) };
}

function makeMlpForward(native: NativeAddon): KernelFunc {
  return (args) => {
    const { spec, E, B, L, dims } = mlpSpec(args.attrs);
    const backend = args.backend as WasmBackendInternals;
    const inputs = args.inputs;
    const x = inputs.x!;
    const yShape = args.attrs.ensemble ? [E, B, dims[L]] : [B, dims[L]];
    // Under no gradient tape nothing reads the hidden activations back: the kernel tiles rows instead.
    const inference = Boolean(args.attrs.inference);
    let wsSize = 0;
    if (!inference) for (let l = 1; l < L; l++) wsSize += E * B * dims[l];
    const y = backend.makeOutput(yShape, 'float32');
    const ws = backend.makeOutput([wsSize], 'float32');
    const offs = new Float64Array(3 + 2 * L);
    offs[0] = offsetOf(backend, x);
    offs[1] = offsetOf(backend, y);
    offs[2] = inference ? -1 : wsSize > 0 ? offsetOf(backend, ws) : 0;
    for (let l = 0; l < L; l++) {
      offs[3 + 2 * l] = offsetOf(backend, inputs[`w${l}`]!);
      offs[4 + 2 * l] = offsetOf(backend, inputs[`b${l}`]!);
    }
    native.mlpForward!(backend.wasm.HEAPU8.buffer as ArrayBuffer, spec, offs);
    return [y, ws] as unknown as tf.TensorInfo;
  };
}

function makeMlpBackward(native: NativeAddon): KernelFunc {
  return (args) => {
    const { spec, L } = mlpSpec(args.attrs);
    const inputGrad = Boolean(args.attrs.inputGrad);
    const paramGrad = Boolean(args.attrs.paramGrad);
    const backend = args.backend as WasmBackendInternals;
    const inputs = args.inputs;
    const x = inputs.x!;
    const dx = backend.makeOutput([...x.shape], 'float32');
    const dws: tf.TensorInfo[] = [];
    const dbs: tf.TensorInfo[] = [];
    for (let l = 0; l < L; l++) {
      dws.push(backend.makeOutput([...inputs[`w${l}`]!.shape], 'float32'));
      dbs.push(backend.makeOutput([...inputs[`b${l}`]!.shape], 'float32'));
    }
    const offs = new Float64Array(5 + 3 * L);
    offs[0] = offsetOf(backend, inputs.dy!);
    offs[1] = offsetOf(backend, x);
    offs[2] = L > 1 ? offsetOf(backend, inputs.ws!) : 0;
    offs[3] = offsetOf(backend, inputs.y!);
    offs[4] = inputGrad ? offsetOf(backend, dx) : -1;
    for (let l = 0; l < L; l++) {
      offs[5 + l] = offsetOf(backend, inputs[`w${l}`]!);
      offs[5 + L + l] = offsetOf(backend, dws[l]);
      offs[5 + 2 * L + l] = offsetOf(backend, dbs[l]);
    }
    native.mlpBackward!(backend.wasm.HEAPU8.buffer as ArrayBuffer, spec, offs, paramGrad);
    if (!inputGrad) {
      // Autodiff wants a gradient for every input; a network fed with data never needs this one.
      const n = prod(x.shape);
      if (n > 0) new Float32Array(backend.wasm.HEAPU8.buffer, offsetOf(backend, dx), n).fill(0);
    }
    return [dx, ...dws, ...dbs] as unknown as tf.TensorInfo;
  };
}

/** OpenBLAS threads for every later native call (PBRL_BLAS_THREADS sets it at start-up). */
export function setBlasThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`BLAS threads must be an integer >= 1, got ${n}`);
  loadNativeAddon()?.setThreads(n);
}

/** ms per cblas_sgemm call on the addon's own aligned buffers (null with an addon built before it existed). */
export function nativeSgemmMs(M: number, N: number, K: number, iters: number, transA = false, transB = false): number | null {
  const a = loadNativeAddon();
  return a?.benchSgemm ? a.benchSgemm(M, N, K, iters, transA, transB) : null;
}

/** Put the stock wasm kernels back (benchmarks compare both paths in one process). */
export function uninstallNativeGemm(): void {
  if (!installed) return;
  tf.unregisterKernel(ACT_GRAD_KERNEL, 'wasm');
  if (mlpKernels) {
    tf.unregisterKernel(MLP_FORWARD_KERNEL, 'wasm');
    tf.unregisterKernel(MLP_BACKWARD_KERNEL, 'wasm');
    mlpKernels = false;
  }
  for (const name of ['BatchMatMul', '_FusedMatMul'] as const) {
    const orig = originals[name];
    if (!orig) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(orig);
  }
  installed = false;
}

export function nativeGemmActive(): boolean {
  return installed && tf.getBackend() === 'wasm';
}

export function nativeInfo(): { config: string; threads: number; core: string } | null {
  return loadNativeAddon()?.info() ?? null;
}

/**
 * One in-place Adam step for all (weight, gradient, m, v) quadruples, natively. Returns false, having
 * changed nothing, where it does not apply: native GEMM off, not on wasm, or a weight / moment whose
 * storage is shared with another live tensor (writing in place would change that tensor too).
 */
export function nativeAdamStep(
  entries: { w: tf.Tensor; g: tf.Tensor; m: tf.Tensor; v: tf.Tensor }[],
  lr: number, beta1: number, beta2: number, eps: number, t: number,
): boolean {
  if (!nativeGemmActive() || !addon) return false;
  const backend = tf.backend() as unknown as WasmBackendInternals;
  const table = new Float64Array(entries.length * 5);
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k];
    const parts = [e.w, e.g, e.m, e.v].map((x) => backend.dataIdMap.get(x.dataId));
    if (parts.some((p) => !p) || e.g.dtype !== 'float32') return false;
    if (parts[0]!.refCount !== 1 || parts[2]!.refCount !== 1 || parts[3]!.refCount !== 1) return false;
    if (e.g.size !== e.w.size || e.m.size !== e.w.size || e.v.size !== e.w.size) {
      throw new Error(`adam: gradient/moment sizes differ from the weight's (${e.w.size}) for a variable of shape [${e.w.shape}]`);
    }
    table[5 * k] = parts[0]!.memoryOffset;
    table[5 * k + 1] = parts[1]!.memoryOffset;
    table[5 * k + 2] = parts[2]!.memoryOffset;
    table[5 * k + 3] = parts[3]!.memoryOffset;
    table[5 * k + 4] = e.w.size;
  }
  addon.adam(backend.wasm.HEAPU8.buffer as ArrayBuffer, table, lr, beta1, beta2, eps, t);
  return true;
}

/**
 * dst <- (1 - tau) dst + tau src for each pair, in place, natively (Polyak averaging of target
 * networks). Returns false, changing nothing, where it does not apply (see nativeAdamStep).
 */
export function nativeLerp(pairs: { dst: tf.Tensor; src: tf.Tensor }[], tau: number): boolean {
  if (!nativeGemmActive() || !addon) return false;
  const backend = tf.backend() as unknown as WasmBackendInternals;
  const table = new Float64Array(pairs.length * 3);
  for (let k = 0; k < pairs.length; k++) {
    const d = backend.dataIdMap.get(pairs[k].dst.dataId);
    const s = backend.dataIdMap.get(pairs[k].src.dataId);
    if (!d || !s || d.refCount !== 1 || pairs[k].dst.size !== pairs[k].src.size || pairs[k].dst.dtype !== 'float32') return false;
    table[3 * k] = d.memoryOffset;
    table[3 * k + 1] = s.memoryOffset;
    table[3 * k + 2] = pairs[k].dst.size;
  }
  addon.lerp(backend.wasm.HEAPU8.buffer as ArrayBuffer, table, tau);
  return true;
}

let sacUpdateOn = process.env.PBRL_NATIVE_SAC !== '0';

/** Turn the whole-update SAC kernel on or off for this process (PBRL_NATIVE_SAC=0 starts it off). */
export function setNativeSacUpdate(on: boolean): void {
  sacUpdateOn = on;
}

/** Whether SAC.update runs as one native call now (native/sac.c, agents/sac-native.ts). */
export function nativeSacUpdateActive(): boolean {
  return sacUpdateOn && mlpKernels && nativeGemmActive() && typeof addon?.sacUpdate === 'function';
}

/**
 * Runs native/sac.c's whole SAC update. `tensors` are the networks' weights, Adam moments and log
 * alpha in the order its offsets table wants; the kernel reads and writes them in place, so each
 * must be the only owner of its storage. Returns false, having changed nothing, where the kernel
 * does not apply (then the caller runs the tfjs update).
 */
export function nativeSacUpdate(
  tensors: tf.Tensor[], spec: number[], arrays: Float32Array[], params: number[], out: Float64Array,
): boolean {
  if (!nativeSacUpdateActive()) return false;
  const backend = tf.backend() as unknown as WasmBackendInternals;
  const offsets = new Float64Array(tensors.length);
  for (let i = 0; i < tensors.length; i++) {
    const d = backend.dataIdMap.get(tensors[i].dataId);
    if (!d || d.refCount !== 1 || tensors[i].dtype !== 'float32') return false;
    offsets[i] = d.memoryOffset;
  }
  const [obs, act, nextObs, rew, done, epsTarget, epsActor] = arrays;
  addon!.sacUpdate!(
    backend.wasm.HEAPU8.buffer as ArrayBuffer, Float64Array.from(spec), offsets, obs, act, nextObs, rew, done, epsTarget, epsActor,
    Float64Array.from(params), out,
  );
  return true;
}
