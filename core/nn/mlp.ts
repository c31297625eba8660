/**
 * The multilayer perceptron used everywhere (actors, critics, reward models), on the fast dense layers.
 * Weights are tf.Variables so tf.train optimizers and tf.variableGrads work on them unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { Activation, assertActivation, dense, ensembleDense, slowMatMulPath } from './dense.js';
import { InitName, initWeights } from './init.js';
import { nativeLerp } from '../native-gemm.js';
import { fusedMlp, fusedMlpApplies } from './fused-mlp.js';

export interface MLPConfig {
  inputDim: number;
  hiddenDims: number[];
  outputDim: number;
  activation?: Activation;
  outputActivation?: Activation;
  init?: InitName;
  /** Seed or a stream of the caller's Rng; networks built from the same seed are identical. */
  seed?: number | Rng;
  /** Prefix for variable names (helps when debugging memory). */
  name?: string;
}

type Resolved = Required<Omit<MLPConfig, 'seed' | 'name'>> & { name: string };

function resolve(cfg: MLPConfig, where: string): Resolved {
  const dims = [cfg.inputDim, ...cfg.hiddenDims, cfg.outputDim];
  dims.forEach((d, i) => {
    if (!Number.isInteger(d) || d <= 0) throw new Error(`${where}: layer size ${i} must be a positive integer, got ${d}`);
  });
  const r: Resolved = {
    inputDim: cfg.inputDim,
    hiddenDims: [...cfg.hiddenDims],
    outputDim: cfg.outputDim,
    activation: cfg.activation ?? 'relu',
    outputActivation: cfg.outputActivation ?? 'linear',
    init: cfg.init ?? 'xavier',
    name: cfg.name ?? 'mlp',
  };
  assertActivation(r.activation, `${where}.activation`);
  assertActivation(r.outputActivation, `${where}.outputActivation`);
  return r;
}

function rngOf(seed: number | Rng | undefined): Rng {
  return seed instanceof Rng ? seed : new Rng(seed ?? 0);
}

export interface ApplyOptions {
  /** Gradient with respect to the input is needed (e.g. a critic's action input in SAC's actor loss). */
  inputGrad?: boolean;
  /** Gradients for this network's own weights are needed (default true; false saves a matmul per layer). */
  paramGrad?: boolean;
}

/** Common parts of single and ensemble networks: weight access, copying, Polyak averaging, save/load. */
abstract class Network {
  readonly variables: tf.Variable[] = [];
  readonly config: Resolved;

  protected constructor(config: Resolved) {
    this.config = config;
  }

  get numParams(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  getWeights(): Float32Array[] {
    return this.variables.map((v) => v.dataSync() as Float32Array).map((a) => a.slice());
  }

  setWeights(weights: ArrayLike<number>[]): void {
    if (weights.length !== this.variables.length) {
      throw new Error(`${this.config.name}: setWeights got ${weights.length} arrays, expected ${this.variables.length}`);
    }
    weights.forEach((w, i) => {
      const v = this.variables[i];
      if (w.length !== v.size) throw new Error(`${this.config.name}: weight ${i} has ${w.length} values, expected ${v.size} (shape [${v.shape}])`);
      for (let j = 0; j < w.length; j++) {
        if (!Number.isFinite(w[j])) throw new Error(`${this.config.name}: weight ${i}[${j}] is ${w[j]}`);
      }
      tf.tidy(() => v.assign(tf.tensor(Float32Array.from(w), v.shape)));
    });
  }

  /** this <- other (same architecture). */
  copyFrom(other: Network): void {
    this.checkSameShape(other);
    tf.tidy(() => this.variables.forEach((v, i) => v.assign(other.variables[i])));
  }

  /** this <- tau * other + (1 - tau) * this: target networks. */
  polyakUpdate(other: Network, tau: number): void {
    if (!(tau >= 0 && tau <= 1)) throw new Error(`polyakUpdate: tau must be in [0, 1], got ${tau}`);
    this.checkSameShape(other);
    if (nativeLerp(this.variables.map((v, i) => ({ dst: v, src: other.variables[i] })), tau)) return;
    tf.tidy(() => this.variables.forEach((v, i) => v.assign(tf.add(tf.mul(other.variables[i], tau), tf.mul(v, 1 - tau)))));
  }

  toJSON(): { config: Resolved; kind: string; weights: number[][] } {
    return { kind: this.kind, config: this.config, weights: this.getWeights().map((w) => Array.from(w)) };
  }

  dispose(): void {
    this.variables.forEach((v) => v.dispose());
    this.variables.length = 0;
  }

  protected abstract get kind(): string;

  protected fusedOptions(members: number, opts: ApplyOptions) {
    return {
      members, activation: this.config.activation, outputActivation: this.config.outputActivation,
      inputGrad: opts.inputGrad ?? false, paramGrad: opts.paramGrad ?? true,
    };
  }

  private checkSameShape(other: Network): void {
    if (other.variables.length !== this.variables.length || other.variables.some((v, i) => v.size !== this.variables[i].size)) {
      throw new Error(`${this.config.name}: cannot copy from a network of a different shape`);
    }
  }
}

export class MLP extends Network {
  protected get kind(): string {
    return 'mlp';
  }

