/** `pbrl envs` and `pbrl rollout` driven through commander, as the CLI does. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { register as registerEnvs } from '../../experiments/commands/envs.js';
import { register as registerRollout } from '../../experiments/commands/rollout.js';
import { loadTrajectories } from '../../envs/trajectory-file.js';
import { taskNames } from '../../envs/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'pbrl-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerEnvs(program);
  registerRollout(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await program.parseAsync(['node', 'pbrl', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

describe('pbrl envs', () => {
  it('lists every registered task with a description', async () => {
    const out = await run(['envs']);
    for (const name of taskNames()) expect(out).toMatch(new RegExp(`^${name}\\s`, 'm'));
    // Tasks whose hidden goal cannot be inferred are flagged.
    expect(out).toMatch(/^reach\s+MT10\s+goal-blind\s/m);
    expect(out).toMatch(/^door-open\s+MT10\s+(?!goal-blind)\S/m);
  });

  it('--json carries mt10 and goalInferable per task', async () => {
    const rows = JSON.parse(await run(['envs', '--json'])) as { name: string; mt10: boolean; goalInferable: boolean }[];
    expect(rows.map((r) => r.name)).toEqual(taskNames());
    expect(rows.find((r) => r.name === 'reach')!.goalInferable).toBe(false);
    expect(rows.find((r) => r.name === 'drawer-open')!.goalInferable).toBe(true);
  });
});

describe('pbrl rollout', () => {
  it('runs episodes, prints the summary and writes a loadable trajectory file', async () => {
    const out = await run(['rollout', '--task', 'reach', '--episodes', '2', '--seed', '3', '--max-steps', '60', '--out', dir, '--no-progress']);
    expect(out).toMatch(/success rate 100\.0%/);
    expect(out).toMatch(/env steps\/s \d+/);
    const file = loadTrajectories(join(dir, 'trajectories.pbrl'));
    expect(file.trajectories.map((t) => t.seed)).toEqual([3, 4]);
    expect(file.geometry.reach.bodies).toContain('hand');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.successRate).toBe(1);
    // The expert solves reach with the goal hidden (it reads the goal from the env); the summary says so.
    expect(summary.goalObservable).toBe(false);
    expect(summary.envVersion).toBe('v2');
    expect(file.trajectories[0].obs.subarray(36, 39)).toEqual(new Float32Array(3));
  });

  it('--goal-observable shows the goal and --env-version is validated', async () => {
    const out = join(dir, 'shown');
    await run(['rollout', '--task', 'reach', '--episodes', '1', '--max-steps', '5', '--goal-observable', '--env-version', 'v3', '--out', out, '--no-progress']);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect([summary.goalObservable, summary.envVersion]).toEqual([true, 'v3']);
    expect(loadTrajectories(join(out, 'trajectories.pbrl')).trajectories[0].obs.subarray(36, 39).some((x) => x !== 0)).toBe(true);
    await expect(run(['rollout', '--task', 'reach', '--env-version', 'v9'])).rejects.toThrow(/--env-version must be one of v2, v3, got "v9"/);
  });

  it('names the valid tasks for a bad task name', async () => {
    await expect(run(['rollout', '--task', 'nope'])).rejects.toThrow(/valid tasks: reach, push/);
  });

  it('rejects a bad episode count', async () => {
    await expect(run(['rollout', '--task', 'reach', '--episodes', '0'])).rejects.toThrow(/--episodes must be an integer >= 1/);
  });
});
