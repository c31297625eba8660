/**
 * SURF (Park et al., ICLR 2022) on top of the PEBBLE reward model: semi-supervised pseudo-labels on
 * unlabelled pairs plus temporal cropping.
 *
 * - Segments are stored H + 2w long (w = 5); teachers and pseudo-labels see only the central H.
 * - Each gradient step draws one crop length L ~ U{H - c, ..., H + c} (c = 5) and, per segment, an
 *   independent start in [0, H + 2w - L]; the predicted return is summed over the crop. Labelled and
 *   unlabelled pairs are both cropped.
 * - Pseudo-label of an unlabelled pair, per member: the argmax of that member's P over the central
 *   H (no gradient), used only when its probability is >= tau (0.99 in SURF's Meta-World commands).
 * - Member loss = CE(labelled) + lambda * mean(mask * CE(unlabelled, pseudo-label)); unlabelled
 *   batch = mu x labelled batch (mu = 4); steps per round = ceil(epochs * labelled / batch), no early
 *   stop (reward_update = 20 on Meta-World).
 *
 * Our simplification: each member walks the labelled pairs in its own order (as in PEBBLE), but all
 * members share one unlabelled batch per step (each still with its own pseudo-labels and mask), so
 * pseudo-labelling costs one forward pass per step instead of one per member.
 */
import { Rng } from '../core/rng.js';
import type { LabelledPair } from './preference-dataset.js';
import type { PairWindow, RewardModel, TrainResult } from './reward-model.js';
import { subSegment, type RewardSegment, type SegmentPair } from './segments.js';
import type { Teacher } from './teachers/teacher.js';
import type { PreferenceLabel } from '../core/types.js';

export interface SurfConfig {
  /** Extra steps stored on each side of the labelled window (dataaug_window). */
  window: number;
  /** Crop length varies by up to this many steps around H (crop_range). */
  cropRange: number;
  /** Confidence threshold tau for pseudo-labels (threshold_u). */
  threshold: number;
  /** Weight of the unlabelled loss (lambda_u). */
  lambda: number;
  /** Unlabelled batch = mu x labelled batch. */
  mu: number;
  /** Unlabelled pairs sampled per feedback round = invLabelRatio x queries. */
  invLabelRatio: number;
  /** Passes over the labelled set per round (reward_update). */
  epochs: number;
}

/** SURF's Meta-World settings (README commands). */
export const SURF_DEFAULTS: SurfConfig = { window: 5, cropRange: 5, threshold: 0.99, lambda: 1, mu: 4, invLabelRatio: 10, epochs: 20 };

export function resolveSurfConfig(c: Partial<SurfConfig> = {}): SurfConfig {
  const r = { ...SURF_DEFAULTS, ...c };
  const int = (v: number, f: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`SURF ${f} must be an integer >= ${min}, got ${v}`);
  };
  int(r.window, 'window', 0);
  int(r.cropRange, 'cropRange', 0);
  int(r.mu, 'mu', 0);
  int(r.invLabelRatio, 'invLabelRatio', 0);
  int(r.epochs, 'epochs', 1);
  if (r.cropRange > r.window) throw new Error(`SURF cropRange (${r.cropRange}) must be <= window (${r.window}): a crop of H + cropRange steps must fit in H + 2 * window`);
  if (!(r.threshold >= 0.5 && r.threshold <= 1)) throw new Error(`SURF threshold must be in [0.5, 1], got ${r.threshold}`);
  if (!(r.lambda >= 0) || !Number.isFinite(r.lambda)) throw new Error(`SURF lambda must be a finite number >= 0, got ${r.lambda}`);
  return r;
}

/** Stored segment length for labelled window H: H + 2w. */
export function surfSegmentLength(H: number, cfg: Pick<SurfConfig, 'window'>): number {
  return H + 2 * cfg.window;
}

/** The central H steps a teacher is shown. */
export function centralWindow(seg: RewardSegment, cfg: Pick<SurfConfig, 'window'>): RewardSegment {
  return subSegment(seg, cfg.window, seg.length - 2 * cfg.window);
}

/** Teacher labels for SURF pairs, judged on the central windows; ids stay those of the stored segments. */
export function labelCentral(teacher: Teacher, pairs: readonly SegmentPair[], cfg: Pick<SurfConfig, 'window'>): PreferenceLabel[] {
  return pairs.map(([a, b]) => ({ a: a.id, b: b.id, label: teacher.label(centralWindow(a, cfg), centralWindow(b, cfg)), teacher: teacher.spec }));
}

/** L ~ U{H - c, ..., H + c}. */
export function cropLength(rng: Rng, H: number, cropRange: number): number {
  return H - cropRange + rng.int(2 * cropRange + 1);
}

/** A crop: one length for the pair, an independent start for each segment. */
export function sampleCrop(rng: Rng, stored: number, H: number, cropRange: number): { length: number; offA: number; offB: number } {
  const length = cropLength(rng, H, cropRange);
  if (length < 1 || length > stored) throw new Error(`SURF crop of ${length} steps does not fit stored segments of ${stored} steps`);
  return { length, offA: rng.int(stored - length + 1), offB: rng.int(stored - length + 1) };
}

