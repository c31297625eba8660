/**
 * The command line end to end: `pbrl dataset make` writes a dataset (and .npz), `pbrl dataset info`
 * reads it, `pbrl train --algo bc --dataset` trains and resumes from it, and bad flags are clear errors.
 * One process spawn checks the real entry point; the rest run the same commander commands in-process
 * (a tsx start costs ~10 s on this shared machine).
 */
import { describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { register as registerTrain } from '../../../experiments/commands/train.js';
import { register as registerDataset } from '../../../experiments/commands/dataset.js';

const cli = join(process.cwd(), 'experiments', 'cli.ts');
const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

/** Runs `pbrl <args>` in-process; resolves to what it printed. */
async function pbrl(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerTrain(program);
  registerDataset(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await program.parseAsync(['node', 'pbrl', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

describe('pbrl dataset / pbrl train --dataset', () => {
  it('makes a dataset, trains BC on it, resumes, and reports bad flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbrl-cli-off-'));
    const file = join(dir, 'reach.pbrlds');
    // The real binary, once.
    execFileSync(tsx, [cli, 'dataset', 'make', '--task', 'reach', '--kind', 'sparse', '--episodes', '4', '--max-path-length', '30', '--segment-length', '10', '--segments', '20',
      '--teacher', 'stoc:beta=1', '--out', file, '--npz', join(dir, 'reach.npz'), '--no-progress'], { encoding: 'utf8' });
    expect(existsSync(join(dir, 'reach.npz'))).toBe(true);
    expect(await pbrl(['dataset', 'info', file])).toMatch(/task reach \(goal hidden, Meta-World v2\), sparse dataset, teacher "stoc:beta=1"[\s\S]*10 labelled pairs/);

    const out = join(dir, 'run');
    const common = ['--algo', 'bc', '--out', out, '--eval-every', '5', '--eval-episodes', '1', '--hidden', '8', '--batch-size', '2', '--no-progress'];
    await pbrl(['train', ...common, '--dataset', file, '--steps', '5', '--max-path-length', '30']);
    await pbrl(['train', ...common, '--resume', '--steps', '10']);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.step)).toEqual([5, 10]);
    expect(rows[1]).toHaveProperty('bc_loss');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).config;
    expect(config).toMatchObject({ algo: 'bc', task: 'reach', batchPairs: 2, agent: { hiddenDims: [8], lr: 1e-4 } });

    await expect(pbrl(['train', '--algo', 'cpl', '--out', join(dir, 'x'), '--task', 'reach'])).rejects.toThrow(/--dataset is required for --algo cpl/);
    await expect(pbrl(['train', '--algo', 'cpl', '--out', join(dir, 'x'), '--dataset', file, '--task', 'push'])).rejects.toThrow(/--task push does not match the dataset's task "reach"/);
    await expect(pbrl(['train', '--algo', 'cpl', '--out', out, '--resume'])).rejects.toThrow(/is a bc run; resume it with --algo bc/);
    await expect(pbrl(['dataset', 'make', '--task', 'reach', '--kind', 'huge', '--out', join(dir, 'y')])).rejects.toThrow(/--kind must be "dense" or "sparse"/);
    await expect(pbrl(['dataset', 'info', join(dir, 'reach.npz')])).rejects.toThrow(/not a pbrl binary file/);
  }, 120_000);
});
