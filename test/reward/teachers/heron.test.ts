/**
 * HERON's teacher: comparisons follow the factor ranking on constructed cases — the first factor
 * outside its margin decides, whatever the later ones say; ties pass down; lower-is-better factors
 * flip; all ties are "equal"; missing factors are clear errors. Also the factors' path from the env's
 * info through the recorder into segments.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/backend.js';
import { Rng } from '../../../core/rng.js';
import { makeEnv } from '../../../envs/registry.js';
import { EpisodeRecorder } from '../../../envs/recorder.js';
import { extractSegment, segmentReturn } from '../../../reward/segments.js';
import { HeronConfigSchema, HeronTeacher, segmentFactor } from '../../../reward/teachers/heron.js';
import { labelPairs } from '../../../reward/teachers/teacher.js';
import { makeSegment } from '../helpers.js';

beforeAll(async () => {
  await initBackend();
});

const NAMES = ['success', 'in_place_reward', 'obj_to_target'];

/** A 4-step segment whose factor sums are the given [success, in_place, dist] (spread evenly over the steps). */
function seg(sums: [number, number, number], id: string) {
  const s = makeSegment([0, 0, 0, 0], { id });
  const data = new Float32Array(4 * 3);
  for (let t = 0; t < 4; t++) for (let j = 0; j < 3; j++) data[t * 3 + j] = sums[j] / 4;
  return { ...s, factors: { names: [...NAMES], data } };
}

describe('HERON comparisons', () => {
  const heron = () => new HeronTeacher({ factors: ['success', 'in_place_reward', '-obj_to_target'], margin: 0.1 });

  it('the most important factor outside its margin decides, whatever the less important ones say', () => {
    const t = heron();
    // More success wins although it is worse on both lower factors.
    expect(t.label(seg([2, 1, 9], 'a'), seg([0, 3, 1], 'b'))).toBe(1);
    expect(t.label(seg([0, 3, 1], 'b'), seg([2, 1, 9], 'a'))).toBe(0);
    // Success tied (both 0): in-place decides, against the distance.
    expect(t.label(seg([0, 3, 9], 'c'), seg([0, 2, 1], 'd'))).toBe(1);
    // Success and in-place within 10%: distance decides, lower is better.
    expect(t.label(seg([0, 3, 2], 'e'), seg([0, 3.2, 1], 'f'))).toBe(0);
    expect(t.label(seg([0, 3.2, 1], 'f'), seg([0, 3, 2], 'e'))).toBe(1);
    // Everything within its margin: equally preferable.
    expect(t.label(seg([1, 3, 2], 'g'), seg([1, 3.1, 2.1], 'h'))).toBe(0.5);
    expect(t.decidedBy).toEqual([2, 1, 2, 1]);
  });

  it('the margin is relative to the larger of the two sums; margin 0 ties only on equal sums', () => {
    const t = heron();
    // 10 vs 11.2 in-place: 1.2 > 0.1 x 11.2, decided; 10 vs 11 is exactly at the margin: passed down.
    expect(t.label(seg([0, 11.2, 5], 'a'), seg([0, 10, 1], 'b'))).toBe(1);
    expect(t.label(seg([0, 11, 5], 'a'), seg([0, 10, 1], 'b'))).toBe(0);
    const strict = new HeronTeacher({ factors: ['in_place_reward'], margin: 0 });
    expect(strict.label(seg([0, 1.01, 0], 'a'), seg([0, 1, 0], 'b'))).toBe(1);
    expect(strict.label(seg([0, 1, 0], 'a'), seg([0, 1, 0], 'b'))).toBe(0.5);
  });

  it('reads summed factors, labels through labelPairs with its spec, and names what is missing', () => {
    const t = heron();
    expect(segmentFactor(seg([1, 2, 3], 'a'), 'obj_to_target')).toBeCloseTo(3, 6);
    expect(t.spec).toBe('heron:success>in_place_reward>-obj_to_target,margin=0.1');
    expect(t.keys).toEqual(NAMES);
    const [l] = labelPairs(t, [[seg([1, 0, 0], 'x'), seg([0, 0, 0], 'y')]]);
    expect(l).toMatchObject({ a: 'x', b: 'y', label: 1, teacher: t.spec });
    expect(() => t.label(makeSegment([0, 0]), makeSegment([0, 0]))).toThrow(/has no reward factors/);
    const other = { ...seg([1, 1, 1], 'z'), factors: { names: ['grasp_reward'], data: new Float32Array(4) } };
    expect(() => t.label(other, other)).toThrow(/has no factor "success" \(it has grasp_reward\)/);
    expect(HeronConfigSchema.parse({})).toEqual({ factors: ['success', 'in_place_reward', '-obj_to_target'], margin: 0.1 });
    expect(() => HeronConfigSchema.parse({ factors: [] })).toThrow();
    expect(() => HeronConfigSchema.parse({ factors: ['in place'] })).toThrow(/info key/);
  });
});

describe('reward factors from the env', () => {
  it('the recorder stores the requested info keys per step and segments slice them with the steps', async () => {
    const env = await makeEnv('reach', { maxPathLength: 30, goalObservable: true });
    const rec = new EpisodeRecorder(env, false, ['in_place_reward', 'obj_to_target']);
    const rng = new Rng(3);
    rec.start(env.reset({ seed: 4 }).obs, 4);
    for (let t = 0; t < 30; t++) {
      const a = env.actionSpace.sample(rng);
      rec.record(a, env.step(a));
    }
    const traj = rec.finish();
    expect(traj.factors!.names).toEqual(['in_place_reward', 'obj_to_target']);
    expect(traj.factors!.data.length).toBe(60);
    const s = extractSegment(traj, 10, 8);
    expect(s.factors!.data.length).toBe(16);
    // reach's reward is 10 x in_place_reward: the factor sum matches the segment's true return.
    expect(10 * segmentFactor(s, 'in_place_reward')).toBeCloseTo(segmentReturn(s), 3);
    const bad = new EpisodeRecorder(env, false, ['no_such_key']);
    bad.start(env.reset({ seed: 5 }).obs, 5);
    expect(() => bad.record(env.actionSpace.sample(rng), env.step(env.actionSpace.sample(rng)))).toThrow(/info has no numeric "no_such_key"/);
    env.close();
  });
});
