/**
 * `pbrl train`: trains an agent online on a task and writes config.json, metrics.jsonl and
 * checkpoint/ into --out. `--resume` continues from the last checkpoint with the saved config.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blasThreadsForRun, initBackend } from '../../core/backend.js';
import { SAC } from '../../agents/sac.js';
import { makeEnv } from '../../envs/registry.js';
import { runOnline } from '../online-runner.js';
import { setupPebble } from '../pebble-setup.js';
import { isZooAlgo, setupZoo } from '../zoo-setup.js';
import { RunDir } from '../run-files.js';
import { parseSavedTrainConfig, parseTrainConfig, TrainConfig } from '../train-config.js';
// Offline algorithms (bc, sft, percent-bc, iql, cpl, ipl, dppo) have their own runner and config: experiments/offline-runner.ts.
import { isOfflineAlgo, runOfflineTraining, type OfflineCliOpts } from '../offline-runner.js';
import { num } from '../cli-number.js';

/** Online flags on top of the ones offline training reads too. */
interface TrainOpts extends OfflineCliOpts {
  teacher?: string;
  feedback?: string;
  queriesPerRound?: string;
  query?: string;
  unsupSteps?: string;
  numInteract?: string;
  labeler?: string;
  humanTimeout?: string;
  bothBad?: string;
  cantTell?: string;
  minConfidence?: string;
  fallback?: string;
  port?: string;
  workers?: string;
  goalObservable?: boolean;
  envVersion?: string;
}


