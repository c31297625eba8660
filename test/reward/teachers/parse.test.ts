import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/rng.js';
import { BPREF_TEACHERS, describeTeachers, labelPairs, parseRatingTeacher, parseTeacher } from '../../../reward/teachers/index.js';
import { makeSegment } from '../helpers.js';

describe('teacher spec parser', () => {
  it('builds every B-Pref teacher with its default parameters', () => {
    const cfgs = Object.fromEntries(Object.entries(BPREF_TEACHERS).map(([k, spec]) => [k, parseTeacher(spec, new Rng(0)).config]));
    expect(cfgs.oracle).toMatchObject({ beta: Infinity, gamma: 1, eps: 0, skip: null, equal: null });
    expect(cfgs.stoc).toMatchObject({ beta: 1, gamma: 1, eps: 0 });
    expect(cfgs.mistake).toMatchObject({ beta: Infinity, eps: 0.1 });
    expect(cfgs.skip).toMatchObject({ beta: Infinity, skip: { kind: 'relative', frac: 0.1 } });
    expect(cfgs.equal).toMatchObject({ beta: Infinity, equal: { kind: 'relative', frac: 0.1 } });
    expect(cfgs.myopic).toMatchObject({ beta: Infinity, gamma: 0.9 });
  });

  it('fills defaults, accepts aliases, inf and spaces, and normalises the spec', () => {
    expect(parseTeacher('stoc', new Rng(0)).spec).toBe('stoc:beta=1');
    expect(parseTeacher(' noisy : beta = inf ', new Rng(0)).config.beta).toBe(Infinity);
    const t = parseTeacher('skip:thresh=2+stoc:beta=1', new Rng(0));
    expect(t.spec).toBe('skip:thresh=2+stoc:beta=1');
    expect(t.config.skip).toEqual({ kind: 'absolute', value: 2 });
    // A relative threshold is frac x the return margin given in the context.
    const eq = parseTeacher('equal', new Rng(0), { returnMargin: 10 });
    expect(eq.thresholdValue(eq.config.equal!, 'equal')).toBeCloseTo(1, 6);
  });

  it('a normalised spec parses back to the same teacher', () => {
    const valueFn = () => 0;
    for (const spec of ['oracle', 'stoc', 'skip:thresh=2+stoc:beta=0.5', 'equal+mistake:eps=0.2+myopic', 'regret+stoc:beta=inf']) {
      const t = parseTeacher(spec, new Rng(0), { valueFn });
      const again = parseTeacher(t.spec, new Rng(0), { valueFn });
      expect(again.spec).toBe(t.spec);
      expect(again.config).toEqual(t.config);
    }
  });

  it('labels carry the spec as the teacher name', () => {
    const t = parseTeacher('mistake:eps=0', new Rng(0));
    const a = makeSegment([1]);
    const b = makeSegment([0]);
    expect(labelPairs(t, [[a, b]])).toEqual([{ a: a.id, b: b.id, label: 1, teacher: 'mistake:eps=0' }]);
  });

  it.each([
    ['', /teacher spec is empty/],
    ['wizard', /unknown teacher "wizard"; known: oracle, stoc, mistake, skip, equal, myopic, regret/],
    ['stoc:temperature=1', /teacher "stoc" has no parameter "temperature"; allowed: beta/],
    ['stoc:beta=-1', /stoc": beta must be in \[0, inf\]/],
    ['stoc:beta=abc', /stoc.beta: "abc" is not a number/],
    ['stoc:beta', /needs the form key=value/],
    ['stoc:', /has no parameters after the colon/],
    ['mistake:eps=1.5', /eps must be in \[0, 1\]/],
    ['myopic:gamma=0', /gamma must be in \(0, 1\]/],
    ['oracle+stoc', /"oracle" and "stoc" both set beta/],
    ['stoc+stoc', /"stoc" appears twice/],
    ['stoc+', /component 2 is empty/],
    ['stoc:beta=1,beta=2', /given twice/],
    ['skip:thresh=1,frac=0.1', /either thresh or frac, not both/],
    ['oracle:beta=1', /takes no parameters/],
    ['rating', /rates single segments; use parseRatingTeacher/],
  ])('rejects %j', (spec, msg) => {
    expect(() => parseTeacher(spec, new Rng(0))).toThrow(msg);
  });

  it('parses rating teachers and lists all teachers for help texts', () => {
    const r = parseRatingTeacher('rating:classes=4,lo=0,hi=8');
    expect(r.classes).toBe(4);
    expect(r.spec).toBe('rating:classes=4,lo=0,hi=8');
    expect(() => parseRatingTeacher('rating:classes=1')).toThrow(/classes must be in \[2, 100\]/);
    expect(() => parseRatingTeacher('rating:classes=2.5')).toThrow(/classes must be an integer/);
    expect(() => parseRatingTeacher('stoc')).toThrow(/must be a single "rating/);
    expect(describeTeachers()).toMatch(/^stoc:beta=1 /m);
  });
});
