/**
 * Weight initialisers drawn from our seeded Rng (not tf.random*), so the same seed gives the same
 * network on every backend.
 */
import { Rng } from '../rng.js';

export type InitName = 'xavier' | 'orthogonal' | 'he';

/** Glorot/Xavier uniform: U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(rng: Rng, fanIn: number, fanOut: number, gain = 1): Float32Array {
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return rng.fillUniform(new Float32Array(fanIn * fanOut), -a, a) as Float32Array;
}

/** He/Kaiming uniform for ReLU nets: U(-a, a) with a = sqrt(6 / fanIn). */
export function heUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const a = Math.sqrt(6 / fanIn);
  return rng.fillUniform(new Float32Array(fanIn * fanOut), -a, a) as Float32Array;
}

/**
 * Orthogonal init (Saxe et al.), the default of the PyTorch SAC code PEBBLE builds on: a random normal
 * matrix orthonormalised by modified Gram-Schmidt in float64, along its shorter side, times `gain`.
 * Returns a row-major [fanIn, fanOut] matrix.
 */
export function orthogonal(rng: Rng, fanIn: number, fanOut: number, gain = 1): Float32Array {
  const rows = Math.max(fanIn, fanOut);
  const cols = Math.min(fanIn, fanOut);
  // q: `cols` orthonormal vectors of length `rows`, stored vector-major.
  const q = new Float64Array(rows * cols);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < cols; j++) {
    const vj = j * rows;
    for (let k = 0; k < j; k++) {
      const vk = k * rows;
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += q[vj + r] * q[vk + r];
      for (let r = 0; r < rows; r++) q[vj + r] -= dot * q[vk + r];
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += q[vj + r] * q[vj + r];
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < rows; r++) q[vj + r] /= norm;
  }
  const out = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < fanIn; i++) {
    for (let o = 0; o < fanOut; o++) {
      // Vectors run along the longer axis so that axis's columns/rows are orthonormal.
      out[i * fanOut + o] = gain * (fanIn >= fanOut ? q[o * rows + i] : q[i * rows + o]);
    }
  }
  return out;
}

export function initWeights(name: InitName, rng: Rng, fanIn: number, fanOut: number): Float32Array {
  switch (name) {
    case 'xavier':
      return xavierUniform(rng, fanIn, fanOut);
    case 'orthogonal':
      return orthogonal(rng, fanIn, fanOut);
    case 'he':
      return heUniform(rng, fanIn, fanOut);
    default:
      throw new Error(`unknown init "${name as string}": expected xavier, orthogonal or he`);
  }
}
