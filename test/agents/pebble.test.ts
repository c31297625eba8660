/**
 * PEBBLE's schedule on the real runner, tiny sizes: intrinsic reward during pre-training, the first
 * feedback round at seedSteps + unsupSteps, buffer relabelled with r_hat, critic re-initialised with
 * the actor kept, rounds every numInteract steps until the budget is spent.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../core/backend.js';
import { SAC } from '../../agents/sac.js';
import { evalSeed, runOnline } from '../../experiments/online-runner.js';
import { makeEnv } from '../../envs/registry.js';
import { Rng } from '../../core/rng.js';
import { RunDir } from '../../experiments/run-files.js';
import { setupPebble } from '../../experiments/pebble-setup.js';
import { parseTrainConfig, type TrainConfig } from '../../experiments/train-config.js';
import type { ReplayBuffer } from '../../agents/replay-buffer.js';

beforeAll(async () => {
  await initBackend();
});

/** The runner's options for a parsed training config (tests keep a 10k-transition buffer, no progress bar). */
function runOptions(cfg: TrainConfig) {
  return {
    task: cfg.task, steps: cfg.steps, seed: cfg.seed, evalEvery: cfg.evalEvery, evalEpisodes: cfg.evalEpisodes, seedSteps: cfg.seedSteps,
    batchSize: cfg.batchSize, bufferCapacity: 10_000, checkpointEvery: cfg.checkpointEvery, maxPathLength: cfg.maxPathLength, progress: false,
  };
}

/**
 * Runs PEBBLE and watches the end of pre-training: the largest first-layer critic weight change made
 * by the first feedback step's hook, that hook's metrics, and the buffer at the end.
 */
async function runWatchingPretrainingEnd(cfg: TrainConfig, tmpPrefix: string) {
  const agent = new SAC(39, 4, cfg.sac, cfg.seed);
  const setup = await setupPebble(cfg, agent);
  const { hooks, pebble } = setup;
  let criticChange = 0;
  let firstRound: Record<string, number> | void = undefined;
  let buffer: ReplayBuffer | null = null;
  const run = new RunDir(mkdtempSync(join(tmpdir(), tmpPrefix)));
  await runOnline(agent, runOptions(cfg), run, false, {
    ...hooks,
    afterStep: async (ctx) => {
      buffer = ctx.buffer;
      const before = ctx.step === pebble.firstFeedbackStep ? agent.critic.getWeights()[0] : null;
      const m = await hooks.afterStep!(ctx);
      if (before) {
        firstRound = m;
        const after = agent.critic.getWeights()[0];
        criticChange = Math.max(...after.map((v, i) => Math.abs(v - before[i])));
      }
      return m;
    },
  });
  return { agent, setup, pebble, run, criticChange, firstRound, buffer: buffer! as ReplayBuffer };
}