  constructor(cfg: MLPConfig) {
    super(resolve(cfg, 'MLP'));
    const rng = rngOf(cfg.seed);
    const dims = [this.config.inputDim, ...this.config.hiddenDims, this.config.outputDim];
    for (let l = 0; l + 1 < dims.length; l++) {
      const w = initWeights(this.config.init, rng.split(`layer${l}`), dims[l], dims[l + 1]);
      this.variables.push(ownedVariable(tf.tensor2d(w, [dims[l], dims[l + 1]]), `${this.config.name}/w${l}_${uid()}`));
      this.variables.push(ownedVariable(tf.zeros([dims[l + 1]]), `${this.config.name}/b${l}_${uid()}`));
    }
  }

  /** Forward pass on x [B, inputDim] -> [B, outputDim]. */
  apply(x: tf.Tensor, opts: ApplyOptions = {}): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.config.inputDim) {
      throw new Error(`${this.config.name}: input must be [batch, ${this.config.inputDim}], got [${x.shape}]`);
    }
    const n = this.variables.length / 2;
    if (x.dtype === 'float32' && fusedMlpApplies(n, this.config.activation, this.config.outputActivation)) {
      return fusedMlp(x, this.variables, this.fusedOptions(0, opts)) as tf.Tensor2D;
    }
    let h = x;
    for (let l = 0; l < n; l++) {
      h = dense(h, this.variables[2 * l], this.variables[2 * l + 1], {
        activation: l === n - 1 ? this.config.outputActivation : this.config.activation,
        inputGrad: l > 0 || (opts.inputGrad ?? false),
        paramGrad: opts.paramGrad,
      });
    }
    return h as tf.Tensor2D;
  }

  /** Convenience for inference on plain arrays: rows of inputDim floats in, rows of outputDim out. */
  predict(x: Float32Array, rows = x.length / this.config.inputDim): Float32Array {
    checkInput(x, rows, this.config.inputDim, this.config.name);
    return tf.tidy(() => this.apply(tf.tensor2d(x, [rows, this.config.inputDim])).dataSync() as Float32Array);
  }

  static fromJSON(j: { config: Resolved; kind: string; weights: number[][] }): MLP {
    if (j.kind !== 'mlp') throw new Error(`expected a saved mlp, got "${j.kind}"`);
    const m = new MLP(j.config);
    m.setWeights(j.weights);
    return m;
  }
}

export interface EnsembleConfig extends MLPConfig {
  members: number;
}

/**
 * N independent MLPs evaluated as one batched matmul per layer: reward-model ensembles and SAC's twin
 * critics. Member i's weights are drawn from the stream split(`member${i}`), so member i equals an
 * MLP built with seed rng.split(`member${i}`).
 */
export class EnsembleMLP extends Network {
  readonly members: number;

  protected get kind(): string {
    return 'ensemble';
  }

  constructor(cfg: EnsembleConfig) {
    super(resolve(cfg, 'EnsembleMLP'));
    if (!Number.isInteger(cfg.members) || cfg.members < 1) throw new Error(`EnsembleMLP.members must be an integer >= 1, got ${cfg.members}`);
    this.members = cfg.members;
    const rng = rngOf(cfg.seed);
    const dims = [this.config.inputDim, ...this.config.hiddenDims, this.config.outputDim];
    for (let l = 0; l + 1 < dims.length; l++) {
      const w = new Float32Array(this.members * dims[l] * dims[l + 1]);
      for (let e = 0; e < this.members; e++) {
        w.set(initWeights(this.config.init, rng.split(`member${e}`).split(`layer${l}`), dims[l], dims[l + 1]), e * dims[l] * dims[l + 1]);
      }
      this.variables.push(ownedVariable(tf.tensor3d(w, [this.members, dims[l], dims[l + 1]]), `${this.config.name}/w${l}_${uid()}`));
      this.variables.push(ownedVariable(tf.zeros([this.members, 1, dims[l + 1]]), `${this.config.name}/b${l}_${uid()}`));
    }
  }

