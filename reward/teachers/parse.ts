/**
 * Teacher spec strings: components joined by '+', each `name` or `name:key=value,key=value`
 * (values are numbers, `inf` allowed). Examples: `oracle`, `stoc:beta=1`, `mistake:eps=0.1`,
 * `skip:thresh=2+stoc:beta=1`, `myopic:gamma=0.9`, `regret+stoc:beta=5`, `rating:classes=4,lo=0,hi=50`.
 */
import { Rng } from '../../core/rng.js';
import { composeTeacher, resolveParams, type TeacherContext } from './compose.js';
import { equal } from './equal.js';
import { mistake } from './mistake.js';
import { myopic } from './myopic.js';
import { oracle } from './oracle.js';
import { rating, ReturnRatingTeacher } from './rating.js';
import { regret } from './regret.js';
import { skip } from './skip.js';
import { stochastic } from './stochastic.js';
import type { SimTeacher, TeacherComponent } from './teacher.js';

export const TEACHER_COMPONENTS: readonly TeacherComponent[] = [oracle, stochastic, mistake, skip, equal, myopic, regret];

/** The B-Pref teachers by name, with their default parameters (BPref README). */
export const BPREF_TEACHERS: Readonly<Record<string, string>> = {
  oracle: 'oracle',
  stoc: 'stoc:beta=1',
  mistake: 'mistake:eps=0.1',
  skip: 'skip:frac=0.1',
  equal: 'equal:frac=0.1',
  myopic: 'myopic:gamma=0.9',
};

function findComponent(name: string, pool: readonly TeacherComponent[]): TeacherComponent | undefined {
  return pool.find((c) => c.name === name || c.aliases?.includes(name));
}

interface ParsedPart {
  name: string;
  params: Record<string, number>;
}

function parseNumber(raw: string, where: string): number {
  const s = raw.trim().toLowerCase();
  if (s === 'inf' || s === 'infinity' || s === '+inf') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  const x = Number(s);
  if (s === '' || Number.isNaN(x)) throw new Error(`${where}: "${raw}" is not a number`);
  return x;
}

/** Splits a spec into components without deciding what they mean. */
export function parseSpecParts(spec: string): ParsedPart[] {
  if (typeof spec !== 'string' || spec.trim() === '') throw new Error('teacher spec is empty; expected e.g. "oracle" or "skip:frac=0.1+stoc:beta=1"');
  return spec.split('+').map((raw, i) => {
    const part = raw.trim();
    if (part === '') throw new Error(`teacher spec "${spec}": component ${i + 1} is empty (stray "+")`);
    const colon = part.indexOf(':');
    const name = (colon < 0 ? part : part.slice(0, colon)).trim().toLowerCase();
    const params: Record<string, number> = {};
    if (colon >= 0) {
      const body = part.slice(colon + 1);
      if (body.trim() === '') throw new Error(`teacher spec "${spec}": "${name}:" has no parameters after the colon`);
      for (const kv of body.split(',')) {
        const eq = kv.indexOf('=');
        if (eq < 0) throw new Error(`teacher spec "${spec}": parameter "${kv.trim()}" of "${name}" needs the form key=value`);
        const key = kv.slice(0, eq).trim();
        if (key === '') throw new Error(`teacher spec "${spec}": a parameter of "${name}" has no name`);
        if (key in params) throw new Error(`teacher spec "${spec}": parameter "${key}" of "${name}" is given twice`);
        params[key] = parseNumber(kv.slice(eq + 1), `teacher spec "${spec}", ${name}.${key}`);
      }
    }
    return { name, params };
  });
}

/** Builds a preference teacher from a spec. ctx supplies V* for `regret` and an initial return margin. */
export function parseTeacher(spec: string, rng: Rng, ctx: TeacherContext = {}): SimTeacher {
  const parts = parseSpecParts(spec);
  const seen = new Set<string>();
  const uses = parts.map(({ name, params }) => {
    if (name === 'rating') throw new Error(`teacher spec "${spec}": "rating" rates single segments; use parseRatingTeacher`);
    const component = findComponent(name, TEACHER_COMPONENTS);
    if (!component) {
      throw new Error(`teacher spec "${spec}": unknown teacher "${name}"; known: ${TEACHER_COMPONENTS.map((c) => c.name).join(', ')} (and rating, via parseRatingTeacher)`);
    }
    if (seen.has(component.name)) throw new Error(`teacher spec "${spec}": "${component.name}" appears twice`);
    seen.add(component.name);
    return { component, params };
  });
  return composeTeacher(uses, rng, ctx);
}

export function parseRatingTeacher(spec: string, rng: Rng = new Rng(0)): ReturnRatingTeacher {
  const parts = parseSpecParts(spec);
  if (parts.length !== 1 || parts[0].name !== 'rating') {
    throw new Error(`rating teacher spec "${spec}" must be a single "rating:classes=k[,lo=..,hi=..]" component`);
  }
  const p = resolveParams(rating, parts[0].params);
  return new ReturnRatingTeacher({ classes: p.classes, lo: p.lo, hi: p.hi }, rng);
}

/** One line per teacher component with its parameters, for --help texts. */
export function describeTeachers(): string {
  return [...TEACHER_COMPONENTS, rating]
    .map((c) => {
      const ps = Object.entries(c.params).map(([k, p]) => `${k}${p.default !== undefined ? `=${p.default}` : ''}`);
      return `${c.name}${ps.length ? `:${ps.join(',')}` : ''}  ${c.description}`;
    })
    .join('\n');
}