describe('PEBBLE schedule', () => {
  it('pre-trains on state entropy, then learns the reward from labels and relabels the buffer', async () => {
    const cfg = parseTrainConfig({
      algo: 'pebble', task: 'reach', steps: 700, seed: 1, seedSteps: 100, batchSize: 32, maxPathLength: 50,
      evalEvery: 700, evalEpisodes: 1, checkpointEvery: 10_000,
      sac: { hiddenDims: [32] },
      pebble: { unsupSteps: 200, numInteract: 150, resetUpdates: 5 },
      reward: { model: { hiddenDims: [32] }, feedback: { segmentLength: 25, queriesPerRound: 20, maxFeedback: 50, epochs: 3 } },
    });
    const agent = new SAC(39, 4, cfg.sac, cfg.seed);
    const setup = await setupPebble(cfg, agent);
    const { hooks, pebble } = setup;
    // Watch the hooks while the runner uses them.
    const seen = { intrinsicBatches: 0, envRewardBatches: 0, criticBefore: [] as Float32Array[], actorBefore: [] as Float32Array[], episodesEnded: 0 };
    let bufferRef: import('../../agents/replay-buffer.js').ReplayBuffer | null = null;
    const wrapped = {
      ...hooks,
      beforeUpdate: (batch: import('../../agents/replay-buffer.js').Batch, ctx: { step: number; buffer: import('../../agents/replay-buffer.js').ReplayBuffer }) => {
        const before = Float32Array.from(batch.rewards);
        hooks.beforeUpdate!(batch, ctx);
        const changed = batch.rewards.some((r, i) => r !== before[i]);
        if (ctx.step <= pebble.firstFeedbackStep) {
          expect(changed).toBe(true); // intrinsic reward replaced the stored one
          seen.intrinsicBatches++;
        } else {
          expect(changed).toBe(false);
          seen.envRewardBatches++;
        }
      },
      onEpisodeEnd: (traj: import('../../core/types.js').Trajectory, episode: number) => {
        seen.episodesEnded++;
        hooks.onEpisodeEnd!(traj, episode);
      },
      afterStep: async (ctx: { step: number; buffer: import('../../agents/replay-buffer.js').ReplayBuffer }) => {
        bufferRef = ctx.buffer;
        if (ctx.step % cfg.maxPathLength === 0) {
          // The episode that ended on this step reached the pool first (B-Pref queries it at a feedback step).
          expect(seen.episodesEnded).toBe(ctx.step / cfg.maxPathLength);
        }
        if (ctx.step === pebble.firstFeedbackStep) {
          seen.criticBefore = agent.critic.getWeights();
          seen.actorBefore = agent.actor.getWeights();
        }
        const m = await hooks.afterStep!(ctx);
        if (ctx.step === pebble.firstFeedbackStep) {
          expect(m).toMatchObject({ feedback_round: 1, feedback_total: 20 });
          // Critic re-initialised (then 5 reset updates); the actor is kept (only 5 updates since).
          const c = agent.critic.getWeights();
          expect(c[0].some((v, i) => Math.abs(v - seen.criticBefore[0][i]) > 0.05)).toBe(true);
        }
        return m;
      },
    };
    const run = new RunDir(mkdtempSync(join(tmpdir(), 'pebble-')));
    await runOnline(agent, runOptions(cfg), run, false, wrapped);

    expect(seen.intrinsicBatches).toBe(pebble.firstFeedbackStep - cfg.seedSteps);
    expect(seen.envRewardBatches).toBe(cfg.steps - pebble.firstFeedbackStep);
    const rounds = run.readMetrics().filter((r) => 'feedback_round' in r);
    // Rounds at 300 (first), 450, 600; the third is clipped to the 10 queries left of the 50 budget.
    expect(rounds.map((r) => [r.step, r.feedback_total])).toEqual([[300, 20], [450, 40], [600, 50]]);
    // Diagnostics beside Pearson, every round.
    for (const r of rounds) {
      for (const k of ['reward_true_corr', 'reward_true_spearman', 'reward_true_spearman_recent', 'reward_true_corr_recent', 'reward_recent_pair_accuracy', 'reward_new_label_accuracy']) {
        expect(r[k], `${k} at step ${r.step}`).toBeTypeOf('number');
        expect(Math.abs(r[k] as number)).toBeLessThanOrEqual(1);
      }
    }
    // Every stored training reward is the reward model's ensemble mean.
    const v = bufferRef!.view();
    const expected = setup.model.predictReward(v.obs, v.actions, v.size);
    for (let i = 0; i < v.size; i += 37) expect(v.rewards[i]).toBeCloseTo(expected[i], 4);
    agent.dispose();
    await setup.dispose();
  }, 180_000);
});

describe('PEBBLE end of pre-training (B-Pref: unconditional)', () => {
  for (const [what, feedback] of [
    ['a round whose queries are all skipped', { teacher: 'skip:thresh=1000000', maxFeedback: 40 }],
    ['no label budget at all', { maxFeedback: 0 }],
  ] as const) {
    it(`relabels the buffer with r_hat and re-initialises the critic after ${what}`, async () => {
      const cfg = parseTrainConfig({
        algo: 'pebble', task: 'reach', steps: 260, seed: 3, seedSteps: 100, batchSize: 16, maxPathLength: 50,
        evalEvery: 260, evalEpisodes: 1, checkpointEvery: 10_000, sac: { hiddenDims: [16] },
        pebble: { unsupSteps: 100, numInteract: 100, resetUpdates: 2 },
        reward: { model: { hiddenDims: [16] }, feedback: { segmentLength: 25, queriesPerRound: 20, epochs: 2, ...feedback } },
      });
      const { agent, setup, run, criticChange, buffer } = await runWatchingPretrainingEnd(cfg, 'pebble-reset-');
      // A fresh orthogonal init moves first-layer weights by O(0.1); 2 Adam steps at 3e-4 move them by < 1e-3.
      expect(criticChange).toBeGreaterThan(0.05);
      const v = buffer.view();
      const expected = setup.model.predictReward(v.obs, v.actions, v.size);
      for (let i = 0; i < v.size; i += 13) expect(v.rewards[i]).toBeCloseTo(expected[i], 4);
      // Transitions after pre-training carry r_hat, never the true reward.
      expect(v.rewards[v.size - 1]).not.toBeCloseTo(v.trueRewards[v.size - 1], 3);
      const rounds = run.readMetrics().filter((r) => 'feedback_round' in r);
      expect(rounds.map((r) => r.feedback_labelled)).toEqual(feedback.maxFeedback ? [0] : []);
      agent.dispose();
      await setup.dispose();
    }, 120_000);
  }
});

