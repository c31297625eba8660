import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../core/rng.js';
import type { PreferenceLabel } from '../../core/types.js';
import {
  appendLabels, LabelFileSource, readLabelFile, RecordingLabelSource, TeacherLabelSource, TeacherRatingSource,
} from '../../reward/label-source.js';
import { resolveRatings } from '../../reward/preference-dataset.js';
import { ReturnRatingTeacher } from '../../reward/teachers/index.js';
import { PreferenceDataset } from '../../reward/preference-dataset.js';
import { SegmentSampler } from '../../reward/segments.js';
import { parseTeacher } from '../../reward/teachers/index.js';
import { randomWalks } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pbrl-labels-'));

describe('label files', () => {
  it('round-trips preference and rating labels, skipped ones included', () => {
    const path = join(tmp(), 'sub', 'labels.jsonl');
    const prefs: PreferenceLabel[] = [
      { a: 's1', b: 's2', label: 1, teacher: 'oracle' },
      { a: 's3', b: 's4', label: null, teacher: 'alice', time: 1700000000000, durationMs: 4200 },
      { a: 's5', b: 's6', label: 0.5, teacher: 'alice' },
    ];
    appendLabels(path, prefs.slice(0, 2));
    appendLabels(path, [prefs[2], { segment: 's1', rating: 2, classes: 3, teacher: 'bob' }]);
    const back = readLabelFile(path);
    expect(back.preferences).toEqual(prefs);
    expect(back.ratings).toEqual([{ segment: 's1', rating: 2, classes: 3, teacher: 'bob' }]);
    expect(readLabelFile(join(tmp(), 'none.jsonl'))).toEqual({ preferences: [], ratings: [] });
  });

  it('names the line of a malformed label', () => {
    const path = join(tmp(), 'bad.jsonl');
    writeFileSync(path, '{"a":"x","b":"y","label":1,"teacher":"t"}\n\n{"a":"x","b":"y","label":0.7,"teacher":"t"}\n');
    expect(() => readLabelFile(path)).toThrow(/bad.jsonl:3: not a valid preference label.*label/);
    writeFileSync(path, '{"a":"x","b":"y","label":1,"teacher":"t"}\nnot json\n');
    expect(() => readLabelFile(path)).toThrow(/bad.jsonl:2: not valid JSON/);
    writeFileSync(path, '{"segment":"s","rating":3,"classes":3,"teacher":"t"}\n');
    expect(() => readLabelFile(path)).toThrow(/bad.jsonl:1: not a valid rating label.*rating must be < classes/);
    // shownLevel is the page's 1-based number for the same answer: a file where it disagrees is refused.
    writeFileSync(path, '{"segment":"s","rating":1,"shownLevel":1,"classes":3,"teacher":"t"}\n');
    expect(() => readLabelFile(path)).toThrow(/bad.jsonl:1: not a valid rating label.*shownLevel .* must equal rating \+ 1/);
    writeFileSync(path, '{"segment":"s","rating":1,"shownLevel":2,"classes":3,"teacher":"t"}\n');
    expect(readLabelFile(path).ratings).toEqual([{ segment: 's', rating: 1, shownLevel: 2, classes: 3, teacher: 't' }]);
    writeFileSync(path, '{"a":"x","b":"y","label":1,"teacher":"t","extra":1}\n');
    expect(() => readLabelFile(path)).toThrow(/bad.jsonl:1:.*extra/);
  });

  it('appending is safe: bad labels write nothing, and a cut-off last line does not swallow new ones', () => {
    const path = join(tmp(), 'labels.jsonl');
    appendLabels(path, [{ a: 'a', b: 'b', label: 1, teacher: 't' }]);
    const before = readFileSync(path, 'utf8');
    expect(() => appendLabels(path, [{ a: 'c', b: 'd', label: 0, teacher: 't' }, { a: 'e', b: 'f', label: 2 as 1, teacher: 't' }])).toThrow(/label 1 to append/);
    expect(readFileSync(path, 'utf8')).toBe(before);
    appendFileSync(path, '{"a":"g","b":'); // a crash mid-write
    appendLabels(path, [{ a: 'c', b: 'd', label: 0, teacher: 't' }]);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[2]).toBe('{"a":"c","b":"d","label":0,"teacher":"t"}');
    expect(() => readLabelFile(path)).toThrow(/labels.jsonl:2: not valid JSON/);
  });
});

