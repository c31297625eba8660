import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';

const draw = (r: Rng, n: number) => Array.from({ length: n }, () => r.nextUint32());

describe('Rng', () => {
  it('same seed gives the same numbers, different seeds differ', () => {
    expect(draw(new Rng(42), 100)).toEqual(draw(new Rng(42), 100));
    expect(draw(new Rng(42), 100)).not.toEqual(draw(new Rng(43), 100));
    expect(draw(new Rng('abc'), 10)).toEqual(draw(new Rng('abc'), 10));
  });

  it('split streams do not depend on how much the parent has drawn', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    draw(b, 1000);
    expect(draw(a.split('env'), 50)).toEqual(draw(b.split('env'), 50));
    expect(draw(a.split('env'), 50)).not.toEqual(draw(a.split('agent'), 50));
    expect(draw(a.split(0), 50)).not.toEqual(draw(a.split(1), 50));
  });

  it('uniform, int and normal have the right ranges and moments', () => {
    const r = new Rng(1);
    const n = 200_000;
    let sum = 0;
    let sumN = 0;
    let sumN2 = 0;
    const counts = new Array(7).fill(0);
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      const z = r.normal();
      sumN += z;
      sumN2 += z * z;
      counts[r.int(7)]++;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sumN / n).toBeCloseTo(0, 1.5);
    expect(sumN2 / n).toBeCloseTo(1, 1.5);
    for (const c of counts) expect(Math.abs(c / n - 1 / 7)).toBeLessThan(0.005);
  });

  it('state round-trips so a resumed run continues the same stream', () => {
    const r = new Rng(9);
    draw(r, 17);
    r.normal(); // leaves a cached spare normal in the state
    const copy = Rng.fromState(JSON.parse(JSON.stringify(r.getState())));
    expect([copy.normal(), ...draw(copy, 20)]).toEqual([r.normal(), ...draw(r, 20)]);
  });

  it('sampleWithoutReplacement returns distinct indices and shuffle is a permutation', () => {
    const r = new Rng(3);
    const idx = Array.from(r.sampleWithoutReplacement(100, 40));
    expect(new Set(idx).size).toBe(40);
    expect(idx.every((i) => i >= 0 && i < 100)).toBe(true);
    const arr = Array.from({ length: 50 }, (_, i) => i);
    expect([...r.shuffle([...arr])].sort((a, b) => a - b)).toEqual(arr);
  });

  it('rejects bad arguments with a clear message', () => {
    expect(() => new Rng(NaN)).toThrow(/finite/);
    expect(() => new Rng(0).int(0)).toThrow(/integer n/);
    expect(() => new Rng(0).sampleWithoutReplacement(3, 4)).toThrow(/distinct/);
  });
});
