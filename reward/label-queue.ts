/**
 * A label source answered from outside, e.g. by a person on the labeling page while the agent keeps
 * training: `label(pairs)` posts the pairs as pending queries and resolves once every one of them
 * has an answer (`answer`, or `skip`). The page lists `pending()` and calls `answer` per click.
 */
import type { PreferenceLabel } from '../core/types.js';
import type { LabelSource } from './label-source.js';
import { checkLabelValue } from './preference-dataset.js';
import type { RewardSegment, SegmentPair } from './segments.js';

interface Pending {
  a: RewardSegment;
  b: RewardSegment;
  posted: number;
  resolve: (l: PreferenceLabel) => void;
}

export class LabelQueue implements LabelSource {
  private queue = new Map<string, Pending>();

  constructor(readonly name = 'labeling-page') {}

  /** Queries waiting for an answer, oldest first. */
  pending(): { a: RewardSegment; b: RewardSegment; posted: number }[] {
    return [...this.queue.values()].map(({ a, b, posted }) => ({ a, b, posted }));
  }

  label(pairs: readonly SegmentPair[]): Promise<PreferenceLabel[]> {
    return Promise.all(
      pairs.map(
        ([a, b]) =>
          new Promise<PreferenceLabel>((resolve) => {
            const key = JSON.stringify([a.id, b.id]);
            if (this.queue.has(key)) throw new Error(`pair (${a.id}, ${b.id}) is already waiting for an answer`);
            this.queue.set(key, { a, b, posted: Date.now(), resolve });
          }),
      ),
    );
  }

  /** Records a person's answer: label = P(A preferred), null = skipped. */
  answer(a: string, b: string, label: 1 | 0 | 0.5 | null, teacher: string, durationMs?: number): PreferenceLabel {
    const key = JSON.stringify([a, b]);
    const p = this.queue.get(key);
    if (!p) throw new Error(`no pending query for the pair (${a}, ${b})`);
    if (label !== null) checkLabelValue(label, `answer for (${a}, ${b})`);
    if (typeof teacher !== 'string' || teacher === '') throw new Error('answer: teacher (who answered) must be a non-empty string');
    if (durationMs !== undefined && !(durationMs >= 0)) throw new Error(`answer: durationMs must be >= 0, got ${durationMs}`);
    this.queue.delete(key);
    const l: PreferenceLabel = { a, b, label, teacher, time: Date.now(), ...(durationMs !== undefined ? { durationMs } : {}) };
    p.resolve(l);
    return l;
  }

  skip(a: string, b: string, teacher: string): PreferenceLabel {
    return this.answer(a, b, null, teacher);
  }
}
