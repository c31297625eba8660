/**
 * Rollout workers: N envs stepped in W child processes, so env stepping runs on other cores while the
 * trainer learns. Each worker is an EnvServer (remote/worker-main.ts) on a private ipc:// endpoint and
 * the pool talks to it with the same protocol as any remote client.
 *
 * Determinism: env i (global index) is reset with `seed + i` and then draws later episodes from its own
 * RNG, exactly as VectorEnv does, and a worker holds a contiguous block of envs. So a pool gives the
 * same numbers as an in-process VectorEnv with the same seed, for every worker count.
 *
 * Overlap: `step()` puts its requests on the wire before it returns the promise, so
 *   const pending = pool.step(actions); learnerUpdate(); const r = await pending;
 * runs the envs during `learnerUpdate()`.
 *
 * Crashes: a worker that exits or does not answer within `stepTimeoutMs` is reported (log line,
 * `crashes`, `onCrash`), killed if still there, and replaced. Its envs restart from fresh episodes
 * (seeds `seed + i + RESTART_SEED_STRIDE * restartCount`) and the step reports them as truncated with
 * `info.worker_restart = 1`, `finalObs` = the last observation the pool had for them.
 *
 * Orphans: workers exit when their IPC channel to the parent closes (parent exit, crash or SIGKILL);
 * the parent also kills them on process 'exit' and, when nobody else handles them, on SIGINT/SIGTERM.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Box } from '../core/spaces.js';
import { makeInfo, type StepInfo } from '../envs/sawyer-env.js';
import type { VectorStep } from '../envs/vector-env.js';
import { getTask } from '../envs/registry.js';
import { RemoteVectorEnv, RemoteTimeoutError } from './client.js';

export interface RolloutWorkersOptions {
  task: string;
  /** Total envs across all workers. */
  numEnvs: number;
  /** Worker processes (1..numEnvs). */
  workers: number;
  /** Env i is reset with seed + i (default 0). */
  seed?: number;
  maxPathLength?: number;
  goalObservable?: boolean;
  /** Meta-World version of the workers' envs (default 'v2'). */
  version?: 'v2' | 'v3';
  /** A worker that does not answer a step within this is treated as hung (default 60 s). */
  stepTimeoutMs?: number;
  /** How long a worker may take to start (default 60 s). */
  startTimeoutMs?: number;
  /** Crashes tolerated over the pool's life before step() gives up and throws (default 10). */
  maxRestarts?: number;
  /** Called after a crashed worker was replaced. */
  onCrash?: (crash: WorkerCrash) => void;
  /** Diagnostics (default: stderr). */
  log?: (line: string) => void;
}

export interface WorkerCrash {
  worker: number;
  pid: number;
  /** Global env indices the worker held: [start, end). */
  envs: [number, number];
  reason: string;
  /** The replacement's pid. */
  newPid: number;
}

export interface PoolStep extends VectorStep {
  /** Global indices of envs whose worker was replaced during this step (empty normally). */
  restarted: number[];
}

/** Seed offset per restart, so replacement envs do not replay the episodes they had before. */
export const RESTART_SEED_STRIDE = 1_000_003;

const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'worker-main.ts');

/** tsx as an --import loader; resolved to a file URL so the child finds it from any cwd. */
function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

// ---- process-wide cleanup: no worker outlives its parent ------------------------------------------

const liveChildren = new Set<ChildProcess>();
const liveSocketFiles = new Set<string>();
let hooksInstalled = false;

