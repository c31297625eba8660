import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { blasThreadsForRun, initBackend, parseBlasThreads, resolveBackendRequest } from '../../core/backend.js';

describe('backend selection', () => {
  it('defaults to wasm, with native GEMM when the addon is built', async () => {
    const info = await initBackend({}, true);
    expect(info.backend).toBe('wasm');
    expect(info.wasmSimd).toBe(true);
    if (process.env.PBRL_REQUIRE_NATIVE === '1') expect(info.nativeGemm.active).toBe(true);
    if (info.nativeGemm.active) {
      // doctor lists the live kernels; a current addon has the whole-network ones.
      expect(info.nativeGemm.kernels).toContain('BatchMatMul');
      expect(info.nativeGemm.fusedMlp).toBe(process.env.PBRL_FUSED_MLP !== '0');
    }
    expect(info.reason.length).toBeGreaterThan(0);
  });

  it('PBRL_NATIVE_GEMM=0 keeps wasm pure', async () => {
    const info = await initBackend({ nativeGemm: false }, true);
    expect(info.nativeGemm).toMatchObject({ active: false, reason: expect.stringMatching(/PBRL_NATIVE_GEMM=0/) });
    await initBackend({}, true);
  });

  it('unknown backend names are an error listing the valid ones', () => {
    expect(() => resolveBackendRequest('cuda')).toThrow(/unknown tensor backend "cuda".*wasm, cpu, tensorflow, tensorflow-gpu/);
    expect(resolveBackendRequest('auto')).toBeUndefined();
  });

  it('asking for a TensorFlow backend that is not installed says how to install it', async () => {
    await expect(initBackend({ backend: 'tensorflow-gpu' }, true)).rejects.toThrow(/npm install @tensorflow\/tfjs-node-gpu/);
    await expect(initBackend({ backend: 'tensorflow' }, true)).rejects.toThrow(/npm install @tensorflow\/tfjs-node/);
    await initBackend({}, true);
  });

  it('the cpu backend can be forced', async () => {
    const info = await initBackend({ backend: 'cpu' }, true);
    expect(info.backend).toBe('cpu');
    expect(info.nativeGemm.active).toBe(false);
    await initBackend({}, true);
  });
});

describe('PBRL_BLAS_THREADS', () => {
  it('is 1 when unset, a count when given, every usable core for auto, and an error otherwise', () => {
    expect(parseBlasThreads(undefined)).toBe(1);
    expect(parseBlasThreads('3')).toBe(3);
    expect(parseBlasThreads('auto')).toBe(os.availableParallelism());
    expect(() => parseBlasThreads('0')).toThrow(/PBRL_BLAS_THREADS/);
    expect(() => parseBlasThreads('two')).toThrow(/integer >= 1 or auto/);
  });
});

describe('BLAS threads of a training run', () => {
  it('takes PBRL_BLAS_THREADS when set, else every core for 256-wide networks and one below', () => {
    expect(blasThreadsForRun(128, '2')).toBe(2);
    expect(blasThreadsForRun(256, '1')).toBe(1);
    expect(blasThreadsForRun(128, undefined)).toBe(1);
    expect(blasThreadsForRun(256, undefined)).toBe(os.availableParallelism());
    expect(blasThreadsForRun(1024, '')).toBe(os.availableParallelism());
    expect(() => blasThreadsForRun(256, 'many')).toThrow(/PBRL_BLAS_THREADS/);
  });
});
