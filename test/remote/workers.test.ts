import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RolloutWorkers, RESTART_SEED_STRIDE, type WorkerCrash } from '../../remote/workers.js';
import { VectorEnv, type VectorStep } from '../../envs/vector-env.js';
import { makeEnv } from '../../envs/registry.js';
import { Rng } from '../../core/rng.js';
import { childrenOf, isAlive, waitUntil } from './helpers.js';

const N = 3;
const SEED = 21;
const MAX_PATH = 8;
let one: RolloutWorkers;
let two: RolloutWorkers;
const crashes: WorkerCrash[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  [one, two] = await Promise.all([
    RolloutWorkers.start({ task: 'push', numEnvs: N, workers: 1, seed: SEED, maxPathLength: MAX_PATH }),
    RolloutWorkers.start({
      task: 'push',
      numEnvs: N,
      workers: 2,
      seed: SEED,
      maxPathLength: MAX_PATH,
      stepTimeoutMs: 5000,
      onCrash: (c) => crashes.push(c),
      log: (l) => logLines.push(l),
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

function expectSameStep(a: VectorStep, b: VectorStep, envs: number[]): void {
  for (const i of envs) {
    expect(Array.from(a.obs.subarray(i * 39, (i + 1) * 39))).toEqual(Array.from(b.obs.subarray(i * 39, (i + 1) * 39)));
    expect(a.rewards[i]).toBe(b.rewards[i]);
    expect(a.truncated[i]).toBe(b.truncated[i]);
    expect(a.success[i]).toBe(b.success[i]);
    expect(a.infos[i]).toEqual(b.infos[i]);
    expect(a.finalObs[i] && Array.from(a.finalObs[i]!)).toEqual(b.finalObs[i] && Array.from(b.finalObs[i]!));
  }
}

describe('RolloutWorkers', () => {
  it('splits envs over workers and gives the numbers of an in-process VectorEnv, for 1 and 2 workers', async () => {
    expect(two.layout).toEqual([
      [0, 1],
      [1, 3],
    ]);
    expect(new Set([...one.pids, ...two.pids, process.pid]).size).toBe(4);
    const vec = await VectorEnv.make('push', N, { seed: SEED, maxPathLength: MAX_PATH });
    const v0 = Array.from(vec.reset());
    expect(Array.from(await one.reset())).toEqual(v0);
    expect(Array.from(await two.reset())).toEqual(v0);
    const rng = new Rng(9);
    const actions = new Float32Array(N * 4);
    let ended = 0;
    for (let t = 0; t < 2 * MAX_PATH + 2; t++) {
      rng.fillUniform(actions, -1, 1);
      const [a, b] = await Promise.all([one.step(actions), two.step(actions)]);
      const v = vec.step(actions);
      expectSameStep(a, v, [0, 1, 2]);
      expectSameStep(b, v, [0, 1, 2]);
      expect(b.restarted).toEqual([]);
      ended += v.truncated.reduce((s, x) => s + x, 0);
    }
    expect(ended).toBe(2 * N); // autoreset happened inside the comparison
    vec.close();
  });

  it('overlaps stepping with work done before awaiting the step', async () => {
    // Enough envs in one worker that a step takes measurable time.
    const big = await RolloutWorkers.start({ task: 'push', numEnvs: 24, workers: 1, seed: 0 });
    try {
      await big.reset();
      const actions = new Float32Array(24 * 4);
      const plain: number[] = [];
      for (let k = 0; k < 6; k++) {
        const t0 = performance.now();
        await big.step(actions);
        plain.push(performance.now() - t0);
      }
      const stepMs = Math.min(...plain.slice(1)); // the first step warms up the JIT
      // Send, then block this thread: if the request left before step() returned, the worker steps
      // meanwhile and the reply is waiting when we await it. The machine is shared, so the best of
      // three tries must show it.
      const waits: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const pending = big.step(actions);
        const until = performance.now() + Math.max(300, 4 * stepMs);
        while (performance.now() < until);
        const t0 = performance.now();
        await pending;
        waits.push(performance.now() - t0);
        if (waits.at(-1)! < stepMs / 3) break;
      }
      expect(Math.min(...waits), `plain step ${stepMs.toFixed(1)} ms, waits after blocking: ${waits.map((w) => w.toFixed(1))}`).toBeLessThan(stepMs / 3);
    } finally {
      await big.close();
    }
  });

  it('rejects bad actions before any worker steps, and keeps working', async () => {
    await two.reset();
    const bad = new Float32Array(N * 4);
    bad[5] = NaN;
    await expect(two.step(bad)).rejects.toThrow(/action of env 1, component 1 is NaN/);
    await expect(two.step(new Float32Array(5))).rejects.toThrow(/actions has length 5, expected numEnvs \* 4 = 12/);
    // Envs were not stepped by the bad calls: the next step matches a fresh VectorEnv's first step.
    const vec = await VectorEnv.make('push', N, { seed: SEED, maxPathLength: MAX_PATH });
    vec.reset();
    const zeros = new Float32Array(N * 4);
    expectSameStep(await two.step(zeros), vec.step(zeros), [0, 1, 2]);
    vec.close();
  });

  it('detects a killed worker, replaces it, and reports its envs as truncated with fresh episodes', async () => {
    const before = await two.reset();
    const victim = two.pids[1];
    process.kill(victim, 'SIGKILL');
    await waitUntil(() => !isAlive(victim), 5000);
    const r = await two.step(new Float32Array(N * 4));
    expect(r.restarted).toEqual([1, 2]);
    expect(Array.from(r.truncated)).toEqual([0, 1, 1]);
    expect(r.infos[1].worker_restart).toBe(1);
    expect(r.infos[0].worker_restart).toBeUndefined();
    expect(Array.from(r.finalObs[2]!)).toEqual(Array.from(before.subarray(2 * 39, 3 * 39)));
    // The replacement's envs start from seed + i + stride * (restart number).
    const env = await makeEnv('push', { maxPathLength: MAX_PATH });
    expect(Array.from(r.obs.subarray(39, 78))).toEqual(Array.from(env.reset({ seed: SEED + 1 + RESTART_SEED_STRIDE }).obs));
    env.close();
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toMatchObject({ worker: 1, pid: victim, envs: [1, 3], reason: 'exited on signal SIGKILL' });
    expect(two.pids[1]).toBe(crashes[0].newPid);
    expect(isAlive(two.pids[1])).toBe(true);
    expect(logLines.join('\n')).toMatch(new RegExp(`rollout worker 1 \\(pid ${victim}, envs 1..2\\) failed: exited on signal SIGKILL; replaced by pid \\d+`));
    const next = await two.step(new Float32Array(N * 4));
    expect(next.restarted).toEqual([]);

    // A worker lost before a reset is replaced there, and the reset keeps its meaning (seed + i).
    const victim0 = two.pids[0];
    process.kill(victim0, 'SIGKILL');
    const obs = await two.reset();
    const vec = await VectorEnv.make('push', N, { seed: SEED, maxPathLength: MAX_PATH });
    expect(Array.from(obs)).toEqual(Array.from(vec.reset()));
    vec.close();
    expect(crashes.at(-1)).toMatchObject({ worker: 0, pid: victim0 });
  });

  it('treats a worker that stops answering as crashed (step timeout) and kills it', async () => {
    await two.reset();
    const victim = two.pids[0];
    process.kill(victim, 'SIGSTOP');
    const r = await two.step(new Float32Array(N * 4));
    expect(r.restarted).toEqual([0]);
    expect(crashes.at(-1)).toMatchObject({ worker: 0, pid: victim, reason: 'no answer within 5000 ms' });
    expect(await waitUntil(() => !isAlive(victim), 5000)).toBe(true);
  });

  it('validates its options and shuts every worker down on close', async () => {
    await expect(RolloutWorkers.start({ task: 'push', numEnvs: 2, workers: 3 })).rejects.toThrow(/workers must be an integer in \[1, numEnvs = 2\], got 3/);
    await expect(RolloutWorkers.start({ task: 'nope', numEnvs: 2, workers: 1 })).rejects.toThrow(/unknown task "nope"/);
    // A worker that cannot come up in time is killed, not left behind.
    const children = () => childrenOf(process.pid);
    const before = children();
    await expect(RolloutWorkers.start({ task: 'push', numEnvs: 2, workers: 2, startTimeoutMs: 50 })).rejects.toThrow(/rollout worker \d did not start within 50 ms/);
    expect(await waitUntil(() => children().length <= before.length, 5000)).toBe(true);
    const pids = one.pids;
    await one.close();
    expect(pids.every((p) => !isAlive(p))).toBe(true);
    await expect(one.reset()).rejects.toThrow(/closed/);
  });
});
