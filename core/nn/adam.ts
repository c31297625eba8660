/**
 * Adam, with the step fused into one native call over all variables when native GEMM is live.
 *
 * tf.train.adam runs about ten small kernels per variable per step; at SAC sizes their dispatch cost
 * was a third of an update. Here the moments are plain tensors in the wasm heap and the native
 * addon updates weights and moments in place, in one call. Elsewhere (pure wasm, cpu, tfjs-node) the
 * same formula runs as tf ops. Formula as tf.train.adam and PyTorch: w -= lr * m_hat / (sqrt(v_hat) + eps).
 */
import * as tf from '@tensorflow/tfjs';
import { nativeAdamStep } from '../native-gemm.js';

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  variable: tf.Variable;
  m: tf.Tensor;
  v: tf.Tensor;
}

export class Adam {
  private lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Steps taken (the t of the bias correction). */
  iterations = 0;
  private slots = new Map<string, Slot>();
  private order: string[] = [];

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8) {
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new Error(`adam: learning rate must be a positive number, got ${learningRate}`);
    for (const [k, b] of Object.entries({ beta1, beta2 })) {
      if (!(b >= 0 && b < 1)) throw new Error(`adam: ${k} must be in [0, 1), got ${b}`);
    }
    if (!(epsilon > 0)) throw new Error(`adam: epsilon must be positive, got ${epsilon}`);
    this.lr = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  /** Step size; settable between steps for learning-rate schedules (warm-up, cosine decay). */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(lr: number) {
    if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`adam: learning rate must be a positive number, got ${lr}`);
    this.lr = lr;
  }

  private slot(name: string): Slot {
    let s = this.slots.get(name);
    if (!s) {
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new Error(`adam: no variable named ${name}`);
      s = { variable, m: tf.keep(tf.zerosLike(variable)), v: tf.keep(tf.zerosLike(variable)) };
      this.slots.set(name, s);
      this.order.push(name);
    }
    return s;
  }

  /**
   * The (m, v) moment tensors of these variables, created (zero) on first use, for kernels that run
   * the whole step themselves (native/sac.c); such a caller advances `iterations` itself.
   */
  moments(variables: tf.Variable[]): { m: tf.Tensor; v: tf.Tensor }[] {
    return variables.map((v) => this.slot(v.name));
  }

  /** Applies gradients keyed by variable name (what tf.variableGrads returns). */
  applyGradients(gradsIn: tf.NamedTensorMap | NamedTensor[]): void {
    const grads: tf.NamedTensorMap = Array.isArray(gradsIn) ? Object.fromEntries(gradsIn.map((g) => [g.name, g.tensor])) : gradsIn;
    const names = Object.keys(grads);
    const slots = names.map((n) => this.slot(n));
    this.iterations++;
    const t = this.iterations;
    const entries = slots.map((s, i) => ({ w: s.variable, g: grads[names[i]], m: s.m, v: s.v }));
    if (nativeAdamStep(entries, this.learningRate, this.beta1, this.beta2, this.epsilon, t)) return;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2 = 1 - Math.pow(this.beta2, t);
    for (const e of entries) {
      const slot = slots[entries.indexOf(e)];
      const [m, v] = tf.tidy(() => [
        tf.add(tf.mul(e.m, this.beta1), tf.mul(e.g, 1 - this.beta1)),
        tf.add(tf.mul(e.v, this.beta2), tf.mul(tf.square(e.g), 1 - this.beta2)),
      ]);
      tf.tidy(() => {
        const step = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), this.epsilon));
        e.w.assign(tf.sub(e.w, tf.mul(step, this.learningRate)) as tf.Tensor);
      });
      slot.m.dispose();
      slot.v.dispose();
      slot.m = tf.keep(m);
      slot.v = tf.keep(v);
    }
  }

  /** Optimizer state in slot order: iterations, then m and v of each variable (by first use). */
  async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [{ name: 'iter', tensor: tf.scalar(this.iterations) }];
    for (const name of this.order) {
      const s = this.slots.get(name)!;
      out.push({ name: `${name}/m`, tensor: s.m.clone() }, { name: `${name}/v`, tensor: s.v.clone() });
    }
    return out;
  }

  /**
   * Restores state saved by getWeights onto this optimizer's variables, matched by position: the
   * caller passes the same variable list in the same order (names differ between processes).
   */
  async setWeights(weights: NamedTensor[], variables?: tf.Variable[]): Promise<void> {
    if (weights.length === 0 || (weights.length - 1) % 2 !== 0) throw new Error(`adam.setWeights: expected 1 + 2k tensors, got ${weights.length}`);
    this.iterations = weights[0].tensor.dataSync()[0];
    const k = (weights.length - 1) / 2;
    const vars = k === 0 ? [] : (variables ?? this.order.map((n) => this.slots.get(n)!.variable));
    if (vars.length !== k) throw new Error(`adam.setWeights: state has ${k} variables, optimizer has ${vars.length}`);
    this.disposeSlots();
    vars.forEach((variable, i) => {
      const m = weights[1 + 2 * i].tensor;
      const v = weights[2 + 2 * i].tensor;
      if (m.size !== variable.size || v.size !== variable.size) {
        throw new Error(`adam.setWeights: moment ${i} has ${m.size} values, variable ${variable.name} has ${variable.size}`);
      }
      // Fresh storage, not views of the caller's tensors: in-place kernels need sole owners.
      const own = (t: tf.Tensor) => tf.keep(tf.tensor(t.dataSync() as Float32Array, variable.shape, 'float32'));
      this.slots.set(variable.name, { variable, m: own(m), v: own(v) });
      this.order.push(variable.name);
    });
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
    this.order = [];
  }

  dispose(): void {
    this.disposeSlots();
  }
}
