import { describe, expect, it } from 'vitest';
import { Box, boxFromJSON } from '../../core/spaces.js';
import { Rng } from '../../core/rng.js';

describe('Box', () => {
  const box = new Box(-1, 1, [4]);

  it('samples inside its bounds, reproducibly', () => {
    const a = box.sample(new Rng(0));
    expect(box.contains(a)).toBe(true);
    expect(Array.from(box.sample(new Rng(0)))).toEqual(Array.from(a));
  });

  it('clips and checks membership', () => {
    expect(Array.from(box.clip([2, -3, 0.5, 1]))).toEqual([1, -1, 0.5, 1]);
    expect(box.contains([0, 0, 0])).toBe(false);
    expect(box.contains([0, 0, 0, 1.5])).toBe(false);
  });

  it('names the problem in invalid input', () => {
    expect(() => box.assertValid([0, 0, 0], 'action')).toThrow(/action has length 3, expected 4/);
    expect(() => box.assertValid([0, NaN, 0, 0], 'action')).toThrow(/action\[1\] is NaN/);
    expect(() => new Box([0, 1], [1, 0])).toThrow(/low 1 > high 0/);
  });

  it('round-trips through JSON including infinite bounds', () => {
    const obs = new Box(-Infinity, Infinity, [3]);
    const back = boxFromJSON(JSON.parse(JSON.stringify(obs)));
    expect(back.low[0]).toBe(-Infinity);
    expect(back.high[2]).toBe(Infinity);
    expect(back.shape).toEqual([3]);
  });
});
