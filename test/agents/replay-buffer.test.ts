import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocBatch, ReplayBuffer } from '../../agents/replay-buffer.js';
import { Rng } from '../../core/rng.js';

function fill(buf: ReplayBuffer, n: number, from = 0) {
  for (let i = from; i < from + n; i++) buf.add([i, i], [i], i, [i + 0.5, i + 0.5], i % 3 === 0);
}

describe('ReplayBuffer', () => {
  it('wraps around, keeping only the newest transitions', () => {
    const buf = new ReplayBuffer(5, 2, 1);
    fill(buf, 8);
    expect(buf.size).toBe(5);
    const batch = buf.sample(new Rng(0), allocBatch(200, 2, 1));
    const seen = new Set(Array.from(batch.rewards));
    expect([...seen].sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7]);
    for (let b = 0; b < batch.size; b++) {
      const r = batch.rewards[b];
      expect(batch.obs[2 * b]).toBe(r);
      expect(batch.nextObs[2 * b]).toBe(r + 0.5);
      expect(batch.actions[b]).toBe(r);
      expect(batch.dones[b]).toBe(r % 3 === 0 ? 1 : 0);
    }
  });

  it('relabels stored rewards in chunks, keeping the true rewards', () => {
    const buf = new ReplayBuffer(10, 2, 1);
    fill(buf, 7);
    buf.relabel((obs, act, n) => Float32Array.from({ length: n }, (_, i) => obs[2 * i] * 10 + act[i]), 3);
    const v = buf.view();
    expect(Array.from(v.rewards)).toEqual([0, 11, 22, 33, 44, 55, 66]);
    expect(Array.from(v.trueRewards)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(() => buf.relabel(() => new Float32Array(1))).toThrow(/returned 1 rewards for 7/);
  });

  it('saves and loads exactly; a corrupt file is a clear error', () => {
    const buf = new ReplayBuffer(6, 2, 1);
    fill(buf, 9);
    const dir = mkdtempSync(join(tmpdir(), 'pbrl-rb-'));
    const path = join(dir, 'rb.bin');
    buf.save(path);
    const back = ReplayBuffer.load(path);
    expect(back.size).toBe(6);
    const a = buf.sample(new Rng(4), allocBatch(30, 2, 1));
    const b = back.sample(new Rng(4), allocBatch(30, 2, 1));
    expect(Array.from(b.obs)).toEqual(Array.from(a.obs));
    fill(back, 1, 100); // the write position survived the round trip: it replaces the oldest slot
    fill(buf, 1, 100);
    expect(Array.from(back.view().rewards)).toEqual(Array.from(buf.view().rewards));
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 7));
    expect(() => ReplayBuffer.load(path)).toThrow(/truncated|checksum/);
  });

  it('rejects wrong sizes and NaN rewards', () => {
    const buf = new ReplayBuffer(4, 2, 1);
    expect(() => buf.add([1], [0], 0, [1, 2], false)).toThrow(/observation length 1\/2, expected 2/);
    expect(() => buf.add([1, 2], [0, 1], 0, [1, 2], false)).toThrow(/action length 2, expected 1/);
    expect(() => buf.add([1, 2], [0], NaN, [1, 2], false)).toThrow(/reward is NaN/);
    expect(() => buf.sample(new Rng(0), allocBatch(1, 2, 1))).toThrow(/empty/);
    expect(() => new ReplayBuffer(0, 2, 1)).toThrow(/capacity must be a positive integer/);
  });
});

describe('ReplayBuffer.withCapacity', () => {
  it('keeps transitions in chronological order when growing or shrinking a wrapped buffer', () => {
    const buf = new ReplayBuffer(4, 2, 1);
    fill(buf, 6); // holds 2..5, oldest at slot 2
    const grown = buf.withCapacity(8);
    expect(Array.from(grown.view().rewards)).toEqual([2, 3, 4, 5]);
    fill(grown, 1, 6);
    expect(Array.from(grown.view().rewards)).toEqual([2, 3, 4, 5, 6]);
    expect(Array.from(buf.withCapacity(2).view().rewards)).toEqual([4, 5]);
  });
});
