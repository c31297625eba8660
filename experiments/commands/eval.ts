/**
 * `pbrl eval`: replays a trained policy from a run's checkpoint, prints success rate and return, and
 * can write the episodes (with body poses) for the viewer.
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../core/backend.js';
import { SAC } from '../../agents/sac.js';
import type { AgentState } from '../../agents/agent.js';
import { makeEnv } from '../../envs/registry.js';
import { EpisodeRecorder } from '../../envs/recorder.js';
import { saveTrajectories } from '../../envs/trajectory-file.js';
import type { Trajectory } from '../../core/types.js';
import { RunDir } from '../run-files.js';
import { parseSavedTrainConfig } from '../train-config.js';
import { evalSeed } from '../online-runner.js';

interface EvalOpts {
  run: string;
  episodes: string;
  seed?: string;
  stochastic?: boolean;
  out?: string;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description("evaluate a trained policy from a run's checkpoint; optionally write its episodes for `pbrl view`")
    .requiredOption('--run <dir>', 'run directory written by `pbrl train`')
    .option('--episodes <n>', 'episodes', '10')
    .option('--seed <n>', 'evaluation seed (default: the run\'s, i.e. the same episodes as its evaluations)')
    .option('--stochastic', 'sample actions instead of taking the policy mean')
    .option('--out <dir>', 'write trajectories.pbrl (with poses) and summary.json here')
    .action(async (opts: EvalOpts) => {
      const episodes = Number(opts.episodes);
      if (!Number.isInteger(episodes) || episodes < 1) throw new Error(`--episodes must be a positive integer, got "${opts.episodes}"`);
      const run = new RunDir(opts.run, false);
      const cfg = parseSavedTrainConfig(run.readConfig().config);
      const agentPath = join(run.checkpointDir, 'agent.json');
      if (!existsSync(agentPath)) throw new Error(`${opts.run} has no checkpoint yet (${agentPath} missing)`);
      await initBackend();
      // The run's own goal visibility and version: its policy was trained on those observations.
      const env = await makeEnv(cfg.task, { maxPathLength: cfg.maxPathLength, goalObservable: cfg.goalObservable, version: cfg.envVersion });
      const agent = new SAC(env.observationSpace.size, env.actionSpace.size, cfg.sac, cfg.seed);
      await agent.loadState(JSON.parse(readFileSync(agentPath, 'utf8')) as AgentState);
      const seed = opts.seed !== undefined ? Number(opts.seed) : cfg.seed;
      const recorder = opts.out ? new EpisodeRecorder(env, true) : null;
      const trajectories: Trajectory[] = [];
      let successes = 0;
      let total = 0;
      for (let k = 0; k < episodes; k++) {
        const s = evalSeed(seed, k);
        let { obs } = env.reset({ seed: s });
        recorder?.start(obs, s);
        let ret = 0;
        let solved = false;
        for (;;) {
          const a = agent.act(obs, 1, !opts.stochastic);
          const r = env.step(a);
          recorder?.record(a, r);
          ret += r.reward;
          if (r.info.success) solved = true;
          obs = r.obs;
          if (r.terminated || r.truncated) break;
        }
        if (solved) successes++;
        total += ret;
        if (recorder) trajectories.push(recorder.finish({ policy: `${cfg.algo}:${opts.run}`, return: ret, solved }));
      }
      const summary = { task: cfg.task, run: opts.run, episodes, seed, goalObservable: cfg.goalObservable, envVersion: cfg.envVersion, successRate: successes / episodes, meanReturn: total / episodes };
      console.log(`${cfg.task}: success ${(100 * summary.successRate).toFixed(0)}%, mean return ${summary.meanReturn.toFixed(1)} over ${episodes} episodes`);
      if (opts.out) {
        mkdirSync(opts.out, { recursive: true });
        saveTrajectories(join(opts.out, 'trajectories.pbrl'), trajectories, { [cfg.task]: env.geometry() }, { ...summary, command: 'eval' });
        writeFileSync(join(opts.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
        console.log(`wrote ${join(opts.out, 'trajectories.pbrl')}`);
      }
      agent.dispose();
      env.close();
    });
}
