import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import {
  cutSegments, discountedSegmentReturn, extractSegment, sampleSegmentPairs, SegmentSampler, segmentReturn, subSegment,
} from '../../reward/segments.js';
import { segmentFromJSON, segmentToJSON } from '../../reward/segment-io.js';
import { countingTrajectory, makeSegment } from './helpers.js';

describe('cutting trajectories', () => {
  it('cuts non-overlapping windows with obs, actions, rewards, success, final obs and poses of the same steps', () => {
    const traj = countingTrajectory(23, { poses: true });
    const segs = cutSegments(traj, { length: 5, trajectoryId: 'ep3' });
    expect(segs.map((s) => s.source.start)).toEqual([0, 5, 10, 15]); // tail of 3 dropped
    const s = segs[2];
    expect(s.id).toBe('counting:ep3:10:5');
    expect(Array.from(s.rewards)).toEqual([10, 11, 12, 13, 14]);
    expect(Array.from(s.obs)).toEqual([10, 10, 11, 11, 12, 12, 13, 13, 14, 14]);
    expect(Array.from(s.actions)).toEqual([-10, -11, -12, -13, -14]);
    expect(Array.from(s.success)).toEqual([0, 1, 0, 1, 0]);
    expect(Array.from(s.finalObs!)).toEqual([15, 15]);
    // H + 1 pose frames: the state before each action and after the last.
    expect(s.poses!.data.length).toBe(6 * 14);
    expect(s.poses!.data[0]).toBe(10);
    expect(s.poses!.data[5 * 14]).toBe(15);
  });

  it('supports overlapping windows with a stride', () => {
    expect(cutSegments(countingTrajectory(10), { length: 4, stride: 2 }).map((s) => s.source.start)).toEqual([0, 2, 4, 6]);
  });

  it('rejects bad lengths, starts and inconsistent trajectories with the field named', () => {
    const traj = countingTrajectory(10);
    expect(() => cutSegments(traj, { length: 0 })).toThrow(/segment length must be an integer >= 1/);
    expect(() => extractSegment(traj, 8, 5)).toThrow(/start must be an integer in \[0, 5\]/);
    const broken = { ...traj, rewards: new Float32Array(3) };
    expect(() => cutSegments(broken, { length: 2 })).toThrow(/rewards has 3 values, expected length = 10/);
  });
});

describe('sampling segments', () => {
  it('draws uniform starts over eligible trajectories, reproducibly per seed', () => {
    const trajs = [countingTrajectory(30, { seed: 1 }), countingTrajectory(3, { seed: 2 }), countingTrajectory(12, { seed: 3 })];
    const sampler = new SegmentSampler(trajs, { length: 10, trajectoryIds: ['a', 'b', 'c'] });
    const rng = new Rng(5);
    const counts = new Map<string, number>();
    const starts: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const s = sampler.sample(rng);
      counts.set(String(s.source.trajectory), (counts.get(String(s.source.trajectory)) ?? 0) + 1);
      if (s.source.trajectory === 'a') starts.push(s.source.start);
      expect(s.length).toBe(10);
    }
    expect(counts.get('b')).toBeUndefined(); // too short for H = 10
    expect(counts.get('a')! / 4000).toBeCloseTo(0.5, 1);
    expect(Math.min(...starts)).toBe(0);
    expect(Math.max(...starts)).toBe(20);
    const again = sampleSegmentPairs(trajs, 5, new Rng(9), { length: 10 });
    const twice = sampleSegmentPairs(trajs, 5, new Rng(9), { length: 10 });
    expect(again.map(([a, b]) => a.id + b.id)).toEqual(twice.map(([a, b]) => a.id + b.id));
  });

  it('explains when no trajectory is long enough', () => {
    expect(() => new SegmentSampler([countingTrajectory(5)], { length: 50 })).toThrow(/no trajectory is at least 50 steps long.*longest 5/);
  });
});

describe('returns and sub-segments', () => {
  it('myopic weights are gamma^(H-1-t): the last step counts fully', () => {
    const H = 6;
    for (let t = 0; t < H; t++) {
      const r = new Float32Array(H);
      r[t] = 1;
      expect(discountedSegmentReturn(makeSegment(r), 0.9)).toBeCloseTo(0.9 ** (H - 1 - t), 6);
    }
    expect(segmentReturn(makeSegment([1, 2, 3]))).toBe(6);
  });

  it('sub-segments keep their place in the trajectory', () => {
    const seg = extractSegment(countingTrajectory(40, { poses: true }), 10, 20, 'x');
    const c = subSegment(seg, 5, 10);
    expect(c.id).toBe('counting:x:15:10');
    expect(c.rewards[0]).toBe(15);
    expect(Array.from(c.finalObs!)).toEqual([25, 25]);
    expect(c.poses!.data[0]).toBe(15);
    expect(() => subSegment(seg, 15, 10)).toThrow(/offset must be an integer in \[0, 10\]/);
  });
});

describe('segments as JSON', () => {
  it('round-trips every field and rejects damaged records', () => {
    const seg = extractSegment(countingTrajectory(30, { poses: true }), 4, 6, 'ep1');
    const back = segmentFromJSON(JSON.parse(JSON.stringify(segmentToJSON(seg))));
    expect(back).toEqual(seg);
    const j = segmentToJSON(seg);
    expect(() => segmentFromJSON({ ...j, length: 7 }, 'seg')).toThrow(/seg.obs has 12 values, expected length \* obsDim = 14/);
    expect(() => segmentFromJSON({ ...j, obs: 5 })).toThrow(/segment.obs must be a string/);
  });
});
