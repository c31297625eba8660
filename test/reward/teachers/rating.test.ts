import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/rng.js';
import { segmentReturn } from '../../../reward/segments.js';
import { rateSegments, ReturnRatingTeacher } from '../../../reward/teachers/index.js';
import { makeSegment } from '../helpers.js';

describe('rating teacher', () => {
  it('puts returns into k equal-width classes over [lo, hi], clamping outside values', () => {
    const t = new ReturnRatingTeacher({ classes: 4, lo: 0, hi: 8 });
    const rate = (r: number) => t.rate(makeSegment([r]));
    expect([-1, 0, 1.99, 2, 4.5, 7.99, 8, 100].map(rate)).toEqual([0, 0, 0, 1, 2, 3, 3, 3]);
  });

  it('class frequencies match the bin widths for uniform returns', () => {
    const rng = new Rng(1);
    const segs = Array.from({ length: 8000 }, () => makeSegment([rng.range(0, 10)]));
    const t = new ReturnRatingTeacher({ classes: 5 });
    expect(() => t.rate(segs[0])).toThrow(/no return range/);
    t.fitReturnRange(segs);
    const labels = rateSegments(t, segs);
    const counts = new Array(5).fill(0);
    labels.forEach((l, i) => {
      counts[l.rating]++;
      expect(l.segment).toBe(segs[i].id);
      expect(l.classes).toBe(5);
    });
    for (const c of counts) expect(Math.abs(c / 8000 - 0.2)).toBeLessThan(4 * Math.sqrt(0.16 / 8000));
    // Order is kept: a higher return never gets a lower class.
    const sorted = [...segs].sort((a, b) => segmentReturn(a) - segmentReturn(b)).map((s) => t.rate(s));
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]).toBeGreaterThanOrEqual(sorted[i - 1]);
  });

  it('rejects a bad range', () => {
    expect(() => new ReturnRatingTeacher({ classes: 3, lo: 1, hi: 1 })).toThrow(/finite lo < hi/);
    expect(() => new ReturnRatingTeacher({ classes: 3, lo: 1 })).toThrow(/both lo and hi/);
  });
});
