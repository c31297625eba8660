/** `pbrl train` and `pbrl eval` as a user runs them: files written, resume, clear errors. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const pbrl = (args: string[]) => run(process.execPath, ['bin/pbrl.js', ...args], { cwd: join(__dirname, '..', '..'), timeout: 240_000 });

describe('pbrl train / eval', () => {
  it('trains, writes config/metrics/checkpoint, resumes, evaluates, and refuses to overwrite a run', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pbrl-cli-')), 'run');
    const common = ['--task', 'reach', '--out', out, '--max-path-length', '50', '--hidden', '32,32', '--batch-size', '32',
      '--seed-steps', '50', '--eval-every', '100', '--eval-episodes', '2', '--checkpoint-every', '100', '--no-progress'];
    await pbrl(['train', ...common, '--steps', '100']);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.config).toMatchObject({ algo: 'sac', task: 'reach', steps: 100, seed: 0, sac: { hiddenDims: [32, 32] } });
    expect(cfg.versions['@tensorflow/tfjs']).toMatch(/^4\./);
    expect(cfg.backend.backend).toBe('wasm');
    expect(existsSync(join(out, 'checkpoint', 'trainer.json'))).toBe(true);

    await expect(pbrl(['train', ...common, '--steps', '100'])).rejects.toThrow(/already holds a run; use --resume/);
    await pbrl(['train', '--out', out, '--resume', '--steps', '200', '--no-progress']);
    const evals = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'eval_success' in r);
    expect(evals.map((r) => r.step)).toEqual([100, 200]);

    const { stdout } = await pbrl(['eval', '--run', out, '--episodes', '2', '--out', join(out, 'eval')]);
    expect(stdout).toMatch(/reach: success \d+%, mean return [\d.]+ over 2 episodes/);
    expect(existsSync(join(out, 'eval', 'trajectories.pbrl'))).toBe(true);
  }, 240_000);

  it('bad flags are errors naming the field', async () => {
    await expect(pbrl(['train', '--task', 'reach', '--out', join(tmpdir(), 'never'), '--batch-size', '0'])).rejects.toThrow(/batchSize: Too small/);
    await expect(pbrl(['train', '--task', 'nope', '--out', join(tmpdir(), 'never')])).rejects.toThrow(/unknown task "nope"; valid tasks: reach/);
    await expect(pbrl(['eval', '--run', join(tmpdir(), 'no-such-run')])).rejects.toThrow(/no config.json: not a pbrl run directory/);
  }, 120_000);
});
