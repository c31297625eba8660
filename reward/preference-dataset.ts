/**
 * The labelled pairs a reward model trains on: FIFO up to a capacity (B-Pref keeps 5e5), all of one
 * segment length, skipped queries (label null) left out. Labels that arrive as ids (a label file,
 * the labeling page) are joined with their segments through a lookup.
 */
import type { PreferenceLabel, RatingLabel } from '../core/types.js';
import type { HumanPreferenceLabel, LabelConfidence } from './label-source.js';
import { validateSegment, type RewardSegment } from './segments.js';
import { segmentFromJSON, segmentToJSON, type SegmentJSON } from './segment-io.js';

/** A dataset as JSON for checkpoints: each segment once, pairs by id. */
export interface PreferenceDatasetJSON {
  format: 'pbrl-preference-dataset';
  version: 1;
  capacity: number;
  skipped: number;
  segments: SegmentJSON[];
  pairs: { a: string; b: string; label: SoftLabel }[];
}

export type SoftLabel = 1 | 0 | 0.5;

export interface LabelledPair {
  a: RewardSegment;
  b: RewardSegment;
  /** P(A preferred). */
  label: SoftLabel;
}

export interface RatedSegment {
  segment: RewardSegment;
  rating: number;
  classes: number;
}

/**
 * What to train on from a person's answers beyond left/right/equal: "both bad" and "can't tell"
 * count as equal (target 0.5) or are dropped; answers below `minConfidence` are dropped. The
 * default (drop both, keep every confidence) is what a reader of plain PreferenceLabels did.
 */
export interface HumanAnswerPolicy {
  bothBad?: 'drop' | 'equal';
  cantTell?: 'drop' | 'equal';
  minConfidence?: LabelConfidence;
}

const CONFIDENCE_RANK: Record<LabelConfidence, number> = { low: 1, medium: 2, high: 3 };

/** The training target of a stored label under a policy; null = not trained on. */
export function effectiveLabel(l: HumanPreferenceLabel, policy: HumanAnswerPolicy = {}): SoftLabel | null {
  if (policy.minConfidence !== undefined && l.confidence !== undefined && CONFIDENCE_RANK[l.confidence] < CONFIDENCE_RANK[policy.minConfidence]) return null;
  if (l.answer === 'both-bad') return (policy.bothBad ?? 'drop') === 'equal' ? 0.5 : null;
  if (l.answer === 'cant-tell') return (policy.cantTell ?? 'drop') === 'equal' ? 0.5 : null;
  return l.label;
}

export type SegmentLookup = ReadonlyMap<string, RewardSegment> | ((id: string) => RewardSegment | undefined);

function lookup(src: SegmentLookup, id: string): RewardSegment | undefined {
  return typeof src === 'function' ? src(id) : src.get(id);
}

export function checkLabelValue(label: unknown, where: string): asserts label is SoftLabel {
  if (label !== 0 && label !== 1 && label !== 0.5) throw new Error(`${where}: label must be 1 (A preferred), 0 (B preferred) or 0.5 (equal), got ${JSON.stringify(label)}`);
}

export class PreferenceDataset {
  private items: LabelledPair[] = [];
  private segLength: number | null = null;
  /** Queries asked that came back skipped (they still count toward a feedback budget). */
  skipped = 0;