describe('PEBBLE with the true reward (diagnostic: the loop without reward learning)', () => {
  it('keeps the schedule and the critic reset, asks no queries, and trains on the env reward', async () => {
    const cfg = parseTrainConfig({
      algo: 'pebble', task: 'reach', steps: 300, seed: 4, seedSteps: 100, batchSize: 16, maxPathLength: 50,
      evalEvery: 300, evalEpisodes: 1, checkpointEvery: 10_000, sac: { hiddenDims: [16] },
      pebble: { unsupSteps: 100, numInteract: 100, resetUpdates: 2, rewardSource: 'true' },
      reward: { model: { hiddenDims: [16] }, feedback: { segmentLength: 25, queriesPerRound: 20, maxFeedback: 100, epochs: 2 } },
    });
    const { agent, setup, pebble, run, criticChange, firstRound: coverage, buffer } = await runWatchingPretrainingEnd(cfg, 'pebble-true-');
    expect(criticChange).toBeGreaterThan(0.05);
    // Coverage of the random warm-up and of the end of pre-training, over equal windows.
    expect(coverage).toMatchObject({ pretrain_window: 100 });
    expect((coverage as unknown as Record<string, number>).pretrain_hand_voxels_random).toBeGreaterThan(1);
    const v = buffer.view();
    for (let i = 0; i < v.size; i++) expect(v.rewards[i]).toBe(v.trueRewards[i]);
    expect(run.readMetrics().some((r) => 'feedback_round' in r)).toBe(false);
    expect(pebble.learner.budgetLeft).toBe(100);
    agent.dispose();
    await setup.dispose();
  }, 120_000);
});

describe('PEBBLE config', () => {
  it('refuses a reward.feedback.prior section outside --algo prior instead of dropping it', async () => {
    const cfg = parseTrainConfig({ algo: 'pebble', task: 'reach', steps: 100, reward: { feedback: { prior: {} } } });
    const agent = new SAC(39, 4, cfg.sac, cfg.seed);
    await expect(setupPebble(cfg, agent)).rejects.toThrow(/reward\.feedback\.prior is read only by --algo prior/);
    agent.dispose();
  });
});

