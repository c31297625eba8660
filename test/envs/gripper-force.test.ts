/** The finger squeeze follows Meta-World's kp = 400 position servo up to the measured Rapier cap. */
import { describe, expect, it } from 'vitest';
import { gripForce } from '../../envs/robot.js';

/** Meta-World (xyz_base.xml): position actuator, kp 400, ctrl = effort, joint q = travel from open. */
const metaWorldForce = (effort: number, q: number) => 400 * (effort - q);

describe('gripForce', () => {
  it("equals Meta-World's servo force where that is at most 30 N", () => {
    for (const [e, q] of [[0.05, 0.01], [0.1, 0.03], [0.08, 0.02], [0.03, 0.0]]) {
      expect(gripForce(e, q)).toBeCloseTo(metaWorldForce(e, q), 10);
    }
  });
  it('is capped at 30 N (Meta-World: ~390 N at full effort) and never pulls the fingers open', () => {
    expect(metaWorldForce(1, 0.025)).toBeCloseTo(390, 6);
    expect(gripForce(1, 0.025)).toBe(30);
    expect(gripForce(0.6, 0.02)).toBe(30);
    expect(gripForce(0.01, 0.03)).toBe(0);
  });
});