  /** x [B, in] (shared by all members) or [E, B, in] (one batch per member) -> [E, B, out]. */
  apply(x: tf.Tensor, opts: ApplyOptions = {}): tf.Tensor3D {
    const ok = (x.rank === 2 && x.shape[1] === this.config.inputDim) ||
      (x.rank === 3 && x.shape[0] === this.members && x.shape[2] === this.config.inputDim);
    if (!ok) {
      throw new Error(`${this.config.name}: input must be [batch, ${this.config.inputDim}] or [${this.members}, batch, ${this.config.inputDim}], got [${x.shape}]`);
    }
    if (slowMatMulPath()) return this.applyPerMember(x, opts);
    const n = this.variables.length / 2;
    if (x.dtype === 'float32' && fusedMlpApplies(n, this.config.activation, this.config.outputActivation)) {
      return fusedMlp(x, this.variables, this.fusedOptions(this.members, opts)) as tf.Tensor3D;
    }
    let h = x;
    for (let l = 0; l < n; l++) {
      h = ensembleDense(h, this.variables[2 * l], this.variables[2 * l + 1], {
        activation: l === n - 1 ? this.config.outputActivation : this.config.activation,
        inputGrad: l > 0 || (opts.inputGrad ?? false),
        paramGrad: opts.paramGrad,
      });
    }
    return h as tf.Tensor3D;
  }

  /**
   * Pure wasm has no fast batched matmul, so each member runs as its own chain of 2-D dense layers:
   * the weights are split once per call and only the final outputs are stacked (splitting and
   * stacking every hidden activation cost more than the matmuls saved).
   */
  private applyPerMember(x: tf.Tensor, opts: ApplyOptions): tf.Tensor3D {
    const n = this.variables.length / 2;
    const ws = Array.from({ length: n }, (_, l) => tf.unstack(this.variables[2 * l]));
    const bs = Array.from({ length: n }, (_, l) => {
      const b = this.variables[2 * l + 1];
      return tf.unstack(tf.reshape(b, [this.members, b.shape[2]!]));
    });
    const xs = x.rank === 3 ? tf.unstack(x) : null;
    const outs: tf.Tensor[] = [];
    for (let e = 0; e < this.members; e++) {
      let h = xs ? xs[e] : x;
      for (let l = 0; l < n; l++) {
        h = dense(h, ws[l][e], bs[l][e], {
          activation: l === n - 1 ? this.config.outputActivation : this.config.activation,
          inputGrad: l > 0 || (opts.inputGrad ?? false),
          paramGrad: opts.paramGrad,
          fuseBias: false, // these biases are slices of the [E, 1, out] variable
        });
      }
      outs.push(h);
    }
    return tf.stack(outs) as tf.Tensor3D;
  }

  /** Inference on a shared batch: rows x inputDim in, [members][rows x outputDim] out (member-major). */
  predict(x: Float32Array, rows = x.length / this.config.inputDim): Float32Array {
    checkInput(x, rows, this.config.inputDim, this.config.name);
    return tf.tidy(() => this.apply(tf.tensor2d(x, [rows, this.config.inputDim])).dataSync() as Float32Array);
  }

  /** A standalone copy of member i. */
  member(i: number): MLP {
    if (!Number.isInteger(i) || i < 0 || i >= this.members) throw new Error(`member index ${i} out of range [0, ${this.members})`);
    const m = new MLP({ ...this.config, name: `${this.config.name}[${i}]` });
    const ws = this.getWeights();
    m.setWeights(ws.map((w) => w.subarray((i * w.length) / this.members, ((i + 1) * w.length) / this.members)));
    return m;
  }

  static fromJSON(j: { config: Resolved & { members?: number }; kind: string; weights: number[][] }): EnsembleMLP {
    if (j.kind !== 'ensemble') throw new Error(`expected a saved ensemble, got "${j.kind}"`);
    const members = j.weights[1].length / j.config.hiddenDims.concat(j.config.outputDim)[0];
    const m = new EnsembleMLP({ ...j.config, members });
    m.setWeights(j.weights);
    return m;
  }
}

function checkInput(x: Float32Array, rows: number, dim: number, name: string): void {
  if (!Number.isInteger(rows) || x.length !== rows * dim) {
    throw new Error(`${name}: input has ${x.length} values, not a whole number of rows of ${dim}`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${name}: input[${Math.floor(i / dim)}][${i % dim}] is ${x[i]}`);
  }
}

/**
 * A variable that is the only owner of its storage: the initial tensor is disposed, so the variable's
 * data has one reference (the native Adam updates weights in place only when nothing else shares them).
 */
function ownedVariable(init: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(init, true, name);
  init.dispose();
  return v;
}

let counter = 0;
function uid(): number {
  return counter++;
}
