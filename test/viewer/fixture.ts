/** Shared by the viewer tests: a small recorded run (reach, scripted, short episodes) in a temp folder. */
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTask, makeEnv } from '../../envs/registry.js';
import { EpisodeRecorder } from '../../envs/recorder.js';
import { saveTrajectories } from '../../envs/trajectory-file.js';
import type { Trajectory } from '../../core/types.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pbrl-${prefix}-`));
}

/** Writes <dir>/run/trajectories.pbrl with `episodes` scripted episodes of `steps` steps (reach; another task goes to <dir>/run-<task>); returns the run folder. */
export async function makeRun(dir: string, episodes = 3, steps = 60, taskName = 'reach'): Promise<string> {
  const task = getTask(taskName);
  const env = await makeEnv(taskName, { maxPathLength: steps });
  const rec = new EpisodeRecorder(env, true);
  const expert = task.scripted(env);
  const trajs: Trajectory[] = [];
  for (let ep = 0; ep < episodes; ep++) {
    let { obs } = env.reset({ seed: ep });
    rec.start(obs, ep);
    for (;;) {
      const a = expert(obs);
      const r = env.step(a);
      rec.record(a, r);
      obs = r.obs;
      if (r.truncated || r.terminated) break;
    }
    trajs.push(rec.finish({ policy: 'scripted' }));
  }
  const run = join(dir, taskName === 'reach' ? 'run' : `run-${taskName}`);
  mkdirSync(run, { recursive: true });
  saveTrajectories(join(run, 'trajectories.pbrl'), trajs, { [taskName]: env.geometry() }, {});
  env.close();
  return run;
}

/** Screenshots and other things a person may want to look at after a test run (git-ignored). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'viewer');