function killAllChildren(): void {
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const f of liveSocketFiles) {
    try {
      unlinkSync(f);
    } catch {
      // already gone
    }
  }
  liveSocketFiles.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllChildren);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      killAllChildren();
      // If the application handles this signal itself, leave the decision to exit to it (its own
      // exit then runs the 'exit' hook). Otherwise restore the default action and re-raise, so the
      // process ends the way it would have without us.
      if (process.listenerCount(sig) <= 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

// ---- the pool ---------------------------------------------------------------------------------------

interface Slot {
  index: number;
  start: number;
  end: number;
  child: ChildProcess | null;
  vec: RemoteVectorEnv | null;
  socketFile: string | null;
  alive: boolean;
  /** Resolves with a reason when the current child exits. */
  died: Promise<string>;
  /** Why the current child exited, once it has. */
  deathReason: string | null;
  /** Set while a replacement is being started, so concurrent paths share it. */
  replacing: Promise<Float32Array> | null;
}

export class RolloutWorkers {
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  readonly seed: number;
  /** Every crash so far, oldest first. */
  readonly crashes: WorkerCrash[] = [];
  private readonly lastObs: Float32Array;
  private started = false;
  private closed = false;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly opts: RolloutWorkersOptions,
    private readonly slots: Slot[],
  ) {
    const v = slots[0].vec!;
    this.numEnvs = opts.numEnvs;
    this.obsDim = v.obsDim;
    this.actDim = v.actDim;
    this.observationSpace = v.observationSpace;
    this.actionSpace = v.actionSpace;
    this.seed = opts.seed ?? 0;
    this.lastObs = new Float32Array(this.numEnvs * this.obsDim);
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  static async start(opts: RolloutWorkersOptions): Promise<RolloutWorkers> {
    getTask(opts.task);
    const { numEnvs, workers } = opts;
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new Error(`numEnvs must be a positive integer, got ${numEnvs}`);
    if (!Number.isInteger(workers) || workers < 1 || workers > numEnvs) {
      throw new Error(`workers must be an integer in [1, numEnvs = ${numEnvs}], got ${workers}`);
    }
    if (opts.seed !== undefined && !Number.isFinite(opts.seed)) throw new Error(`seed must be a finite number, got ${opts.seed}`);
    installExitHooks();
    const slots: Slot[] = Array.from({ length: workers }, (_, w) => ({
      index: w,
      start: Math.floor((w * numEnvs) / workers),
      end: Math.floor(((w + 1) * numEnvs) / workers),
      child: null,
      vec: null,
      socketFile: null,
      alive: false,
      died: new Promise<string>(() => {}),
      deathReason: null,
      replacing: null,
    }));
    // Workers start in parallel; the pool reads its spaces from the first one once they are up.
    const results = await Promise.allSettled(slots.map((s) => spawnWorker(s, opts)));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      for (const s of slots) await stopWorker(s);
      throw failed.reason;
    }
    return new RolloutWorkers(opts, slots);
  }

  /** Process ids of the current workers (for diagnostics and tests). */
  get pids(): number[] {
    return this.slots.map((s) => s.child?.pid ?? -1);
  }

  /** Which envs each worker holds: [start, end) per worker. */
  get layout(): [number, number][] {
    return this.slots.map((s) => [s.start, s.end]);
  }

  /** Resets every env (env i with seed + i) and returns obs [numEnvs * obsDim]. */
  async reset(seed = this.seed): Promise<Float32Array> {
    this.assertOpen();
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    const parts = await Promise.all(
      this.slots.map(async (s) => {
        if (!s.alive) await this.replace(s, s.deathReason ?? 'worker was not running');
        // Resets rebuild scenes and are rare: they get the start-up timeout, not the step timeout.
        const reset = (): Promise<Float32Array> => s.vec!.reset(seed + s.start, undefined, this.opts.startTimeoutMs ?? 60_000);
        try {
          return await Promise.race([reset(), s.died.then((why) => Promise.reject(new WorkerDied(why)))]);
        } catch (err) {
          if (!(err instanceof WorkerDied || err instanceof RemoteTimeoutError)) throw err;
          await this.replace(s, err instanceof WorkerDied ? err.message : 'no answer to reset');
          return reset();
        }
      }),
    );
    const obs = new Float32Array(this.numEnvs * this.obsDim);
    this.slots.forEach((s, w) => obs.set(parts[w], s.start * this.obsDim));
    this.lastObs.set(obs);
    this.started = true;
    return obs;
  }

  /**
   * Steps every env with `actions` (numEnvs * actDim, row-major). The requests are sent before this
   * returns; await the promise when the results are needed.
   */
  step(actions: Float32Array | ArrayLike<number>): Promise<PoolStep> {
    try {
      this.assertOpen();
      if (!this.started) throw new Error('call reset() before step()');
      if (actions == null || actions.length !== this.numEnvs * this.actDim) {
        throw new Error(`actions has length ${actions?.length}, expected numEnvs * ${this.actDim} = ${this.numEnvs * this.actDim}`);
      }
      // Validate before any worker steps, so one bad value cannot leave the workers out of step.
      for (let k = 0; k < actions.length; k++) {
        if (typeof actions[k] !== 'number' || !Number.isFinite(actions[k])) {
          throw new Error(`action of env ${Math.floor(k / this.actDim)}, component ${k % this.actDim} is ${actions[k]}; actions must be finite`);
        }
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const a = Float32Array.from(actions);
    const parts = this.slots.map((s) => this.stepSlot(s, a.subarray(s.start * this.actDim, s.end * this.actDim)));
    return Promise.all(parts).then((results) => this.merge(results));
  }

  private async stepSlot(s: Slot, a: Float32Array): Promise<VectorStep & { restarted: boolean }> {
    if (s.alive && s.vec) {
      let reason: string | null = null;
      try {
        const r = await Promise.race([s.vec.step(a), s.died.then((why) => Promise.reject(new WorkerDied(why)))]);
        return { ...r, restarted: false };
      } catch (err) {
        if (err instanceof WorkerDied) reason = err.message;
        else if (err instanceof RemoteTimeoutError) reason = `no answer within ${this.opts.stepTimeoutMs ?? 60_000} ms`;
        else throw err;
      }
      return this.restartedResult(s, await this.replace(s, reason));
    }
    return this.restartedResult(s, await this.replace(s, s.deathReason ?? 'worker was not running'));
  }

  /** Starts a new worker for `s` (once, however many callers ask) and returns its envs' first obs. */
  private replace(s: Slot, reason: string): Promise<Float32Array> {
    if (s.replacing) return s.replacing;
    const oldPid = s.child?.pid ?? -1;
    s.replacing = (async () => {
      if (this.crashes.length >= (this.opts.maxRestarts ?? 10)) {
        throw new Error(`rollout worker ${s.index} failed (${reason}) and the pool already replaced ${this.crashes.length} workers; giving up`);
      }
      await stopWorker(s);
      await spawnWorker(s, this.opts);
      const restartSeed = this.seed + RESTART_SEED_STRIDE * (this.crashes.length + 1);
      const obs = await s.vec!.reset(restartSeed + s.start, undefined, this.opts.startTimeoutMs ?? 60_000);
      const crash: WorkerCrash = { worker: s.index, pid: oldPid, envs: [s.start, s.end], reason, newPid: s.child?.pid ?? -1 };
      this.crashes.push(crash);
      this.log(
        `pbrl: rollout worker ${s.index} (pid ${oldPid}, envs ${s.start}..${s.end - 1}) failed: ${reason}; ` +
          `replaced by pid ${crash.newPid}, its envs start new episodes (reported as truncated)`,
      );
      this.opts.onCrash?.(crash);
      return obs;
    })().finally(() => {
      s.replacing = null;
    });
    return s.replacing;
  }

  private restartedResult(s: Slot, obs: Float32Array): VectorStep & { restarted: boolean } {
    const n = s.end - s.start;
    const infos: StepInfo[] = [];
    const finalObs: (Float32Array | null)[] = [];
    for (let j = 0; j < n; j++) {
      infos.push({ ...makeInfo(0, false), worker_restart: 1 });
      const i = s.start + j;
      finalObs.push(this.lastObs.slice(i * this.obsDim, (i + 1) * this.obsDim));
    }
    return {
      obs,
      rewards: new Float32Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n).fill(1),
      success: new Uint8Array(n),
      infos,
      finalObs,
      restarted: true,
    };
  }

  private merge(parts: (VectorStep & { restarted: boolean })[]): PoolStep {
    const N = this.numEnvs;
    const out: PoolStep = {
      obs: new Float32Array(N * this.obsDim),
      rewards: new Float32Array(N),
      terminated: new Uint8Array(N),
      truncated: new Uint8Array(N),
      success: new Uint8Array(N),
      infos: [],
      finalObs: [],
      restarted: [],
    };
    this.slots.forEach((s, w) => {
      const p = parts[w];
      out.obs.set(p.obs, s.start * this.obsDim);
      out.rewards.set(p.rewards, s.start);
      out.terminated.set(p.terminated, s.start);
      out.truncated.set(p.truncated, s.start);
      out.success.set(p.success, s.start);
      out.infos.push(...p.infos);
      out.finalObs.push(...p.finalObs);
      if (p.restarted) for (let i = s.start; i < s.end; i++) out.restarted.push(i);
    });
    this.lastObs.set(out.obs);
    return out;
  }

  /** Stops every worker and removes its socket file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => stopWorker(s)));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the rollout pool is closed');
  }
}

class WorkerDied extends Error {}

async function spawnWorker(s: Slot, opts: RolloutWorkersOptions): Promise<void> {
  const socketFile = join(tmpdir(), `pbrl-${process.pid}-${randomBytes(4).toString('hex')}-w${s.index}.sock`);
  const endpoint = `ipc://${socketFile}`;
  const child = fork(WORKER_SCRIPT, [], {
    execArgv: ['--import', tsxLoader()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      PBRL_WORKER_CONFIG: JSON.stringify({
        task: opts.task,
        endpoint,
        numEnvs: s.end - s.start,
        maxPathLength: opts.maxPathLength,
        goalObservable: opts.goalObservable,
        version: opts.version,
      }),
    },
  });
  liveChildren.add(child);
  liveSocketFiles.add(socketFile);
  s.child = child;
  s.socketFile = socketFile;
  s.alive = true;
  s.deathReason = null;
  s.died = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      const reason = signal ? `exited on signal ${signal}` : `exited with code ${code}`;
      if (s.child === child) {
        s.alive = false;
        s.deathReason = reason;
      }
      resolve(reason);
    });
  });
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  try {
    await waitReady(s, child, startTimeoutMs);
    // The parent's event loop is held only while the worker comes up; later, a forgotten pool must
    // not keep a finished trainer alive (the exit hook then kills the workers).
    child.unref();
    child.channel?.unref();
    s.vec = await RemoteVectorEnv.open(endpoint, {
      numEnvs: s.end - s.start,
      maxPathLength: opts.maxPathLength,
      goalObservable: opts.goalObservable,
      timeoutMs: opts.stepTimeoutMs ?? 60_000,
      openTimeoutMs: startTimeoutMs,
    });
  } catch (err) {
    await stopWorker(s); // a worker that failed to come up must not linger
    throw err;
  }
}

function waitReady(s: Slot, child: ChildProcess, startTimeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rollout worker ${s.index} did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    child.on('message', (m: { type?: string; message?: string }) => {
      if (m?.type === 'ready') {
        clearTimeout(timer);
        resolve();
      } else if (m?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`rollout worker ${s.index} failed to start: ${m.message}`));
      }
    });
    void s.died.then((why) => {
      clearTimeout(timer);
      reject(new Error(`rollout worker ${s.index} ${why} while starting`));
    });
  });
}

async function stopWorker(s: Slot): Promise<void> {
  const vec = s.vec;
  s.vec = null;
  // Closing the connection alone is enough: the session dies with the process.
  vec?.conn.close();
  const child = s.child;
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.ref(); // the child was unref'd; hold the event loop until its exit is seen
    child.kill('SIGKILL');
    await gone;
  }
  if (child) liveChildren.delete(child);
  s.alive = false;
  if (s.socketFile) {
    liveSocketFiles.delete(s.socketFile);
    if (existsSync(s.socketFile)) {
      try {
        unlinkSync(s.socketFile);
      } catch {
        // removed meanwhile
      }
    }
    s.socketFile = null;
  }
}