describe('PEBBLE learning', () => {
  it('learns button-press (goal hidden) from oracle preference labels, succeeding where a random policy does not', async () => {
    // pebble-bpref-scaled's config (experiments/bench/builtin-pebble.ts: B-Pref's schedule scaled to 30k
    // steps, the temperature's learning rate scaled with it), stopped at 20k steps: 1000 random + 2000
    // unsupervised steps, then 75 oracle queries every 1000 steps (1350 asked by 20k).
    const cfg = parseTrainConfig({
      algo: 'pebble', task: 'button-press', steps: 20_000, seed: 0, seedSteps: 1000, batchSize: 256, maxPathLength: 200, goalObservable: false,
      evalEvery: 5000, evalEpisodes: 10, checkpointEvery: 5000,
      sac: { hiddenDims: [128, 128], alphaLr: 1e-3 },
      pebble: { unsupSteps: 2000, numInteract: 1000, recentEpisodes: 10 },
      reward: { model: { hiddenDims: [128, 128] }, feedback: { queriesPerRound: 75, maxFeedback: 2000, epochs: 10, teacher: 'oracle' } },
    });
    const agent = new SAC(39, 4, cfg.sac, cfg.seed);
    const setup = await setupPebble(cfg, agent);
    const run = new RunDir(mkdtempSync(join(tmpdir(), 'pebble-learn-')));
    const result = await runOnline(
      agent, { ...runOptions(cfg), bufferCapacity: cfg.steps, goalObservable: cfg.goalObservable },
      run, false, setup.hooks,
    );
    const evals = run.readMetrics().filter((r) => typeof r.eval_success === 'number') as unknown as { step: number; eval_success: number; eval_return: number }[];
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    agent.dispose();
    await setup.dispose();
    // The random policy on the same evaluation episodes.
    const env = await makeEnv('button-press', { maxPathLength: cfg.maxPathLength, goalObservable: false });
    const rng = new Rng(1);
    let randomReturn = 0;
    let randomSuccesses = 0;
    for (let k = 0; k < cfg.evalEpisodes; k++) {
      env.reset({ seed: evalSeed(cfg.seed, k) });
      let succeeded = false;
      for (let t = 0; t < cfg.maxPathLength; t++) {
        const s = env.step(env.actionSpace.sample(rng));
        randomReturn += s.reward;
        succeeded ||= s.info.success > 0;
      }
      if (succeeded) randomSuccesses++;
    }
    randomReturn /= cfg.evalEpisodes;
    env.close();
    const randomSuccess = randomSuccesses / cfg.evalEpisodes;
    const curve = evals.map((e) => `${e.step / 1000}k ${e.eval_success}`).join(', ');
    console.log(`PEBBLE learning (button-press, 20k steps, oracle labels): evaluation success ${curve}; final return ${result!.meanReturn.toFixed(1)}; random success ${randomSuccess}, return ${randomReturn.toFixed(1)}`);
    // What is asserted is the success curve's mean over the run's four evaluations (its area, as the
    // bench reports' AUC), not the last point: a single seed of PEBBLE at this budget rises and falls.
    // Measured (2026-12-01, native SAC update on libmvec, this config): evaluation success at 5k / 10k /
    // 15k / 20k 1.0 / 1.0 / 1.0 / 0.0, training episodes' success by windows of 20 episodes 0.0, 0.65,
    // 0.9, 0.9, 0.3: it learned to press the button by 5k and lost it after 18k, r_hat's Spearman with
    // the true reward 0.96 there. The final point also moves with float rounding: earlier builds of this
    // test measured 0.8 and 1.0 at 20k, and seeds 2 / 3 gave 0.2 / 0.1 and 0.2 / 0.0 at 15k / 20k.
    // Random: 0.0 on the same evaluation episodes, return ~75. The agent never sees the true reward,
    // only the oracle's answers.
    expect(evals.map((e) => e.step)).toEqual([5000, 10000, 15000, 20000]);
    expect(randomSuccess).toBeLessThanOrEqual(0.1);
    expect(mean(evals.map((e) => e.eval_success))).toBeGreaterThanOrEqual(0.5);
    expect(mean(evals.map((e) => e.eval_return))).toBeGreaterThan(1.5 * randomReturn);
  }, 900_000);
});

describe('PEBBLE with people in the loop', () => {
  it('serves the labeling page, waits per round, and falls back to the chosen teacher for unanswered queries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pebble-human-'));
    const cfg = parseTrainConfig({
      algo: 'pebble', task: 'reach', steps: 320, seed: 2, seedSteps: 100, batchSize: 32, maxPathLength: 50,
      evalEvery: 320, evalEpisodes: 1, checkpointEvery: 10_000, sac: { hiddenDims: [16] },
      pebble: { unsupSteps: 100, numInteract: 100, resetUpdates: 2 },
      reward: { model: { hiddenDims: [16] }, feedback: { segmentLength: 25, queriesPerRound: 4, maxFeedback: 8, epochs: 2 } },
      human: { name: 'tester', timeoutS: 0.5, fallback: 'oracle' },
    });
    const env = await makeEnv('reach');
    env.reset({ seed: 0 });
    const geometry = { reach: env.geometry() };
    env.close();
    const agent = new SAC(39, 4, cfg.sac, cfg.seed);
    const setup = await setupPebble(cfg, agent, { runDir: dir, geometry });
    expect(setup.hooks.recordPoses).toBe(true);
    const run = new RunDir(dir);
    await runOnline(agent, runOptions(cfg), run, false, setup.hooks);
    await setup.dispose();
    agent.dispose();
    // Nobody answered: every query was labelled by the oracle fallback, none skipped.
    const rounds = run.readMetrics().filter((r) => 'feedback_round' in r);
    expect(rounds.map((r) => [r.feedback_total, r.feedback_labelled])).toEqual([[4, 4], [8, 8]]);
    expect(existsSync(join(dir, 'labels.sqlite'))).toBe(true);
  }, 120_000);
});

