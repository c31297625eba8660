/**
 * Building a SimTeacher from components and their parameters: fills defaults, checks each value
 * against its range, and refuses two components that set the same field (e.g. oracle + stoc both
 * decide beta). The spec string of the result is normalised so identical teachers share one name.
 */
import { Rng } from '../../core/rng.js';
import { defaultSimConfig, SimTeacher, type TeacherComponent, type ValueFunction } from './teacher.js';

export interface ComponentUse {
  component: TeacherComponent;
  /** Parameters given by the caller (defaults fill the rest). */
  params?: Record<string, number>;
}

export interface TeacherContext {
  /** V*(obs) for the regret teacher. */
  valueFn?: ValueFunction;
  /** Initial return margin for relative skip/equal thresholds. */
  returnMargin?: number;
}

function formatNumber(x: number): string {
  return x === Infinity ? 'inf' : String(x);
}

export function checkParam(component: TeacherComponent, key: string, value: number): void {
  const p = component.params[key];
  if (!p) {
    const allowed = Object.keys(component.params);
    throw new Error(`teacher "${component.name}" has no parameter "${key}"; ${allowed.length ? `allowed: ${allowed.join(', ')}` : 'it takes no parameters'}`);
  }
  const lowOk = p.minExclusive ? value > p.min : value >= p.min;
  const range = `${p.minExclusive ? '(' : '['}${formatNumber(p.min)}, ${formatNumber(p.max)}]`;
  if (Number.isNaN(value) || !lowOk || value > p.max) {
    throw new Error(`teacher "${component.name}": ${key} must be in ${range} (${p.description}), got ${value}`);
  }
  if (p.integer && !Number.isInteger(value)) throw new Error(`teacher "${component.name}": ${key} must be an integer in ${range}, got ${value}`);
}

/** Resolves one component's parameters: given ones checked, defaults added. */
export function resolveParams(component: TeacherComponent, given: Record<string, number> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(given)) {
    checkParam(component, k, v);
    out[k] = v;
  }
  for (const [k, p] of Object.entries(component.params)) {
    if (!(k in out) && p.default !== undefined) out[k] = p.default;
  }
  return out;
}

export function composeTeacher(uses: readonly ComponentUse[], rng: Rng, ctx: TeacherContext = {}): SimTeacher {
  if (uses.length === 0) throw new Error('a teacher spec needs at least one component');
  const cfg = defaultSimConfig();
  const owner = new Map<string, string>();
  const parts: string[] = [];
  for (const { component, params } of uses) {
    for (const f of component.sets) {
      const prev = owner.get(f);
      if (prev !== undefined) {
        throw new Error(`teachers "${prev}" and "${component.name}" both set ${f}; combine at most one of them`);
      }
      owner.set(f, component.name);
    }
    const given = params ?? {};
    const resolved = resolveParams(component, given);
    component.apply(cfg, resolved, new Set(Object.keys(given)));
    const shown = Object.keys(component.params).filter((k) => k in given || (component.params[k].default !== undefined && !conflictsWithGiven(component, k, given)));
    parts.push(shown.length ? `${component.name}:${shown.map((k) => `${k}=${formatNumber(resolved[k])}`).join(',')}` : component.name);
  }
  if (cfg.score === 'regret') cfg.valueFn = ctx.valueFn;
  const t = new SimTeacher(cfg, rng, parts.join('+'));
  if (ctx.returnMargin !== undefined) t.setReturnMargin(ctx.returnMargin);
  return t;
}

/** thresh and frac are alternatives: when thresh is given, frac's default is not part of the spec. */
function conflictsWithGiven(component: TeacherComponent, key: string, given: Record<string, number>): boolean {
  return key === 'frac' && 'thresh' in given && 'thresh' in component.params;
}
