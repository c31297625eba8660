import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { LabelQueue } from '../../reward/label-queue.js';
import { SegmentSampler } from '../../reward/segments.js';
import { randomWalks } from './helpers.js';

describe('label queue (answers from a person)', () => {
  it('resolves a round once every posted pair is answered or skipped, in the order asked', async () => {
    const pairs = new SegmentSampler(randomWalks(3, 30, 1), { length: 5 }).samplePairs(3, new Rng(2));
    const q = new LabelQueue();
    let done = false;
    const round = q.label(pairs).then((l) => {
      done = true;
      return l;
    });
    expect(q.pending().map((p) => p.a.id)).toEqual(pairs.map(([a]) => a.id));
    q.answer(pairs[2][0].id, pairs[2][1].id, 0, 'alice', 3100);
    q.skip(pairs[0][0].id, pairs[0][1].id, 'alice');
    await Promise.resolve();
    expect(done).toBe(false);
    expect(q.pending().length).toBe(1);
    q.answer(pairs[1][0].id, pairs[1][1].id, 0.5, 'alice');
    const labels = await round;
    expect(labels.map((l) => l.label)).toEqual([null, 0.5, 0]);
    expect(labels[2]).toMatchObject({ teacher: 'alice', durationMs: 3100 });
    expect(q.pending()).toEqual([]);
  });

  it('rejects answers to unknown pairs and bad values without dropping the query', () => {
    const pairs = new SegmentSampler(randomWalks(2, 30, 3), { length: 5 }).samplePairs(1, new Rng(4));
    const q = new LabelQueue();
    void q.label(pairs);
    const [a, b] = pairs[0];
    expect(() => q.answer('x', 'y', 1, 'bob')).toThrow(/no pending query for the pair \(x, y\)/);
    expect(() => q.answer(a.id, b.id, 0.3 as 1, 'bob')).toThrow(/label must be 1 \(A preferred\), 0 \(B preferred\) or 0.5/);
    expect(() => q.answer(a.id, b.id, 1, '')).toThrow(/teacher \(who answered\) must be a non-empty string/);
    expect(q.pending().length).toBe(1);
  });
});
