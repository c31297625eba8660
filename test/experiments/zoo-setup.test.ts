/**
 * setupZoo's wiring (what `pbrl train --algo qpa|rbrl|heron` runs): QPA's pool size reaches PEBBLE,
 * HERON asks the runner for its factors and survives a checkpoint round trip, rbrl takes ratings from
 * people on the labeling page, unsupported combinations are clear errors.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { loadRun } from '../../viewer/run-data.js';
import { makeRun, tempDir } from '../viewer/fixture.js';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import type { Trajectory } from '../../core/types.js';
import { SAC } from '../../agents/sac.js';
import { ReplayBuffer } from '../../agents/replay-buffer.js';
import { parseTrainConfig } from '../../experiments/train-config.js';
import { setupZoo } from '../../experiments/zoo-setup.js';
import { RatingLearner } from '../../reward/rating-learner.js';

beforeAll(async () => {
  await initBackend();
});

const T = 30;

function tiny(algo: string, extra: Record<string, unknown> = {}) {
  return parseTrainConfig({
    algo, task: 'reach', steps: 1000, seed: 0, seedSteps: 0, batchSize: 8, maxPathLength: T,
    sac: { hiddenDims: [8] }, pebble: { unsupSteps: 60, numInteract: 30, resetUpdates: 0, diagPairs: 0 },
    reward: { model: { hiddenDims: [8] }, feedback: { segmentLength: 10, queriesPerRound: 6, maxFeedback: 30, epochs: 1 } },
    ...extra,
  });
}

function episode(id: number, rng: Rng): Trajectory {
  const names = ['success', 'in_place_reward', 'obj_to_target'];
  return {
    task: 'reach', seed: id, obsDim: 39, actDim: 4, length: T,
    obs: rng.fillUniform(new Float32Array((T + 1) * 39), -1, 1) as Float32Array,
    actions: rng.fillUniform(new Float32Array(T * 4), -1, 1) as Float32Array,
    rewards: rng.fillUniform(new Float32Array(T), 0, 10) as Float32Array,
    success: new Uint8Array(T), terminated: false, truncated: true,
    factors: { names, data: rng.fillUniform(new Float32Array(T * 3), 0, 1) as Float32Array },
  };
}

describe('setupZoo', () => {
  it('qpa: PEBBLE queries the last qpa.queryEpisodes episodes', async () => {
    const cfg = tiny('qpa', { qpa: { queryEpisodes: 7 } });
    const agent = new SAC(39, 4, cfg.sac, 0);
    const s = await setupZoo(cfg, agent);
    expect(s.pebble.config.recentEpisodes).toBe(7);
    expect(s.qpa!.config).toEqual({ queryEpisodes: 7, hybridRatio: 0.5 });
    agent.dispose();
    await s.dispose();
  });

  it('rbrl: a rating learner with the config\'s sharpness; heron: the runner records its factors, and a checkpoint restores them as arrays', async () => {
    const rcfg = tiny('rbrl', { rbrl: { sharpness: 12 } });
    const a1 = new SAC(39, 4, rcfg.sac, 0);
    const r = await setupZoo(rcfg, a1);
    expect(r.pebble.learner).toBeInstanceOf(RatingLearner);
    expect((r.pebble.learner as RatingLearner).sharpness).toBe(12);
    a1.dispose();
    await r.dispose();

    const cfg = tiny('heron');
    const make = async () => {
      const agent = new SAC(39, 4, cfg.sac, 0);
      return { agent, s: await setupZoo(cfg, agent) };
    };
    const { agent, s } = await make();
    expect(s.hooks.recordFactors).toEqual(['success', 'in_place_reward', 'obj_to_target']);
    const rng = new Rng(1);
    for (let i = 0; i < 3; i++) s.hooks.onEpisodeEnd!(episode(i, rng), i);
    const saved = JSON.parse(JSON.stringify(await s.hooks.saveState!()));
    const back = await make();
    await back.s.hooks.loadState!(saved);
    const buffer = new ReplayBuffer(100, 39, 4);
    for (let i = 0; i < 60; i++) buffer.add(new Float32Array(39), new Float32Array(4), 0, new Float32Array(39), false);
    const m = await back.s.hooks.afterStep!({ step: 60, buffer });
    expect(m).toMatchObject({ feedback_round: 1, feedback_total: 6 });
    expect(back.s.heron!.decidedBy.reduce((x, y) => x + y, 0)).toBe(6);
    for (const x of [agent, back.agent]) x.dispose();
    await s.dispose();
    await back.s.dispose();
  });

  it('rbrl with --teacher human: a person rates a round on the page, the learner trains on it, and dispose closes the page', async () => {
    const dir = tempDir('zoo-rbrl-human');
    const run = loadRun(await makeRun(dir, 2, 40));
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    const build = async (human: Record<string, unknown>) => {
      const cfg = tiny('rbrl', {
        rbrl: { teacher: 'rating:classes=4' }, human: { name: 'rita', timeoutS: 0.3, ...human },
        reward: { model: { hiddenDims: [8] }, feedback: { segmentLength: 10, queriesPerRound: 3, maxFeedback: 30, epochs: 1 } },
      });
      const agent = new SAC(39, 4, cfg.sac, 0);
      const s = await setupZoo(cfg, agent, { runDir: dir, geometry: run.geometry });
      const url = new URL(/labeling page: (\S+)/.exec(lines.at(-1)!)![1]);
      return { agent, s, learner: s.pebble.learner as RatingLearner, base: url.origin };
    };
    try {
      const { agent, s, learner, base } = await build({ timeoutS: 30, fallback: 'skip' });
      expect(s.hooks.recordPoses).toBe(true);
      expect(lines.at(-1)).toMatch(/ratings on 4 levels and waits up to 30 s; then unrated segments are skipped/);
      // Rates the first two segments shown (levels 1 and 4 of 4 on the page), skips the third.
      const person = (async () => {
        for (const rating of [0, 3, null]) {
          let next;
          for (;;) {
            next = await (await fetch(`${base}/api/label/next?teacher=rita`)).json();
            if (next.query) break;
            await new Promise((r) => setTimeout(r, 20));
          }
          expect(next.classes).toBe(4);
          const r = await fetch(`${base}/api/label/answer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ teacher: 'rita', query: next.query.id, rating }) });
          expect(r.status).toBe(200);
        }
      })();
      const [round] = await Promise.all([learner.feedbackRound(run.trajectories), person]);
      expect(round).toMatchObject({ asked: 3, labelled: 2, skipped: 1, totalFeedback: 3 });
      expect(round!.train!.steps).toBeGreaterThan(0);
      expect(learner.rated.map((r) => [r.rating, r.classes])).toEqual([[0, 4], [3, 4]]);
      agent.dispose();
      await s.dispose();
      await expect(fetch(`${base}/api/info`)).rejects.toThrow();

      // A pair teacher cannot rate: rbrl's own rating teacher answers for nobody, and the line says so.
      const o = await build({ fallback: 'oracle' });
      expect(lines.at(-1)).toMatch(/"oracle" compares pairs and cannot rate one segment, so rbrl's rating teacher "rating:classes=4" rates the rest/);
      expect(await o.learner.feedbackRound(run.trajectories)).toMatchObject({ asked: 3, labelled: 3 });
      expect(new Set(o.learner.rated.map((r) => r.classes))).toEqual(new Set([4]));
      o.agent.dispose();
      await o.s.dispose();
      await expect(build({ fallback: 'orcale' })).rejects.toThrow(/unknown teacher "orcale"/);
      await expect(build({ fallback: 'rating:classes=3' })).rejects.toThrow(/human\.fallback "rating:classes=3" rates on 3 levels but rbrl\.teacher "rating:classes=4"/);
    } finally {
      log.mockRestore();
    }
  }, 60_000);

  it('refuses what is not wired: people labelling for heron, and a non-zoo algo', async () => {
    const agent = new SAC(39, 4, { hiddenDims: [8] }, 0);
    await expect(setupZoo(tiny('heron', { human: {} }), agent)).rejects.toThrow(/--teacher human is not wired for --algo heron/);
    await expect(setupZoo(tiny('prior', { human: {} }), agent)).rejects.toThrow(/--teacher human is not wired for --algo prior/);
    await expect(setupZoo(tiny('pebble'), agent)).rejects.toThrow(/"pebble" is not a zoo algorithm/);
    agent.dispose();
  });
});
