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
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).successRate).toBe(1);
  });

  it('names the valid tasks for a bad task name', async () => {
    await expect(run(['rollout', '--task', 'nope'])).rejects.toThrow(/valid tasks: reach, push/);
  });

  it('rejects a bad episode count', async () => {
    await expect(run(['rollout', '--task', 'reach', '--episodes', '0'])).rejects.toThrow(/--episodes must be an integer >= 1/);
  });
});
