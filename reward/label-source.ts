/**
 * Where labels come from. Training code asks a LabelSource for labels of the pairs it chose and gets
 * one PreferenceLabel per pair, in order (label null = skipped). A scripted teacher answers at once;
 * a label file answers from what was recorded; the labeling page (a later issue) implements the same
 * interface and answers when a person has.
 *
 * Label files are JSON lines, one PreferenceLabel or RatingLabel per line. Reading validates every
 * line and names the first bad one; appending validates everything before writing a byte, and starts
 * on a fresh line even if the file's last line was cut off, so earlier labels are never damaged.
 */
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { PreferenceLabel, RatingLabel } from '../core/types.js';
import type { RewardSegment, SegmentPair } from './segments.js';
import { labelPairs, rateSegments, type RatingTeacher, type Teacher } from './teachers/teacher.js';

export interface LabelSource {
  /** Who answers (teacher spec, file path, "labeling-page"). */
  readonly name: string;
  label(pairs: readonly SegmentPair[]): Promise<PreferenceLabel[]>;
}

/** A scripted teacher as a label source. */
export class TeacherLabelSource implements LabelSource {
  constructor(readonly teacher: Teacher) {}

  get name(): string {
    return this.teacher.spec;
  }

  async label(pairs: readonly SegmentPair[]): Promise<PreferenceLabel[]> {
    return labelPairs(this.teacher, pairs);
  }
}

/** Ratings of single segments (rating-based RL): a rating teacher, a file, or a person. */
export interface RatingSource {
  readonly name: string;
  rate(segments: readonly RewardSegment[]): Promise<RatingLabel[]>;
}

export class TeacherRatingSource implements RatingSource {
  constructor(readonly teacher: RatingTeacher) {}

  get name(): string {
    return this.teacher.spec;
  }

  async rate(segments: readonly RewardSegment[]): Promise<RatingLabel[]> {
    return rateSegments(this.teacher, segments);
  }
}

/**
 * What the labeling page adds to a PreferenceLabel. `answer` marks a pair a person judged without
 * preferring a side ("both bad", "can't tell"); its label is null, so a reader that ignores `answer`
 * treats it like a skip, and PreferenceDataset counts it as equal or drops it by config.
 * `confidence` is how sure the person said they were.
 */
export type HumanAnswer = 'both-bad' | 'cant-tell';
export type LabelConfidence = 'low' | 'medium' | 'high';
export interface HumanPreferenceLabel extends PreferenceLabel {
  answer?: HumanAnswer;
  confidence?: LabelConfidence;
}
/** A rating with the name of its level (e.g. "good") as the labeller saw it, and their confidence. */
export interface HumanRatingLabel extends RatingLabel {
  level?: string;
  /**
   * The level number the labelling page showed (1..classes, worst to best): always rating + 1. Written by
   * the label store's exports so a file states its own numbering; `rating` stays 0-based as trainers read it.
   */
  shownLevel?: number;
  confidence?: LabelConfidence;
}

const common = {
  teacher: z.string().min(1),
  time: z.number().finite().optional(),
  durationMs: z.number().finite().nonnegative().optional(),
  confidence: z.enum(['low', 'medium', 'high']).optional(),
};

export const preferenceLabelSchema = z
  .object({
    a: z.string().min(1),
    b: z.string().min(1),
    label: z.union([z.literal(1), z.literal(0), z.literal(0.5), z.null()]),
    answer: z.enum(['both-bad', 'cant-tell']).optional(),
    ...common,
  })
  .strict()
  .refine((l) => l.answer === undefined || l.label === null, { message: 'a "both-bad" / "cant-tell" answer has label null' });

export const ratingLabelSchema = z
  .object({
    segment: z.string().min(1),
    rating: z.number().int().nonnegative(),
    classes: z.number().int().min(2),
    level: z.string().min(1).optional(),
    shownLevel: z.number().int().min(1).optional(),
    ...common,
  })
  .strict()
  .refine((r) => r.rating < r.classes, { message: 'rating must be < classes' })
  .refine((r) => r.shownLevel === undefined || r.shownLevel === r.rating + 1, {
    message: 'shownLevel is the 1-based level the page showed and must equal rating + 1 (rating is 0-based)',
  });

export type StoredLabel = HumanPreferenceLabel | HumanRatingLabel;

export function isRatingLabel(l: StoredLabel): l is RatingLabel {
  return 'segment' in l;
}

