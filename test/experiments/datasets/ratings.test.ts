/**
 * Rated datasets (`pbrl dataset make --rating-teacher`): every segment gets a rating that follows its
 * return (equal-width bins over the dataset's range, computed here), the pairs and labels are those of
 * the same dataset made without ratings, the file and the .npz carry them, and a file whose ratings
 * disagree with its header is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBinFile, writeBinFile } from '../../../core/serialize.js';
import { makeDataset, type MakeDatasetOptions } from '../../../experiments/datasets/make.js';
import { describeDataset, readDataset, writeDataset, type OfflineDataset } from '../../../experiments/datasets/format.js';
import { segReturn } from './segment-return.js';
import { datasetNpzEntries } from '../../../experiments/datasets/npz.js';

const dir = mkdtempSync(join(tmpdir(), 'pbrl-rated-'));
const base: MakeDatasetOptions = { task: 'reach', kind: 'dense', episodes: 6, maxPathLength: 40, segmentLength: 10, segments: 20, pairsPerSegment: 3, noise: [0.2, 1], includeRandom: true, seed: 5 };
let plain: OfflineDataset;
let rated: OfflineDataset;

beforeAll(async () => {
  plain = await makeDataset(base);
  rated = await makeDataset({ ...base, ratingTeacher: 'rating:classes=4' });
});


describe('rated datasets', () => {
  it('rate every segment into equal-width return bins over the dataset\'s range, pairs unchanged', () => {
    const N = rated.header.segments;
    const ret = Array.from({ length: N }, (_, s) => segReturn(rated, s));
    const lo = Math.min(...ret);
    const hi = Math.max(...ret);
    const expected = ret.map((r) => Math.min(3, Math.floor(((r - lo) / (hi - lo)) * 4)));
    expect(Array.from(rated.data.ratings!)).toEqual(expected);
    expect(new Set(expected).size).toBeGreaterThan(1);
    expect(rated.header.rating).toEqual({ teacher: `rating:classes=4,lo=${lo},hi=${hi}`, classes: 4 });
    expect(rated.data.ratingClasses).toBe(4);
    expect(Array.from(rated.data.labels)).toEqual(Array.from(plain.data.labels));
    expect(Array.from(rated.data.pairA)).toEqual(Array.from(plain.data.pairA));
    expect(plain.data.ratings).toBeUndefined();
    expect(describeDataset(rated)).toMatch(/ratings by "rating:classes=4,lo=.*": class 0: \d+, class 1: \d+/);
  });

  it('round-trip through the file and the .npz', () => {
    const f = join(dir, 'rated.pbrlds');
    writeDataset(f, rated);
    const back = readDataset(f);
    expect(Array.from(back.data.ratings!)).toEqual(Array.from(rated.data.ratings!));
    expect(back.header.rating).toEqual(rated.header.rating);
    expect(datasetNpzEntries(rated).ratings.shape).toEqual([rated.header.segments]);
    expect(datasetNpzEntries(plain).ratings).toBeUndefined();
  });

  it('a file whose ratings disagree with its header is refused, naming the field', () => {
    const f = join(dir, 'rated.pbrlds');
    writeDataset(f, rated);
    const { header, arrays } = readBinFile(f);
    const bad = join(dir, 'bad.pbrlds');
    writeBinFile(bad, { ...header, rating: { teacher: 'rating:classes=2', classes: 2 } }, arrays);
    expect(() => readDataset(bad)).toThrow(/ratings\[\d+\] = [23] is outside \[0, 1\]/);
    const { ratings: _r, ...noRatings } = arrays;
    writeBinFile(bad, header, noRatings);
    expect(() => readDataset(bad)).toThrow(/header.rating and the ratings array must be given together/);
    writeBinFile(bad, header, { ...arrays, ratings: Float32Array.from(arrays.ratings as Int32Array) });
    expect(() => readDataset(bad)).toThrow(/array "ratings" is f32, expected i32/);
    expect(readFileSync(f).length).toBeGreaterThan(0); // the good file is untouched
  });

  it('refuses a rating spec that is not one', async () => {
    await expect(makeDataset({ ...base, ratingTeacher: 'oracle' })).rejects.toThrow(/rating:classes=k/);
  });
});