/**
 * Per-member pseudo-labels (1 = A) and masks (1 = confident enough) for unlabelled pairs, from the
 * central H steps. Both [E * N] member-major.
 */
export function pseudoLabels(model: RewardModel, pairs: readonly SegmentPair[], cfg: Pick<SurfConfig, 'window' | 'threshold'>): { label: Float32Array; mask: Float32Array } {
  const N = pairs.length;
  const E = model.members;
  const label = new Float32Array(E * N);
  const mask = new Float32Array(E * N);
  if (N === 0) return { label, mask };
  const H = pairs[0][0].length - 2 * cfg.window;
  const p = model.preferenceProbs(pairs, { offset: cfg.window, length: H });
  for (let i = 0; i < E * N; i++) {
    label[i] = p[i] >= 0.5 ? 1 : 0;
    mask[i] = Math.max(p[i], 1 - p[i]) >= cfg.threshold ? 1 : 0;
  }
  return { label, mask };
}

export interface SurfTrainResult extends TrainResult {
  /** Share of (member, unlabelled pair) entries whose pseudo-label passed the threshold, over the round. */
  pseudoLabelRate: number;
}

/**
 * One feedback round of SURF training. `labelled` and `unlabelled` hold stored (H + 2w)-step
 * segments; epochs, batch size and SURF settings as in SurfConfig and the model's config.
 */
export function trainSurf(model: RewardModel, labelled: readonly LabelledPair[], unlabelled: readonly SegmentPair[], cfgIn: Partial<SurfConfig>, rng: Rng): SurfTrainResult {
  const cfg = resolveSurfConfig(cfgIn);
  if (labelled.length === 0) throw new Error('trainSurf: no labelled pairs');
  const stored = labelled[0].a.length;
  const H = stored - 2 * cfg.window;
  if (H < 1) throw new Error(`trainSurf: stored segments have ${stored} steps, too short for window ${cfg.window} on each side`);
  for (const p of labelled) {
    if (p.a.length !== stored || p.b.length !== stored) throw new Error(`trainSurf: labelled pair (${p.a.id}, ${p.b.id}) is not ${stored} steps long`);
  }
  for (const [a, b] of unlabelled) {
    if (a.length !== stored || b.length !== stored) throw new Error(`trainSurf: unlabelled pair (${a.id}, ${b.id}) is not ${stored} steps long`);
  }
  const E = model.members;
  const bl = model.config.batchSize;
  const bu = Math.min(cfg.mu * bl, unlabelled.length);
  const n = labelled.length;
  const iterations = Math.ceil((cfg.epochs * n) / bl);
  let orders = model.memberOrders(n, 'shuffle', rng);
  let cursor = 0;
  const uOrder = Int32Array.from({ length: unlabelled.length }, (_, i) => i);
  rng.shuffle(uOrder);
  let uCursor = 0;
  let lossSum = 0;
  let correct = 0;
  let hard = 0;
  let confident = 0;
  let uTotal = 0;
  for (let it = 0; it < iterations; it++) {
    if (cursor >= n) {
      orders = model.memberOrders(n, 'shuffle', rng);
      cursor = 0;
    }
    const P = Math.min(bl, n - cursor);
    const uBatch: SegmentPair[] = [];
    for (let j = 0; j < bu; j++) {
      if (uCursor >= uOrder.length) {
        rng.shuffle(uOrder);
        uCursor = 0;
      }
      uBatch.push(unlabelled[uOrder[uCursor++]]);
    }
    const pseudo = pseudoLabels(model, uBatch, cfg);
    const Q = P + uBatch.length;
    const crop = { length: cropLength(rng, H, cfg.cropRange) };
    const off = () => rng.int(stored - crop.length + 1);
    const windows: PairWindow[][] = [];
    const target = new Float32Array(E * Q);
    const weight = new Float32Array(E * Q);
    for (let e = 0; e < E; e++) {
      const row: PairWindow[] = [];
      for (let p = 0; p < P; p++) {
        const pair = labelled[orders[e][cursor + p]];
        row.push({ pair, offA: off(), offB: off() });
        target[e * Q + p] = pair.label;
        weight[e * Q + p] = 1 / P;
      }
      for (let u = 0; u < uBatch.length; u++) {
        const [a, b] = uBatch[u];
        row.push({ pair: { a, b }, offA: off(), offB: off() });
        const k = e * uBatch.length + u;
        target[e * Q + P + u] = pseudo.label[k];
        weight[e * Q + P + u] = (cfg.lambda * pseudo.mask[k]) / uBatch.length;
        confident += pseudo.mask[k];
        uTotal++;
      }
      windows.push(row);
    }
    const { loss, logits } = model.stepOnWindows(model.packWindows(windows, crop.length), Q, crop.length, target, weight);
    for (let e = 0; e < E; e++) {
      for (let p = 0; p < P; p++) {
        const y = target[e * Q + p];
        if (y === 0.5) continue;
        hard++;
        if ((logits[e * Q + p] > 0) === (y === 1)) correct++;
      }
    }
    lossSum += loss;
    cursor += P;
  }
  return {
    epochs: cfg.epochs,
    steps: iterations,
    loss: lossSum / iterations,
    trainAccuracy: hard ? correct / hard : NaN,
    pseudoLabelRate: uTotal ? confident / uTotal : 0,
  };
}