function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(line)'}: ${i.message}`).join('; ');
}

/** Validates one parsed record; `where` names it in errors. */
export function parseStoredLabel(value: unknown, where: string): StoredLabel {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where}: expected a JSON object, got ${JSON.stringify(value)}`);
  const isRating = 'segment' in (value as object);
  const r = (isRating ? ratingLabelSchema : preferenceLabelSchema).safeParse(value);
  if (!r.success) {
    const kind = isRating ? 'rating label {segment, rating, classes, teacher}' : 'preference label {a, b, label: 1|0|0.5|null, teacher}';
    throw new Error(`${where}: not a valid ${kind}: ${describeIssues(r.error)}`);
  }
  return r.data as StoredLabel;
}

/** Reads a label file (missing file: no labels). Blank lines are allowed; anything else must be a valid label. */
export function readLabelFile(path: string): { preferences: HumanPreferenceLabel[]; ratings: HumanRatingLabel[] } {
  const preferences: HumanPreferenceLabel[] = [];
  const ratings: HumanRatingLabel[] = [];
  if (!existsSync(path)) return { preferences, ratings };
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message})${i === lines.length - 1 ? '; the last line may have been cut off by a crash' : ''}`);
    }
    const l = parseStoredLabel(v, where);
    if (isRatingLabel(l)) ratings.push(l);
    else preferences.push(l);
  });
  return { preferences, ratings };
}

function endsWithNewline(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** Appends labels as JSON lines; all are validated first, then written in one append. */
export function appendLabels(path: string, labels: readonly StoredLabel[]): void {
  labels.forEach((l, i) => parseStoredLabel(l, `label ${i} to append`));
  if (labels.length === 0) return;
  mkdirSync(dirname(path), { recursive: true });
  const prefix = existsSync(path) && !endsWithNewline(path) ? '\n' : '';
  appendFileSync(path, prefix + labels.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/** A key for an unordered pair, and whether (a, b) is in stored order. */
function pairKey(a: string, b: string): string {
  return JSON.stringify([a, b]);
}

/**
 * Answers from a label file. A pair stored as (B, A) answers (A, B) with the label mirrored; the
 * latest line for a pair wins (a person may revise an answer). A pair the file does not hold is an
 * error naming it, unless `missing: 'skip'` turns it into a skipped label.
 */
export class LabelFileSource implements LabelSource {
  private byPair = new Map<string, PreferenceLabel>();

  constructor(
    readonly path: string,
    private readonly opts: { missing?: 'error' | 'skip' } = {},
  ) {
    this.reload();
  }

  get name(): string {
    return `file:${this.path}`;
  }

  /** Re-reads the file (it may have grown). */
  reload(): void {
    this.byPair.clear();
    for (const l of readLabelFile(this.path).preferences) this.byPair.set(pairKey(l.a, l.b), l);
  }

  get size(): number {
    return this.byPair.size;
  }

  labels(): PreferenceLabel[] {
    return [...this.byPair.values()];
  }

  lookup(a: string, b: string): PreferenceLabel | undefined {
    const direct = this.byPair.get(pairKey(a, b));
    if (direct) return direct;
    const rev = this.byPair.get(pairKey(b, a));
    if (!rev) return undefined;
    const mirrored = rev.label === null ? null : ((1 - rev.label) as 1 | 0 | 0.5);
    return { ...rev, a, b, label: mirrored };
  }

  async label(pairs: readonly SegmentPair[]): Promise<PreferenceLabel[]> {
    return pairs.map(([a, b]) => {
      const l = this.lookup(a.id, b.id);
      if (l) return l;
      if (this.opts.missing === 'skip') return { a: a.id, b: b.id, label: null, teacher: this.name };
      throw new Error(`${this.path} has no label for the pair (${a.id}, ${b.id})`);
    });
  }
}

/** Wraps a source and appends every label it gives to a file, so answers (a person's above all) are kept. */
export class RecordingLabelSource implements LabelSource {
  constructor(
    readonly inner: LabelSource,
    readonly path: string,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async label(pairs: readonly SegmentPair[]): Promise<PreferenceLabel[]> {
    const labels = await this.inner.label(pairs);
    if (labels.length !== pairs.length) throw new Error(`label source ${this.inner.name} returned ${labels.length} labels for ${pairs.length} pairs`);
    appendLabels(this.path, labels);
    return labels;
  }
}