describe('label sources feed the same dataset', () => {
  const sampler = new SegmentSampler(randomWalks(4, 40, 1), { length: 10 });
  const pairs = sampler.samplePairs(20, new Rng(2));
  const segments = new Map(pairs.flat().map((s) => [s.id, s]));

  it('a scripted teacher, recorded to a file, and the file read back give the same training pairs', async () => {
    const path = join(tmp(), 'rec.jsonl');
    const teacher = parseTeacher('skip:thresh=2+stoc:beta=1', new Rng(3));
    const live = await new RecordingLabelSource(new TeacherLabelSource(teacher), path).label(pairs);
    expect(live.length).toBe(20);
    expect(live.every((l) => l.teacher === 'skip:thresh=2+stoc:beta=1')).toBe(true);
    const fromFile = await new LabelFileSource(path).label(pairs);
    expect(fromFile).toEqual(live);
    const d1 = new PreferenceDataset();
    d1.addLabels(live, segments);
    const d2 = new PreferenceDataset();
    d2.addLabels(new LabelFileSource(path).labels(), segments);
    expect(d2.pairs.map((p) => [p.a.id, p.b.id, p.label])).toEqual(d1.pairs.map((p) => [p.a.id, p.b.id, p.label]));
    expect(d1.size + d1.skipped).toBe(20);
  });

  it('a file answers reversed pairs mirrored, and names pairs it does not hold', async () => {
    const path = join(tmp(), 'f.jsonl');
    const [a, b] = pairs[0];
    appendLabels(path, [{ a: b.id, b: a.id, label: 1, teacher: 'alice' }]);
    const src = new LabelFileSource(path);
    expect((await src.label([[a, b]]))[0]).toMatchObject({ a: a.id, b: b.id, label: 0 });
    await expect(src.label([pairs[1]])).rejects.toThrow(/has no label for the pair/);
    expect((await new LabelFileSource(path, { missing: 'skip' }).label([pairs[1]]))[0].label).toBeNull();
    // A later line for the same pair wins (a person revised the answer).
    appendLabels(path, [{ a: b.id, b: a.id, label: 0.5, teacher: 'alice' }]);
    src.reload();
    expect((await src.label([[a, b]]))[0].label).toBe(0.5);
  });

  it('ratings go through a file and back to rated segments', async () => {
    const path = join(tmp(), 'ratings.jsonl');
    const segs = pairs.map(([a]) => a);
    const ratings = await new TeacherRatingSource(new ReturnRatingTeacher({ classes: 3, lo: -10, hi: 10 })).rate(segs);
    appendLabels(path, ratings);
    const rated = resolveRatings(readLabelFile(path).ratings, segments);
    expect(rated.map((r) => [r.segment.id, r.rating, r.classes])).toEqual(ratings.map((r) => [r.segment, r.rating, 3]));
    expect(() => resolveRatings([{ segment: 'ghost', rating: 0, classes: 3, teacher: 't' }], segments)).toThrow(/segment "ghost" is not among the known segments/);
  });

  it('labels naming unknown segments are rejected before anything is added', () => {
    const d = new PreferenceDataset();
    const [a, b] = pairs[0];
    expect(() => d.addLabels([{ a: a.id, b: b.id, label: 1, teacher: 't' }, { a: 'ghost', b: b.id, label: 1, teacher: 't' }], segments)).toThrow(/segment "ghost" \(a\) is not among the known segments/);
    expect(d.size).toBe(0);
  });

  it('the dataset round-trips through JSON for checkpoints', () => {
    const d = new PreferenceDataset(100);
    pairs.slice(0, 6).forEach(([a, b], i) => d.add(a, b, i === 0 ? null : ([1, 0, 0.5] as const)[i % 3]));
    const back = PreferenceDataset.fromJSON(JSON.parse(JSON.stringify(d.toJSON())));
    expect(back.size).toBe(5);
    expect(back.skipped).toBe(1);
    expect(back.capacity).toBe(100);
    expect(back.pairs).toEqual(d.pairs);
    expect(() => PreferenceDataset.fromJSON({ format: 'x' })).toThrow(/not a saved preference dataset/);
  });

  it('the dataset is FIFO up to its capacity and keeps one segment length', () => {
    const d = new PreferenceDataset(5);
    pairs.slice(0, 8).forEach(([a, b]) => d.add(a, b, 1));
    expect(d.size).toBe(5);
    expect(d.pairs[0].a.id).toBe(pairs[3][0].id);
    const other = new SegmentSampler(randomWalks(1, 40, 9), { length: 12 }).samplePairs(1, new Rng(0))[0];
    expect(() => d.add(other[0], other[1], 1)).toThrow(/this dataset holds length-10 segments/);
  });
});