  constructor(readonly capacity = 500_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`PreferenceDataset capacity must be an integer >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  get segmentLength(): number | null {
    return this.segLength;
  }

  get pairs(): readonly LabelledPair[] {
    return this.items;
  }

  add(a: RewardSegment, b: RewardSegment, label: SoftLabel | null): void {
    if (label === null) {
      this.skipped++;
      return;
    }
    checkLabelValue(label, `pair (${a.id}, ${b.id})`);
    validateSegment(a, `segment ${a.id}`);
    validateSegment(b, `segment ${b.id}`);
    if (a.obsDim !== b.obsDim || a.actDim !== b.actDim) throw new Error(`pair (${a.id}, ${b.id}): segments have different obs/action sizes`);
    const L = this.segLength ?? a.length;
    if (a.length !== L || b.length !== L) {
      throw new Error(`pair (${a.id}, ${b.id}): segment lengths ${a.length} and ${b.length}, but this dataset holds length-${L} segments`);
    }
    this.segLength = L;
    this.items.push({ a, b, label });
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  addPairs(pairs: readonly LabelledPair[]): void {
    for (const p of pairs) this.add(p.a, p.b, p.label);
  }

  /**
   * Adds stored labels, finding their segments by id; an unknown id is an error naming it.
   * `policy` says what "both bad" / "can't tell" / low-confidence answers become (default: dropped,
   * counted as skipped).
   */
  addLabels(labels: readonly HumanPreferenceLabel[], segments: SegmentLookup, policy: HumanAnswerPolicy = {}): void {
    for (const k of ['bothBad', 'cantTell'] as const) {
      if (policy[k] !== undefined && policy[k] !== 'drop' && policy[k] !== 'equal') throw new Error(`${k} must be "drop" or "equal", got ${JSON.stringify(policy[k])}`);
    }
    if (policy.minConfidence !== undefined && !(policy.minConfidence in CONFIDENCE_RANK)) throw new Error(`minConfidence must be low, medium or high, got ${JSON.stringify(policy.minConfidence)}`);
    const targets = labels.map((l) => effectiveLabel(l, policy));
    const resolved = labels.map((l, i) => {
      const label = targets[i];
      if (label === null) return null;
      const a = lookup(segments, l.a);
      const b = lookup(segments, l.b);
      if (!a) throw new Error(`label ${i}: segment "${l.a}" (a) is not among the known segments`);
      if (!b) throw new Error(`label ${i}: segment "${l.b}" (b) is not among the known segments`);
      return { a, b, label };
    });
    // Check everything first so one bad label adds nothing.
    let L = this.segLength;
    resolved.forEach((r, i) => {
      if (!r) return;
      checkLabelValue(r.label, `label ${i}`);
      L ??= r.a.length;
      if (r.a.length !== L || r.b.length !== L) throw new Error(`label ${i}: segments of length ${r.a.length} and ${r.b.length}, expected ${L} like the rest`);
    });
    targets.forEach((t) => t === null && this.skipped++);
    for (const r of resolved) if (r) this.add(r.a, r.b, r.label);
  }

  toJSON(): PreferenceDatasetJSON {
    const segs = new Map<string, RewardSegment>();
    for (const p of this.items) {
      segs.set(p.a.id, p.a);
      segs.set(p.b.id, p.b);
    }
    return {
      format: 'pbrl-preference-dataset',
      version: 1,
      capacity: this.capacity,
      skipped: this.skipped,
      segments: [...segs.values()].map(segmentToJSON),
      pairs: this.items.map((p) => ({ a: p.a.id, b: p.b.id, label: p.label })),
    };
  }

  static fromJSON(j: unknown): PreferenceDataset {
    const o = j as Partial<PreferenceDatasetJSON>;
    if (!o || o.format !== 'pbrl-preference-dataset') throw new Error(`not a saved preference dataset (format "${o?.format}")`);
    if (o.version !== 1) throw new Error(`saved preference dataset version ${o.version} is not supported (expected 1)`);
    if (!Array.isArray(o.segments) || !Array.isArray(o.pairs)) throw new Error('saved preference dataset lacks segments or pairs');
    const segs = new Map(o.segments.map((s, i) => {
      const seg = segmentFromJSON(s, `segments[${i}]`);
      return [seg.id, seg] as const;
    }));
    const d = new PreferenceDataset(o.capacity);
    d.addLabels(o.pairs.map((p) => ({ ...p, teacher: 'restored' })), segs);
    d.skipped = Number.isInteger(o.skipped) ? o.skipped! : 0;
    return d;
  }

  clear(): void {
    this.items = [];
    this.segLength = null;
    this.skipped = 0;
  }
}

/** Joins rating labels with their segments. */
export function resolveRatings(labels: readonly RatingLabel[], segments: SegmentLookup): RatedSegment[] {
  return labels.map((l, i) => {
    const s = lookup(segments, l.segment);
    if (!s) throw new Error(`rating ${i}: segment "${l.segment}" is not among the known segments`);
    if (!Number.isInteger(l.classes) || l.classes < 2) throw new Error(`rating ${i}: classes must be an integer >= 2, got ${l.classes}`);
    if (!Number.isInteger(l.rating) || l.rating < 0 || l.rating >= l.classes) {
      throw new Error(`rating ${i}: rating must be an integer in [0, ${l.classes - 1}], got ${l.rating}`);
    }
    return { segment: s, rating: l.rating, classes: l.classes };
  });
}
