/**
 * `pbrl rollout`: runs a scripted or random policy on a task, prints success rate, mean return and
 * env steps/s, and writes the episodes (with body poses and scene geometry) to a trajectory file.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { getTask, makeEnv } from '../../envs/registry.js';
import { EpisodeRecorder } from '../../envs/recorder.js';
import { saveTrajectories } from '../../envs/trajectory-file.js';
import { physicsInfo } from '../../envs/physics.js';
import { parseEnvVersion } from '../../envs/sawyer-env.js';
import { Rng } from '../../core/rng.js';
import type { Trajectory } from '../../core/types.js';

interface RolloutOpts {
  task: string;
  policy: string;
  episodes: string;
  seed: string;
  out?: string;
  maxSteps: string;
  poses: boolean;
  stopOnSuccess?: boolean;
  progress: boolean;
  goalObservable?: boolean;
  envVersion: string;
}

function intOption(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('rollout')
    .description('run a scripted or random policy on a task and record the episodes')
    .requiredOption('--task <name>', 'task name (see `pbrl envs`)')
    .option('--policy <kind>', 'scripted | random', 'scripted')
    .option('--episodes <n>', 'number of episodes', '10')
    .option('--seed <n>', 'seed of the first episode; episode i uses seed + i', '0')
    .option('--max-steps <n>', 'episode length (Meta-World: 500)', '500')
    .option('--stop-on-success', 'end an episode at its first success (Meta-World evaluation style)')
    .option('--out <dir>', 'write trajectories.pbrl and summary.json into this folder')
    .option('--goal-observable', 'show the goal in obs[36:39] (default hidden, as Meta-World\'s raw tasks and B-Pref); the scripted expert reads it from the env either way')
    .option('--env-version <v>', 'Meta-World version to match where they differ: v2 (B-Pref, mid-2021) | v3', 'v2')
    .option('--no-poses', 'do not record body poses')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: RolloutOpts) => {
      const task = getTask(opts.task);
      if (opts.policy !== 'scripted' && opts.policy !== 'random') {
        throw new Error(`--policy must be "scripted" or "random", got "${opts.policy}"`);
      }
      const episodes = intOption('episodes', opts.episodes, 1);
      const seed = intOption('seed', opts.seed, 0);
      const maxSteps = intOption('max-steps', opts.maxSteps, 1);
      const goalObservable = Boolean(opts.goalObservable);
      const version = parseEnvVersion(opts.envVersion, '--env-version');
      const env = await makeEnv(task.name, { maxPathLength: maxSteps, goalObservable, version });
      const expert = task.scripted(env);
      const rng = new Rng(seed).split('random-policy');
      const recorder = opts.out ? new EpisodeRecorder(env, opts.poses) : null;
      const trajectories: Trajectory[] = [];
      const bar = opts.progress && process.stderr.isTTY
        ? new cliProgress.SingleBar({ format: 'rollout |{bar}| {value}/{total} episodes | {sps} steps/s | ETA {eta}s', stream: process.stderr }, cliProgress.Presets.shades_classic)
        : null;
      bar?.start(episodes, 0, { sps: '-' });
      let successes = 0;
      let totalReturn = 0;
      let steps = 0;
      let stepTime = 0;
      for (let ep = 0; ep < episodes; ep++) {
        let { obs } = env.reset({ seed: seed + ep });
        recorder?.start(obs, seed + ep);
        let ret = 0;
        let solved = false;
        for (;;) {
          const a = opts.policy === 'scripted' ? expert(obs) : env.actionSpace.sample(rng);
          const t0 = performance.now();
          const r = env.step(a);
          stepTime += performance.now() - t0;
          steps++;
          recorder?.record(a, r);
          ret += r.reward;
          obs = r.obs;
          if (r.info.success) solved = true;
          if (r.truncated || r.terminated || (opts.stopOnSuccess && solved)) break;
        }
        if (solved) successes++;
        totalReturn += ret;
        if (recorder) trajectories.push(recorder.finish({ policy: opts.policy, return: ret, solved }));
        bar?.update(ep + 1, { sps: Math.round(steps / (stepTime / 1000)) });
      }
      bar?.stop();
      const summary = {
        task: task.name,
        policy: opts.policy,
        episodes,
        seed,
        goalObservable,
        envVersion: version,
        successRate: successes / episodes,
        meanReturn: totalReturn / episodes,
        envSteps: steps,
        envStepsPerSec: Math.round(steps / (stepTime / 1000)),
        // Rapier builds give different bits: a replay must use the same one.
        physics: physicsInfo(),
      };
      console.log(`task ${summary.task}  policy ${summary.policy}  episodes ${episodes}  seed ${seed}  goal ${goalObservable ? 'observable' : 'hidden'}  Meta-World ${version}  physics ${summary.physics.build} ${summary.physics.version}`);
      console.log(`success rate ${(summary.successRate * 100).toFixed(1)}%  mean return ${summary.meanReturn.toFixed(2)}  env steps/s ${summary.envStepsPerSec} (step() only, resets excluded)`);
      if (opts.out) {
        mkdirSync(opts.out, { recursive: true });
        const file = join(opts.out, 'trajectories.pbrl');
        saveTrajectories(file, trajectories, { [task.name]: env.geometry() }, { ...summary, command: 'rollout' });
        writeFileSync(join(opts.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
        console.log(`wrote ${file} (${trajectories.length} episodes) and summary.json`);
      }
      env.close();
    });
}
