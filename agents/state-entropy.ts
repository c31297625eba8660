/**
 * PEBBLE's unsupervised pre-training reward (reference/pbrl.md §2.4): a particle estimate of state
 * entropy, r_int(s) = distance from s to its k-th nearest neighbour among all observations in the
 * replay buffer (k = 5; the (k+1)-th smallest distance, since s itself is in the buffer), divided by a
 * running estimate of its standard deviation (not mean-subtracted).
 *
 * Distances come from one matmul per chunk (|a|^2 + |b|^2 - 2 a.b), so the native GEMM does the work.
 */
import * as tf from '@tensorflow/tfjs';

/** Running mean/variance over batches (parallel-variance combination of batch statistics). */
export class RunningMeanStd {
  mean = 0;
  var = 1;
  count = 1e-4;

  update(xs: ArrayLike<number>): void {
    const n = xs.length;
    if (n === 0) return;
    let m = 0;
    for (let i = 0; i < n; i++) m += xs[i];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (xs[i] - m) ** 2;
    v /= n;
    const delta = m - this.mean;
    const total = this.count + n;
    const newMean = this.mean + (delta * n) / total;
    const m2 = this.var * this.count + v * n + (delta * delta * this.count * n) / total;
    this.mean = newMean;
    this.var = m2 / total;
    this.count = total;
  }

  get std(): number {
    return Math.sqrt(this.var);
  }
}

/**
 * k-th nearest-neighbour distance (excluding the point itself) of each of `n` query rows against
 * `m` reference rows, all of dimension `dim`.
 */
export function knnDistances(queries: Float32Array, n: number, refs: Float32Array, m: number, dim: number, k: number, chunk = 8192): Float32Array {
  if (queries.length !== n * dim || refs.length < m * dim) throw new Error(`knnDistances: arrays do not match n=${n}, m=${m}, dim=${dim}`);
  if (!(k >= 1) || k + 1 > m) throw new Error(`knnDistances: need more than k=${k} reference points, got ${m}`);
  return tf.tidy(() => {
    const q = tf.tensor2d(queries, [n, dim]);
    const qn = tf.sum(tf.square(q), 1, true); // [n, 1]
    let best: tf.Tensor | null = null; // [n, <= k+1] smallest squared distances so far (negated)
    for (let start = 0; start < m; start += chunk) {
      const rows = Math.min(chunk, m - start);
      const r = tf.tensor2d(refs.subarray(start * dim, (start + rows) * dim), [rows, dim]);
      const rn = tf.reshape(tf.sum(tf.square(r), 1), [1, rows]);
      const d2 = tf.sub(tf.add(qn, rn), tf.mul(2, tf.matMul(q, r, false, true)));
      const cand = tf.topk(tf.neg(d2), Math.min(k + 1, rows)).values;
      best = best ? tf.topk(tf.concat([best, cand], 1), k + 1).values : cand;
    }
    const kth = tf.slice(best!, [0, k], [n, 1]); // (k+1)-th smallest: index k
    return tf.sqrt(tf.relu(tf.neg(kth))).dataSync() as Float32Array;
  });
}

export class StateEntropyReward {
  readonly stats = new RunningMeanStd();
  constructor(readonly k = 5) {}

  /** Normalised intrinsic rewards for a batch of observations against the buffer's observations. */
  rewards(batchObs: Float32Array, n: number, bufferObs: Float32Array, m: number, dim: number): Float32Array {
    const d = knnDistances(batchObs, n, bufferObs, m, dim, this.k);
    this.stats.update(d);
    const s = this.stats.std || 1;
    for (let i = 0; i < n; i++) d[i] /= s;
    return d;
  }
}