/** CLI flags over a config file over defaults. */
function buildConfig(opts: TrainOpts): TrainConfig {
  const base = opts.config ? JSON.parse(readFileSync(opts.config, 'utf8')) : {};
  const fileCfg = base.config ?? base; // accept a run's config.json as well as a bare config
  const sac = { ...(fileCfg.sac ?? {}) };
  if (opts.hidden) sac.hiddenDims = opts.hidden.split(',').map((s) => num('hidden', s.trim()));
  if (opts.lr) sac.actorLr = sac.criticLr = num('lr', opts.lr);
  const flags: Record<string, unknown> = {
    algo: opts.algo, task: opts.task, steps: num('steps', opts.steps), seed: num('seed', opts.seed),
    evalEvery: num('eval-every', opts.evalEvery), evalEpisodes: num('eval-episodes', opts.evalEpisodes),
    batchSize: num('batch-size', opts.batchSize), seedSteps: num('seed-steps', opts.seedSteps),
    maxPathLength: num('max-path-length', opts.maxPathLength), checkpointEvery: num('checkpoint-every', opts.checkpointEvery),
    workers: num('workers', opts.workers),
    goalObservable: opts.goalObservable ? true : undefined,
    envVersion: opts.envVersion,
  };
  const reward = { model: { ...(fileCfg.reward?.model ?? {}) }, feedback: { ...(fileCfg.reward?.feedback ?? {}) } };
  const fb = reward.feedback as Record<string, unknown>;
  let human: Record<string, unknown> | undefined = fileCfg.human ? { ...fileCfg.human } : undefined;
  if (opts.teacher === 'human') {
    human = { ...(human ?? {}) };
    if (opts.labeler) human.name = opts.labeler;
    if (opts.humanTimeout) human.timeoutS = num('human-timeout', opts.humanTimeout);
    if (opts.fallback) human.fallback = opts.fallback;
    if (opts.bothBad) human.bothBad = opts.bothBad;
    if (opts.cantTell) human.cantTell = opts.cantTell;
    if (opts.minConfidence) human.minConfidence = opts.minConfidence;
    if (opts.port) human.port = num('port', opts.port);
  } else if (opts.teacher && opts.algo === 'rbrl') {
    // RbRL's teacher rates single segments: its spec is a rating spec, kept in the rbrl section.
    fileCfg.rbrl = { ...(fileCfg.rbrl ?? {}), teacher: opts.teacher };
  } else if (opts.teacher) fb.teacher = opts.teacher;
  if (opts.feedback) fb.maxFeedback = num('feedback', opts.feedback);
  if (opts.queriesPerRound) fb.queriesPerRound = num('queries-per-round', opts.queriesPerRound);
  if (opts.query) fb.strategy = opts.query;
  if (opts.algo === 'surf' && !fb.surf) fb.surf = {};
  const pebble = { ...(fileCfg.pebble ?? {}) };
  if (opts.unsupSteps) pebble.unsupSteps = num('unsup-steps', opts.unsupSteps);
  if (opts.numInteract) pebble.numInteract = num('num-interact', opts.numInteract);
  const merged: Record<string, unknown> = { ...fileCfg, sac, reward, pebble, ...(human ? { human } : {}) };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;
  return parseTrainConfig(merged);
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train an agent on a task: SAC (true reward), PEBBLE / SURF (reward learned from preferences), or offline algorithms on a dataset; writes metrics, config and checkpoints')
    .option('--algo <name>', 'sac | pebble | surf | qpa | rbrl | heron | prior (online; prior: PEBBLE + Hindsight PRIOR, settings in reward.feedback.prior); bc | sft | percent-bc | iql | cpl | ipl | dppo (offline, with --dataset; pbc: deprecated alias of sft)', 'sac')
    .option('--task <name>', 'task name (see `pbrl envs`)')
    .option('--steps <n>', 'environment steps (default 100000)')
    .option('--seed <n>', 'random seed (default 0)')
    .requiredOption('--out <dir>', 'run directory')
    .option('--resume', 'continue the run in --out from its last checkpoint (uses its saved config)')
    .option('--config <file>', 'JSON config (or a run\'s config.json); flags override it')
    .option('--eval-every <n>', 'evaluate every n env steps (default 10000)')
    .option('--eval-episodes <n>', 'episodes per evaluation (default 10)')
    .option('--batch-size <n>', 'batch size: transitions for SAC/PEBBLE (default 512), labelled pairs for offline algorithms')
    .option('--seed-steps <n>', 'random-action steps before learning (default 1000)')
    .option('--hidden <sizes>', 'hidden layer sizes, e.g. 256,256,256')
    .option('--lr <x>', 'actor and critic learning rate (default 3e-4)')
    .option('--max-path-length <n>', 'episode length (default 500)')
    .option('--goal-observable', 'show the goal in obs[36:39] (Meta-World goal-observable / MT setting; default hidden, as B-Pref/PEBBLE)')
    .option('--env-version <v>', 'Meta-World version to match where they differ: v2 (B-Pref, mid-2021; default) | v3')
    .option('--checkpoint-every <n>', 'checkpoint every n env steps, at the next episode end (default 10000)')
    .option('--teacher <spec>', 'label source: human (people on the labeling page: PEBBLE/SURF/QPA compare pairs, rbrl rates single segments on rbrl.teacher\'s scale), or a teacher spec, e.g. oracle, stoc:beta=1, skip:frac=0.1+mistake:eps=0.1 (default oracle); rbrl: a rating spec, e.g. rating:classes=4')
    .option('--labeler <name>', 'with --teacher human: the name recorded on the labels (default human)')
    .option('--human-timeout <s>', 'with --teacher human: seconds each feedback round waits for answers (default 600)')
    .option('--both-bad <drop|equal>', 'with --teacher human: train on "both bad" answers as equal, or drop them like skips (default drop)')
    .option('--cant-tell <drop|equal>', 'with --teacher human: train on "can\'t tell" answers as equal, or drop them (default drop)')
    .option('--min-confidence <low|medium|high>', 'with --teacher human: drop answers marked below this confidence (default: keep all)')
    .option('--fallback <skip|spec>', 'with --teacher human: what answers unanswered queries: skip, or a teacher spec such as oracle (default skip)')
    .option('--port <n>', 'with --teacher human: port of the labeling page (default: a free one)')
    .option('--feedback <n>', 'PEBBLE/SURF total queries (max_feedback, default 10000)')
    .option('--queries-per-round <n>', 'queries per feedback round (reward_batch, default 50)')
    .option('--query <strategy>', 'query selection: uniform | disagreement | entropy | kcenter | kcenter-disagreement | kcenter-entropy (default disagreement)')
    .option('--unsup-steps <n>', 'PEBBLE unsupervised pre-training steps (default 9000)')
    .option('--num-interact <n>', 'env steps between feedback rounds (default 5000)')
    .option('--workers <n>', 'rollout worker processes: N envs stepped in N processes while this one learns (default 0: in-process)')
    .option('--no-progress', 'no progress output')
    .option('--dataset <file>', 'offline preference dataset (pbrl dataset make) for --algo bc|sft|percent-bc|iql|cpl|ipl|dppo')
    .option('--bc-fraction <x>', 'offline cpl: share of the steps spent on BC before the contrastive loss (default 0.4, the reference 200k of 500k)')
    .option('--bc-steps <n>', 'offline cpl: BC steps before the contrastive loss (instead of --bc-fraction)')
    .addHelpText('after', [
      '', 'Examples:',
      '  pbrl train --algo sac --task reach --steps 100000 --seed 0 --out runs/sac-reach',
      '  pbrl train --out runs/sac-reach --resume',
      '  pbrl train --algo pebble --task button-press-topdown --feedback 2000 --teacher stoc:beta=1 --query disagreement --steps 300000 --out runs/p',
    ].join('\n'))
    .action(async (opts: TrainOpts, cmd: Command) => {
      // On --resume the run's own config says which algorithm it is; --algo need not repeat it.
      if (opts.resume && cmd.getOptionValueSource('algo') === 'default') {
        const saved = (new RunDir(opts.out, false).readConfig() as { config: { algo?: string } }).config;
        if (saved?.algo) opts.algo = saved.algo;
      }
      if (isOfflineAlgo(opts.algo)) return runOfflineTraining(opts);
      const run = new RunDir(opts.out, false); // created once the config is valid
      let cfg: TrainConfig;
      if (opts.resume) {
        cfg = parseSavedTrainConfig((run.readConfig() as { config: unknown }).config);
        if (opts.steps) cfg.steps = num('steps', opts.steps)!;
      } else {
        if (!opts.task) throw new Error('--task is required (see `pbrl envs`)');
        if (existsSync(join(opts.out, 'checkpoint', 'trainer.json'))) {
          throw new Error(`${opts.out} already holds a run; use --resume to continue it or choose another --out`);
        }
        cfg = buildConfig(opts);
      }
      const info = await initBackend({ blasThreads: blasThreadsForRun(Math.max(...cfg.sac.hiddenDims)) });
      run.writeConfig(cfg);
      const envOpts = { goalObservable: cfg.goalObservable, version: cfg.envVersion };
      const probe = await makeEnv(cfg.task, envOpts);
      const obsDim = probe.observationSpace.size;
      const actDim = probe.actionSpace.size;
      probe.close();
      const agent = new SAC(obsDim, actDim, cfg.sac, cfg.seed);
      if (cfg.human && cfg.algo === 'sac') throw new Error('--teacher human needs --algo pebble or surf (sac trains on the true reward)');
      const geometryEnv = cfg.human ? await makeEnv(cfg.task, envOpts) : null;
      geometryEnv?.reset({ seed: cfg.seed }); // the scene (and so its geometry) exists after a reset
      const humanLabeling = geometryEnv ? { runDir: opts.out, geometry: { [cfg.task]: geometryEnv.geometry() } } : undefined;
      const prefs = cfg.algo === 'pebble' || cfg.algo === 'surf'
        ? await setupPebble(cfg, agent, humanLabeling)
        : isZooAlgo(cfg.algo) ? await setupZoo(cfg, agent, humanLabeling) : null;
      geometryEnv?.close();

      if (opts.progress) {
        console.log(`training ${cfg.algo} on ${cfg.task} (goal ${cfg.goalObservable ? 'observable' : 'hidden'}, Meta-World ${cfg.envVersion}) for ${cfg.steps} steps (seed ${cfg.seed}) on ${info.backend}` +
          `${info.backend === 'wasm' ? ` (native GEMM ${info.nativeGemm.active ? 'on' : 'off'})` : ''}; writing ${opts.out}`);
      }
      const result = await runOnline(agent, {
        task: cfg.task, steps: cfg.steps, seed: cfg.seed, evalEvery: cfg.evalEvery, evalEpisodes: cfg.evalEpisodes,
        seedSteps: cfg.seedSteps, batchSize: cfg.batchSize, bufferCapacity: cfg.bufferCapacity,
        checkpointEvery: cfg.checkpointEvery, maxPathLength: cfg.maxPathLength, progress: opts.progress, workers: cfg.workers,
        goalObservable: cfg.goalObservable, envVersion: cfg.envVersion,
      }, run, Boolean(opts.resume), prefs?.hooks ?? {});
      agent.dispose();
      await prefs?.dispose();
      if (result) console.log(`final eval: success ${(100 * result.successRate).toFixed(0)}%, return ${result.meanReturn.toFixed(1)} over ${result.episodes} episodes`);
    });
}
