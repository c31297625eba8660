/** Suite specs: refusals naming the field, cell expansion, ids that follow the resolved config. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_SUITES } from '../../../experiments/bench/builtin.js';
import { loadPlan } from '../../../experiments/bench/results.js';
import { canonicalJson, expandSuite, parseSuite, type SuiteSpec } from '../../../experiments/bench/suite.js';

const base = (): SuiteSpec => ({
  name: 't',
  axes: { algo: ['sac', 'pebble'], task: ['reach'], seed: [0, 1], teacher: ['oracle', 'stoc', 'mistake:eps=0.2'], feedback: [100, { maxFeedback: 200, queriesPerRound: 20 }] },
  steps: 500,
  config: { maxPathLength: 50, sac: { hiddenDims: [16, 16] } },
});

const expand = (s: SuiteSpec) => expandSuite(parseSuite(s));

describe('suite schema', () => {
  it('refuses bad suites before anything runs, naming the field', () => {
    const bad = (mut: (s: SuiteSpec) => void) => {
      const s = base();
      mut(s);
      return () => expand(s);
    };
    expect(bad((s) => (s.axes.task = ['reach', 'no-such-task']))).toThrow(/axes\.task\.1: unknown task; valid tasks: reach/);
    expect(bad((s) => (s.axes.algo = ['sac', 'ppo']))).toThrow(/axes\.algo\.1: unknown algorithm; online: sac, pebble, surf/);
    expect(bad((s) => (s.axes.teacher = ['oracle', 'wizard']))).toThrow(/axes\.teacher\.1: unknown or invalid teacher "wizard"/);
    expect(bad((s) => (s.axes.teacher = ['stoc:beta=x']))).toThrow(/axes\.teacher\.0: .*not a number/);
    expect(bad((s) => (s.axes.seed = []))).toThrow(/axes\.seed: must list at least one value/);
    expect(bad((s) => (s.axes.query = []))).toThrow(/axes\.query: must list at least one value/);
    expect(bad((s) => (s.axes.query = ['psychic']))).toThrow(/axes\.query\.0: unknown query strategy/);
    expect(bad((s) => ((s as Record<string, unknown>).stpes = 3))).toThrow(/\(root\): Unrecognized key: "stpes"/);
    expect(bad((s) => (s.axes.algo = ['sac', 'cpl']))).toThrow(/axes\.algo: mixes online \(sac\) and offline \(cpl\)/);
    expect(bad((s) => (s.algoConfig = { surf: {} }))).toThrow(/algoConfig\.surf: "surf" is not in axes\.algo/);
    // A field only the train config knows is checked through the train config's own schema.
    expect(bad((s) => (s.config = { sac: { hiddenDims: [0] } }))).toThrow(/cell sac \/ reach \/ seed 0: invalid training config:\s+sac\.hiddenDims\.0/);
    expect(bad((s) => (s.config = { batchSize: -1 }))).toThrow(/batchSize: Too small/);
  });

  it('refuses a file that is not JSON or not a suite, and an unknown suite name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbrl-suite-'));
    writeFileSync(join(dir, 'broken.json'), '{"name": "x", ');
    expect(() => loadPlan(join(dir, 'broken.json'))).toThrow(/broken\.json is not valid JSON/);
    writeFileSync(join(dir, 'empty-task.json'), JSON.stringify({ ...base(), axes: { ...base().axes, task: [] } }));
    expect(() => loadPlan(join(dir, 'empty-task.json'))).toThrow(/invalid suite file .*empty-task\.json:\n\s+axes\.task: must list at least one value/);
    expect(() => loadPlan('no-such-suite')).toThrow(/neither a built-in suite \(quick, bpref/);
  });
});

describe('cell expansion', () => {
  it('crosses the axes, collapsing the ones an algorithm does not read', () => {
    const plan = expand(base());
    const sac = plan.cells.filter((c) => c.axes.algo === 'sac');
    const pebble = plan.cells.filter((c) => c.axes.algo === 'pebble');
    expect(sac).toHaveLength(2); // one per seed: SAC reads no teacher or budget
    expect(pebble).toHaveLength(2 * 3 * 2);
    expect(new Set(plan.cells.map((c) => c.id)).size).toBe(plan.cells.length);
    const p = pebble.find((c) => c.axes.teacher === 'stoc' && c.axes.feedback === 200 && c.axes.seed === 1)!;
    expect(p.group).toBe('pebble/stoc/200');
    expect(sac[0].group).toBe('sac');
    const fb = (p.trainConfig.reward as { feedback: Record<string, unknown> }).feedback;
    expect(fb).toMatchObject({ teacher: 'stoc:beta=1', maxFeedback: 200, queriesPerRound: 20, strategy: 'disagreement' });
    expect(p.trainConfig).toMatchObject({ algo: 'pebble', task: 'reach', seed: 1, steps: 500, maxPathLength: 50, sac: { hiddenDims: [16, 16] } });
    expect(typeof p.axes.goalObservable).toBe('boolean');
  });

  it('expands named variants for the algorithms they list, applied over every other override', () => {
    const s: SuiteSpec = {
      ...base(),
      axes: { algo: ['sac', 'pebble'], task: ['reach'], seed: [0], teacher: ['oracle'], variant: ['learned', 'true-reward'] },
      algoConfig: { pebble: { pebble: { unsupSteps: 100 } } },
      variants: {
        learned: { algos: ['pebble'], config: {} },
        'true-reward': { algos: ['pebble'], config: { pebble: { rewardSource: 'true' } } },
      },
    };
    const plan = expand(s);
    expect(plan.cells.map((c) => c.group).sort()).toEqual(['pebble/oracle/learned', 'pebble/oracle/true-reward', 'sac']);
    const t = plan.cells.find((c) => c.axes.variant === 'true-reward')!;
    expect(t.trainConfig.pebble).toMatchObject({ rewardSource: 'true', unsupSteps: 100 });
    expect(plan.cells.find((c) => c.axes.variant === 'learned')!.trainConfig.pebble).toMatchObject({ rewardSource: 'learned', unsupSteps: 100 });
    expect(plan.cells.find((c) => c.axes.algo === 'sac')!.axes.variant).toBeUndefined();
    // Refusals name the field.
    expect(() => expand({ ...s, axes: { ...s.axes, variant: ['learned', 'nope'] } })).toThrow(/axes\.variant: "nope" is not defined in variants/);
    expect(() => expand({ ...s, variants: { ...s.variants, extra: { config: {} } } })).toThrow(/variants\.extra: "extra" is not in axes\.variant/);
    expect(() => expand({ ...s, variants: { ...s.variants, learned: { algos: ['surf'], config: {} } } })).toThrow(/variants\.learned\.algos: "surf" is not in axes\.algo/);
    expect(() => expand({ ...s, variants: { ...s.variants, learned: { config: { pebble: { rewardSource: 'maybe' } } } } })).toThrow(/variant learned: invalid training config/);
  });

  it('gives a cell the same id whatever the key order, and a new id when its resolved config changes', () => {
    const a = expand(base());
    const reordered = JSON.parse(JSON.stringify(base()));
    reordered.config = { sac: { hiddenDims: [16, 16] }, maxPathLength: 50 };
    reordered.axes = { seed: [1, 0], teacher: reordered.axes.teacher, feedback: reordered.axes.feedback, task: ['reach'], algo: ['pebble', 'sac'] };
    const b = expand(reordered);
    expect(new Set(b.cells.map((c) => c.id))).toEqual(new Set(a.cells.map((c) => c.id)));

    // A default written out explicitly is the same resolved config, so the same cell.
    const explicit = expand({ ...base(), config: { ...base().config, batchSize: 512 } });
    expect(new Set(explicit.cells.map((c) => c.id))).toEqual(new Set(a.cells.map((c) => c.id)));

    // Any change that reaches a cell's config changes exactly those cells' ids.
    const pebbleLr = expand({ ...base(), algoConfig: { pebble: { reward: { model: { lr: 1e-3 } } } } });
    const before = new Map(a.cells.map((c) => [canonicalJson(c.axes), c.id]));
    for (const c of pebbleLr.cells) {
      const old = before.get(canonicalJson(c.axes));
      if (c.axes.algo === 'sac') expect(c.id).toBe(old);
      else expect(c.id).not.toBe(old);
    }
    const moreSteps = expand({ ...base(), steps: 501 });
    expect(moreSteps.cells.every((c) => !before.has(canonicalJson(c.axes)) || before.get(canonicalJson(c.axes)) !== c.id)).toBe(true);
  });

  it('expands every built-in suite; quick is smoke-scale and chooses goal visibility on purpose', () => {
    for (const [name, spec] of Object.entries(BUILTIN_SUITES)) {
      const plan = expand(spec);
      expect(plan.cells.length, name).toBeGreaterThan(0);
      if (plan.cells[0].kind === 'offline') {
        expect(plan.datasets.length, name).toBe(new Set(plan.cells.map((c) => c.dataset!.id)).size);
        for (const c of plan.cells) expect(c.trainConfig.dataset).toBe(c.dataset!.path);
      }
    }
    const quick = expand(BUILTIN_SUITES.quick);
    expect(quick.suite.smokeScale).toBe(true);
    expect(quick.cells.every((c) => c.axes.goalObservable)).toBe(true);
    expect(new Set(quick.cells.map((c) => c.group))).toEqual(new Set(['sac', 'pebble/oracle', 'pebble/stoc']));
    const bpref = expand(BUILTIN_SUITES.bpref);
    expect(bpref.cells).toHaveLength(2 * 10 * (1 + 6 * 2)); // tasks x seeds x (SAC + teachers x budgets)
    const cpl = expand(BUILTIN_SUITES['offline-cpl']);
    expect(new Set(cpl.cells.map((c) => c.group)).size).toBe(6 * 2); // bc, sft, percent-bc, iql, cpl, ipl x dense/sparse
  });
});

describe('dataset jobs', () => {
  it('pass the reference recipe (SAC behaviour policy, SAC-critic V) to pbrl dataset make, and the scripted mix otherwise', async () => {
    const { datasetMakeArgs } = await import('../../../experiments/bench/cell.js');
    const flag = (args: string[], f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
    const sacPlan = loadPlan('offline-cpl');
    const sac = datasetMakeArgs(sacPlan.datasets[0]);
    // `{task}` is filled in by pbrl dataset make (experiments/datasets/make.ts).
    expect(flag(sac, '--policy')).toBe('sac/{task}');
    expect(flag(sac, '--action-noise')).toBe('0.3');
    expect(flag(sac, '--value-from')).toBe('sac/{task}');
    expect(sac).not.toContain('--noise');
    const mix = datasetMakeArgs(loadPlan('offline-cpl-scripted-reduced').datasets[0]);
    expect(flag(mix, '--noise')).toMatch(/^[\d.]+(,[\d.]+)*$/);
    expect(mix).not.toContain('--policy');
    expect(mix).not.toContain('--value-from');
  });

  it('carry every dataset option of every built-in suite: the flags parse back to the same options', async () => {
    const { datasetMakeArgs } = await import('../../../experiments/bench/cell.js');
    const { Command } = await import('commander');
    const { register, makeOptionsFromCli } = await import('../../../experiments/commands/dataset.js');
    const { MakeDatasetSchema } = await import('../../../experiments/datasets/make.js');
    let checked = 0;
    for (const name of Object.keys(BUILTIN_SUITES)) {
      for (const ds of loadPlan(name).datasets) {
        const program = new Command().exitOverride();
        register(program);
        let parsed: Record<string, unknown> | undefined;
        program.commands.find((c) => c.name() === 'dataset')!.commands.find((c) => c.name() === 'make')!.action((o) => {
          parsed = o;
        });
        await program.parseAsync(datasetMakeArgs(ds), { from: 'user' });
        // `noise` (the scripted mix) is not read when a SAC policy replaces the mix, and the CLI refuses both.
        const unused = (o: Record<string, unknown>) => (o.policy === undefined ? o : { ...o, noise: 'unused' });
        expect(unused(MakeDatasetSchema.parse(makeOptionsFromCli(parsed as never))), `${name} / ${ds.id}`).toEqual(unused(ds.options));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