describe('PEBBLE with people: answers beyond left/right', () => {
  it('trains on "both bad" answers as equal when human.bothBad is "equal" (default: dropped like skips)', async () => {
    expect(parseTrainConfig({ algo: 'pebble', task: 'reach', human: {} }).human).toMatchObject({ bothBad: 'drop', cantTell: 'drop' });
    expect(() => parseTrainConfig({ algo: 'pebble', task: 'reach', human: { bothBad: 'maybe' } })).toThrow(/human\.bothBad/);
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const dir = mkdtempSync(join(tmpdir(), 'pebble-both-bad-'));
    const cfg = parseTrainConfig({
      algo: 'pebble', task: 'reach', steps: 320, seed: 2, seedSteps: 100, batchSize: 32, maxPathLength: 50,
      evalEvery: 320, evalEpisodes: 1, checkpointEvery: 10_000, sac: { hiddenDims: [16] },
      pebble: { unsupSteps: 100, numInteract: 100, resetUpdates: 2 },
      reward: { model: { hiddenDims: [16] }, feedback: { segmentLength: 25, queriesPerRound: 3, maxFeedback: 6, epochs: 2 } },
      human: { name: 'tester', timeoutS: 60, fallback: 'skip', port, bothBad: 'equal' },
    });
    const env = await makeEnv('reach');
    env.reset({ seed: 0 });
    const geometry = { reach: env.geometry() };
    env.close();
    const agent = new SAC(39, 4, cfg.sac, cfg.seed);
    const setup = await setupPebble(cfg, agent, { runDir: dir, geometry });
    // A labeller who answers "both bad" to everything shown.
    let stop = false;
    let answered = 0;
    const labeller = (async () => {
      while (!stop) {
        const next = await (await fetch(`http://127.0.0.1:${port}/api/label/next?teacher=tester`)).json();
        if (next.query) {
          const r = await fetch(`http://127.0.0.1:${port}/api/label/answer`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ teacher: 'tester', query: next.query.id, choice: 'both-bad' }),
          });
          expect(r.status).toBe(200);
          answered++;
        } else await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const run = new RunDir(dir);
    await runOnline(agent, runOptions(cfg), run, false, setup.hooks);
    stop = true;
    await labeller;
    await setup.dispose();
    agent.dispose();
    expect(answered).toBe(6);
    // Every "both bad" became a label (target 0.5) the reward model trained on, none a skip.
    const rounds = run.readMetrics().filter((r) => 'feedback_round' in r);
    expect(rounds.map((r) => [r.feedback_total, r.feedback_labelled, r.feedback_skipped])).toEqual([[3, 3, 0], [6, 6, 0]]);
    const labels = setup.pebble.learner.dataset.pairs.map((p) => p.label);
    expect(labels).toHaveLength(6);
    expect(labels.every((l) => l === 0.5)).toBe(true);
  }, 180_000);
});

describe('PEBBLE resume', () => {
  it('a resumed PEBBLE run continues the same curve: labels, reward model, schedule and agent', async () => {
    const base = {
      algo: 'pebble', task: 'reach', seed: 5, seedSteps: 100, batchSize: 32, maxPathLength: 50,
      evalEvery: 350, evalEpisodes: 1, checkpointEvery: 350, sac: { hiddenDims: [16] },
      pebble: { unsupSteps: 200, numInteract: 150, resetUpdates: 3 },
      reward: { model: { hiddenDims: [16] }, feedback: { segmentLength: 25, queriesPerRound: 10, maxFeedback: 30, epochs: 2, teacher: 'stoc:beta=1+mistake:eps=0.2' } },
    };
    const go = async (steps: number, dir: RunDir, resume: boolean) => {
      const cfg = parseTrainConfig({ ...base, steps });
      const agent = new SAC(39, 4, cfg.sac, cfg.seed);
      const setup = await setupPebble(cfg, agent);
      await runOnline(agent, runOptions(cfg), dir, resume, setup.hooks);
      const w = { actor: agent.actor.getWeights(), reward: setup.model.net.getWeights() };
      agent.dispose();
      await setup.dispose();
      return w;
    };
    const straight = new RunDir(mkdtempSync(join(tmpdir(), 'pebble-a-')));
    const a = await go(700, straight, false);
    const resumed = new RunDir(mkdtempSync(join(tmpdir(), 'pebble-b-')));
    await go(350, resumed, false); // stops after the first feedback round, with a checkpoint
    const b = await go(700, resumed, true);
    const rows = (d: RunDir) => d.readMetrics().filter((r) => 'feedback_round' in r || 'eval_return' in r)
      .map((r) => JSON.stringify([r.step, r.feedback_total, r.feedback_labelled, r.reward_train_loss, r.eval_return]));
    expect(rows(resumed)).toEqual(rows(straight));
    expect(b.reward).toEqual(a.reward);
    expect(b.actor).toEqual(a.actor);
  }, 240_000);
});
