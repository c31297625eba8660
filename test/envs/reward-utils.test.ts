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
  it('is 0 at the zero corner and 1 at the one corner, whichever way the box is spanned', () => {
    const zero: [number, number, number] = [0.15, 0.1, 0.01];
    const one: [number, number, number] = [0.11, -0.1, 0.096];
    expect(rectPrismTolerance(zero, zero, one)).toBe(0);
    expect(rectPrismTolerance(one, zero, one)).toBeCloseTo(1, 12);
    // Near the zero corner the value is small; swapping the corners makes it large (peg-insert-side's bug).
    const p: [number, number, number] = [0.145, 0.09, 0.02];
    expect(rectPrismTolerance(p, zero, one)).toBeLessThan(0.01);
    expect(rectPrismTolerance(p, one, zero)).toBeGreaterThan(0.7);
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

describe('gripperCagingReward (values worked by hand from Meta-World\'s formula)', () => {
  const at = (action3: number, pads: [number, number], tcpOffset = 0) =>
    gripperCagingReward(
      {
        action: [0, 0, 0, action3],
        obj: [0, 0.6, 0.02],
        objInit: [0, 0.6, 0.02],
        tcp: [tcpOffset, 0.6, 0.02],
        initTcp: [0, 0.6, 0.2],
        leftPad: [0, 0.6 + pads[0], 0.02],
        rightPad: [0, 0.6 - pads[1], 0.02],
      },
      { objRadius: 0.015, padSuccessThresh: 0.05, objectReachRadius: 0.01, xzThresh: 0.005, highDensity: true },
    );
  it('caged (pads 3 cm either side, TCP on the object) with effort 0.5: (hamacher(1, 0.5) + 1) / 2 = 0.75', () => {
    expect(at(0.5, [0.03, 0.03])).toBeCloseTo(0.75, 12);
  });
  it('an open hand (effort <= 0) earns only the caging half', () => {
    expect(at(-1, [0.03, 0.03])).toBeCloseTo(0.5, 12);
  });
  it('y caging is symmetric in the pads (absolute offsets), unlike pick-place/sweep-into variants', () => {
    expect(at(1, [0.03, 0.04])).toBeCloseTo(at(1, [0.04, 0.03]), 12);
  });
  it('xz caging falls off with a long tail of margin |obj_init - init_tcp|_xz - xz_thresh', () => {
    // TCP 0.1 m off in x: d = (0.1 - 0.005) / (0.18 - 0.005); xz = 1 / (9 d^2 + 1); caging = hamacher(1, xz) = xz.
    const d = (0.1 - 0.005) / (0.18 - 0.005);
    const xz = 1 / (9 * d * d + 1);
    expect(at(1, [0.03, 0.03], 0.1)).toBeCloseTo(xz / 2, 12);
  });
  it('rejects high and medium density together', () => {
    expect(() =>
      gripperCagingReward(
        { action: [0, 0, 0, 1], obj: [0, 0, 0], objInit: [0, 0, 0], tcp: [0, 0, 0], initTcp: [0, 0, 1], leftPad: [0, 0.03, 0], rightPad: [0, -0.03, 0] },
        { objRadius: 0.015, padSuccessThresh: 0.05, objectReachRadius: 0.01, xzThresh: 0.005, highDensity: true, mediumDensity: true },
      ),
    ).toThrow(/exclusive/);
  });
});
