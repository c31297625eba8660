import { describe, expect, it } from 'vitest';
import { gripperCagingReward, hamacherProduct, rectPrismTolerance, tolerance } from '../../envs/reward-utils.js';

describe('tolerance', () => {
  it('is 1 inside the bounds and value_at_margin one margin away', () => {
    expect(tolerance(0.5, [0, 1], 0.5, 'long_tail')).toBe(1);
    expect(tolerance(1.5, [0, 1], 0.5, 'long_tail')).toBeCloseTo(0.1, 12);
    expect(tolerance(-0.5, [0, 1], 0.5, 'gaussian')).toBeCloseTo(0.1, 12);
    expect(tolerance(2, [0, 1], 1, 'reciprocal')).toBeCloseTo(0.1, 12);
  });
  it('long_tail matches 1 / (9 d^2 + 1) at value 0.1', () => {
    const d = 0.37;
    expect(tolerance(1 + d * 2, [0, 1], 2, 'long_tail')).toBeCloseTo(1 / (9 * d * d + 1), 12);
  });
  it('is a hard indicator with zero margin', () => {
    expect(tolerance(1.01, [0, 1], 0)).toBe(0);
  });
  it('rejects bad bounds and margins', () => {
    expect(() => tolerance(0, [1, 0])).toThrow(/lower bound/);
    expect(() => tolerance(0, [0, 1], -1)).toThrow(/margin/);
  });
});

describe('hamacherProduct', () => {
  it('is a soft AND', () => {
    expect(hamacherProduct(1, 1)).toBe(1);
    expect(hamacherProduct(0, 0.7)).toBe(0);
    expect(hamacherProduct(0, 0)).toBe(0);
    expect(hamacherProduct(0.5, 0.5)).toBeCloseTo(0.25 / 0.75, 12);
  });
  it('rejects inputs outside [0, 1]', () => {
    expect(() => hamacherProduct(1.2, 0.5)).toThrow(/\[0, 1\]/);
  });
});

describe('rectPrismTolerance', () => {
  it('is the product of fractional positions inside, 1 outside', () => {
    expect(rectPrismTolerance([0.5, 0.5, 0.5], [0, 0, 0], [1, 1, 1])).toBeCloseTo(0.125, 12);
    expect(rectPrismTolerance([2, 0.5, 0.5], [0, 0, 0], [1, 1, 1])).toBe(1);
  });
});

describe('gripperCagingReward', () => {
  const base = {
    obj: [0, 0.6, 0.02] as [number, number, number],
    objInit: [0, 0.6, 0.02] as [number, number, number],
    initTcp: [0, 0.6, 0.17] as [number, number, number],
  };
  it('rewards pads around the object with the gripper closed more than a distant open hand', () => {
    const caged = gripperCagingReward(
      { ...base, action: [0, 0, 0, 1], tcp: [0, 0.6, 0.02], leftPad: [0, 0.63, 0.02], rightPad: [0, 0.57, 0.02] },
      { objRadius: 0.015, padSuccessThresh: 0.05, objectReachRadius: 0.01, xzThresh: 0.005, highDensity: true },
    );
    const far = gripperCagingReward(
      { ...base, action: [0, 0, 0, -1], tcp: [0.2, 0.6, 0.2], leftPad: [0.2, 0.75, 0.2], rightPad: [0.2, 0.65, 0.2] },
      { objRadius: 0.015, padSuccessThresh: 0.05, objectReachRadius: 0.01, xzThresh: 0.005, highDensity: true },
    );
    expect(caged).toBeGreaterThan(0.9);
    expect(far).toBeLessThan(0.2);
    expect(far).toBeGreaterThanOrEqual(0);
  });
});
