// Answers from the labeling page beyond left/right/equal ("both bad", "can't tell", confidence,
// named rating levels): label files carrying them are read, old files still are, and
// PreferenceDataset trains on them as equal or drops them, by config.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readLabelFile, type HumanPreferenceLabel } from '../../reward/label-source.js';
import { effectiveLabel, PreferenceDataset } from '../../reward/preference-dataset.js';
import { makeSegment } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pbrl-human-answers-'));

describe('human answer kinds', () => {
  it('reads new and old label lines, and refuses a both-bad answer that claims a side', () => {
    const f = join(dir, 'labels.jsonl');
    writeFileSync(
      f,
      [
        { a: 'x', b: 'y', label: 1, teacher: 'old', time: 1 },
        { a: 'x', b: 'z', label: null, answer: 'both-bad', teacher: 'p', confidence: 'high' },
        { a: 'y', b: 'z', label: null, answer: 'cant-tell', teacher: 'p' },
        { segment: 'x', rating: 2, classes: 3, level: 'done', confidence: 'low', teacher: 'p' },
      ].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    const { preferences, ratings } = readLabelFile(f);
    expect(preferences.map((l) => l.answer ?? l.label)).toEqual([1, 'both-bad', 'cant-tell']);
    expect(ratings[0]).toMatchObject({ level: 'done', confidence: 'low' });
    writeFileSync(f, JSON.stringify({ a: 'x', b: 'y', label: 1, answer: 'both-bad', teacher: 'p' }) + '\n');
    expect(() => readLabelFile(f)).toThrow(/label null/);
    writeFileSync(f, JSON.stringify({ a: 'x', b: 'y', label: 1, confidence: 'very', teacher: 'p' }) + '\n');
    expect(() => readLabelFile(f)).toThrow(/confidence/);
  });

  it('trains on both bad / can\'t tell as equal or drops them, and filters by confidence', () => {
    const segs = new Map(['x', 'y', 'z'].map((id) => [id, makeSegment([0, 0, 0], { id })]));
    const labels: HumanPreferenceLabel[] = [
      { a: 'x', b: 'y', label: 1, teacher: 'p', confidence: 'low' },
      { a: 'x', b: 'z', label: null, answer: 'both-bad', teacher: 'p' },
      { a: 'y', b: 'z', label: null, answer: 'cant-tell', teacher: 'p' },
      { a: 'x', b: 'z', label: null, teacher: 'p' },
    ];
    const byDefault = new PreferenceDataset();
    byDefault.addLabels(labels, segs);
    expect(byDefault.pairs.map((p) => p.label)).toEqual([1]);
    expect(byDefault.skipped).toBe(3);
    const equal = new PreferenceDataset();
    equal.addLabels(labels, segs, { bothBad: 'equal', cantTell: 'equal' });
    expect(equal.pairs.map((p) => [p.a.id, p.b.id, p.label])).toEqual([['x', 'y', 1], ['x', 'z', 0.5], ['y', 'z', 0.5]]);
    expect(equal.skipped).toBe(1);
    const sure = new PreferenceDataset();
    sure.addLabels(labels, segs, { bothBad: 'equal', minConfidence: 'medium' });
    expect(sure.pairs.map((p) => p.label)).toEqual([0.5]);
    expect(effectiveLabel({ a: 'x', b: 'y', label: 0, teacher: 'p', confidence: 'high' }, { minConfidence: 'high' })).toBe(0);
    expect(() => new PreferenceDataset().addLabels(labels, segs, { bothBad: 'half' as 'equal' })).toThrow(/bothBad must be "drop" or "equal"/);
  });
});
