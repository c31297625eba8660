/**
 * Serves environments over ZeroMQ (protocol in remote/protocol.ts and remote/README.md).
 *
 * One ROUTER socket; every client opens one or more *sessions*, each with its own set of envs. A
 * session is named by an id in the request header rather than by the ZeroMQ routing id, so a client
 * that reconnects (new routing id) keeps its envs, and one socket can drive several sessions. Clients
 * therefore never see each other's episodes, and a client that goes away leaks nothing for long:
 * idle sessions are closed after `sessionIdleMs`.
 *
 * Requests are handled one at a time on the event loop. Every failure of a request (bad frame,
 * unknown command, wrong action size, NaN, env exception) becomes an error reply to that request
 * only; the loop keeps serving everyone else.
 *
 * Session ids are 128 random bits, so a client cannot step or close a session it was not given.
 * Off loopback, the socket uses CURVE (encryption, and a ZAP handler that lets in only listed client
 * keys) unless the caller explicitly asks for an insecure server.
 */
import * as zmq from 'zeromq';
import { randomBytes } from 'node:crypto';
import { initPhysics } from '../envs/physics.js';
import { getTask, taskNames } from '../envs/registry.js';
import { OBS_DIM, ACT_DIM, DEFAULT_ENV_VERSION, parseEnvVersion, type EnvVersion, type SawyerEnv } from '../envs/sawyer-env.js';
import { clipText, show } from './client-text.js';
import type { ServerCurve } from './curve-keys.js';
import { registerZapDomain } from './zap.js';
import {
  PROTOCOL_VERSION,
  COMMANDS,
  REQUEST_SHAPE,
  isCommand,
  ProtocolError,
  decodeRequestHeader,
  encodeHeader,
  readFloat32,
  toFrame,
  optBool,
  optFiniteNumber,
  optInt,
  optString,
  type FrameSpec,
  type ReplyHeader,
  type RequestHeader,
} from './protocol.js';

export interface EnvServerOptions {
  /** Task a session gets when `open` names none. */
  task: string;
  /** Envs in a session when `open` asks for no count. */
  numEnvs?: number;
  /** ZeroMQ endpoint; tcp port 0 or * picks a free port (see `endpoint` after start). */
  bind?: string;
  maxSessions?: number;
  maxEnvsPerSession?: number;
  /** Sessions unused this long are closed (default 10 minutes). */
  sessionIdleMs?: number;
  /** Defaults for envs created by `open` (a session may override them). */
  maxPathLength?: number;
  /** Default false (Meta-World's raw tasks hide the goal); a session's `goalObservable` overrides it. */
  goalObservable?: boolean;
  /** Meta-World version of every env this server makes (default 'v2'; not a per-session choice). */
  version?: EnvVersion;
  /** Where diagnostics go (client errors, expired sessions); default: nowhere. */
  log?: (line: string) => void;
  /** CURVE keys: encrypt every connection and accept only the listed client keys. */
  curve?: ServerCurve;
  /** Allow a non-loopback bind without CURVE (anyone who can reach the port can use the server). */
  insecure?: boolean;
  /** Client-error log lines allowed per 10 s before the rest are only counted (default 20). */
  errorLogBurst?: number;
}

export const DEFAULT_BIND = 'tcp://127.0.0.1:5555';

/** Longest log line the server writes; anything a client sent is clipped well below it. */
const MAX_LOG_LINE = 400;
const ERROR_LOG_WINDOW_MS = 10_000;

interface Session {
  id: string;
  task: string;
  envs: SawyerEnv[];
  autoreset: boolean;
  /** Env i has been reset at least once (it has a scene to step). */
  started: boolean[];
  /** Env i finished an episode and, with autoreset off, must be reset before its next step. */
  done: boolean[];
  lastUsed: number;
}

type Frames = Buffer[];

export class EnvServer {
  private readonly sock: zmq.Router;
  private readonly sessions = new Map<string, Session>();
  private readonly opts: Required<Omit<EnvServerOptions, 'log' | 'maxPathLength' | 'goalObservable' | 'curve' | 'insecure' | 'errorLogBurst'>> &
    Pick<EnvServerOptions, 'maxPathLength' | 'goalObservable' | 'curve'>;
  private readonly log: (line: string) => void;
  private loop: Promise<void> | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;
  private releaseZap: (() => void) | null = null;
  private readonly errorLogBurst: number;
  private errorLogWindowStart = 0;
  private errorLogCount = 0;
  private errorLogSuppressed = 0;
  /** Requests served, for `hello` and diagnostics. */
  requests = 0;
  errors = 0;

  constructor(opts: EnvServerOptions) {
    getTask(opts.task); // unknown task: fail now with the list of valid names
    this.opts = {
      task: opts.task,
      numEnvs: opts.numEnvs ?? 1,
      bind: opts.bind ?? DEFAULT_BIND,
      maxSessions: opts.maxSessions ?? 32,
      maxEnvsPerSession: opts.maxEnvsPerSession ?? 256,
      sessionIdleMs: opts.sessionIdleMs ?? 10 * 60_000,
      maxPathLength: opts.maxPathLength,
      goalObservable: opts.goalObservable,
      version: parseEnvVersion(opts.version ?? DEFAULT_ENV_VERSION),
      curve: opts.curve,
    };
    const { numEnvs, maxEnvsPerSession } = this.opts;
    if (!Number.isInteger(numEnvs) || numEnvs < 1 || numEnvs > maxEnvsPerSession) {
      throw new Error(`numEnvs must be an integer in [1, ${maxEnvsPerSession}], got ${opts.numEnvs}`);
    }
    if (!opts.curve && !opts.insecure && !isLoopback(this.opts.bind)) {
      throw new Error(
        `${this.opts.bind} is reachable from other machines and this server has no CURVE keys: ` +
          'create them with `pbrl serve --keygen DIR` and serve with `--curve DIR`, or pass --insecure to serve without authentication',
      );
    }
    const userLog = opts.log;
    // Every line is escaped and clipped at the last moment, whatever a message embeds.
    this.log = userLog ? (line) => userLog(clipText(line, MAX_LOG_LINE)) : () => {};
    this.errorLogBurst = opts.errorLogBurst ?? 20;
    this.sock = new zmq.Router({ linger: 0, maxMessageSize: 64 * 1024 * 1024 });
    if (opts.curve) {
      this.sock.curveServer = true;
      this.sock.curveSecretKey = opts.curve.secretKey;
    }
  }

  /** 'curve' when connections are encrypted and client keys checked, else 'none'. */
  get auth(): 'curve' | 'none' {
    return this.opts.curve ? 'curve' : 'none';
  }

  /** The bound endpoint, with the real port when tcp port 0 / * was asked for. */
  get endpoint(): string {
    return this.sock.lastEndpoint ?? this.opts.bind;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async start(): Promise<string> {
    await initPhysics();
    const bind = this.opts.bind.replace(/^(tcp:\/\/[^/]*):0$/, '$1:*');
    const curve = this.opts.curve;
    if (curve) {
      const keys = new Map(curve.clients.map((c) => [c.publicKey, c.name]));
      const zap = await registerZapDomain(keys, (address) => this.logClientError(`refused a CURVE client from ${address}: its public key is not among the accepted ones`));
      this.releaseZap = zap.release;
      this.sock.zapDomain = zap.domain;
    }
    try {
      await this.sock.bind(bind);
    } catch (err) {
      this.releaseZap?.();
      throw new Error(`cannot bind ${this.opts.bind}: ${(err as Error).message}`);
    }
    if (!isLoopback(bind) && !curve) this.log(`warning: ${bind} is reachable from other machines and --insecure was given: anyone who reaches it can use this server`);
    this.loop = this.serve();
    this.sweeper = setInterval(() => this.expireIdle(), Math.min(30_000, this.opts.sessionIdleMs)).unref();
    return this.endpoint;
  }

  /** Stops serving and frees every env. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sock.close();
    await this.loop?.catch(() => {});
    this.releaseZap?.();
    for (const s of this.sessions.values()) for (const e of s.envs) e.close();
    this.sessions.clear();
  }

  private async serve(): Promise<void> {
    try {
      for await (const msg of this.sock) {
        const reply = this.handleMessage(msg);
        if (reply) await this.sock.send(reply);
      }
    } catch (err) {
      if (!this.closed) this.log(`server loop stopped: ${(err as Error).message}`);
    }
  }

  /**
   * Logs a line caused by a client, at most `errorLogBurst` per 10 s: a client that sends garbage
   * in a loop gets error replies, not a log that fills the disk. What was dropped is counted.
   */
  private logClientError(line: string): void {
    const now = Date.now();
    if (now - this.errorLogWindowStart >= ERROR_LOG_WINDOW_MS) {
      if (this.errorLogSuppressed > 0) this.log(`${this.errorLogSuppressed} more client error(s) in the last ${ERROR_LOG_WINDOW_MS / 1000} s were not logged`);
      this.errorLogWindowStart = now;
      this.errorLogCount = 0;
      this.errorLogSuppressed = 0;
    }
    if (this.errorLogCount < this.errorLogBurst) {
      this.errorLogCount++;
      this.log(line);
    } else this.errorLogSuppressed++;
  }

  /**
   * One ROUTER message -> one reply (routing envelope included). A REQ client puts an empty
   * delimiter frame after the routing id; a DEALER client usually does not. Both get back the
   * envelope they sent.
   */
  handleMessage(msg: Frames): Frames | null {
    if (msg.length < 1) return null;
    const envelope: Buffer[] = [msg[0]];
    let k = 1;
    if (msg.length > 1 && msg[1].byteLength === 0) {
      envelope.push(msg[1]);
      k = 2;
    }
    const body = msg.slice(k);
    this.requests++;
    let id: number | string | null = null;
    let cmd = '?';
    try {
      const h = decodeRequestHeader(body[0]);
      id = h.id ?? null;
      cmd = h.cmd;
      const { header, frames } = this.dispatch(h, body.slice(1));
      return [...envelope, encodeHeader({ v: PROTOCOL_VERSION, id, ok: true, ...header }), ...frames];
    } catch (err) {
      this.errors++;
      const pe =
        err instanceof ProtocolError ? err : new ProtocolError('internal', `unexpected server error: ${(err as Error)?.message ?? String(err)}`);
      this.logClientError(`request ${show(cmd, 32)}${id !== null ? ` #${show(id, 32)}` : ''} failed: [${pe.code}] ${clipText(pe.message, 200)}`);
      const reply: ReplyHeader = { v: PROTOCOL_VERSION, id, ok: false, error: { code: pe.code, message: pe.message } };
      return [...envelope, encodeHeader(reply)];
    }
  }

  /** Refuses fields and frames the command does not take, before anything is looked up or changed. */
  private checkShape(h: RequestHeader, payload: Frames): void {
    if (!isCommand(h.cmd)) throw new ProtocolError('unknown_command', `unknown command ${show(h.cmd, 32)}; known: ${COMMANDS.join(', ')}`);
    const shape = REQUEST_SHAPE[h.cmd];
    for (const key of Object.keys(h)) {
      if (key !== 'v' && key !== 'id' && key !== 'cmd' && !shape.fields.includes(key)) {
        const allowed = shape.fields.length ? shape.fields.join(', ') : 'none';
        throw new ProtocolError('bad_request', `${h.cmd} has no field ${show(key, 32)} (its fields besides v, id, cmd: ${allowed})`);
      }
    }
    if (payload.length > shape.frames) {
      const what = shape.frames === 0 ? 'no payload frames' : `exactly ${shape.frames} payload frame (the actions)`;
      throw new ProtocolError('bad_frame', `${h.cmd} takes ${what} after the header; this request has ${payload.length}`);
    }
  }

  private dispatch(h: RequestHeader, payload: Frames): { header: Record<string, unknown>; frames: Buffer[] } {
    this.checkShape(h, payload);
    switch (h.cmd) {
      case 'ping':
        return { header: {}, frames: [] };
      case 'hello':
        return {
          header: {
            server: 'pbrl',
            protocol: PROTOCOL_VERSION,
            task: this.opts.task,
            tasks: taskNames(),
            numEnvs: this.opts.numEnvs,
            maxEnvsPerSession: this.opts.maxEnvsPerSession,
            obsDim: OBS_DIM,
            actDim: ACT_DIM,
            sessions: this.sessions.size,
            commands: COMMANDS,
            auth: this.auth,
          },
          frames: [],
        };
      case 'open':
        return this.open(h);
      case 'spaces':
        return { header: this.describe(this.session(h)), frames: [] };
      case 'reset':
        return this.reset(h, this.session(h));
      case 'step':
        return this.step(h, this.session(h), payload);
      case 'poses': {
        const s = this.session(h);
        return this.poses(s);
      }
      case 'close': {
        const s = this.session(h);
        for (const e of s.envs) e.close();
        this.sessions.delete(s.id);
        return { header: { closed: s.id }, frames: [] };
      }
      default:
        throw new ProtocolError('internal', `command ${show(h.cmd, 32)} has no handler`);
    }
  }

  private session(h: RequestHeader): Session {
    const id = optString(h, 'session');
    if (id === undefined) throw new ProtocolError('bad_request', `${h.cmd} needs a "session" field (from the reply to "open")`);
    const s = this.sessions.get(id);
    if (!s) throw new ProtocolError('no_session', `no session ${show(id, 40)} (closed, expired after ${this.opts.sessionIdleMs / 1000} s idle, or from another server)`);
    s.lastUsed = Date.now();
    return s;
  }

  private open(h: RequestHeader): { header: Record<string, unknown>; frames: Buffer[] } {
    if (this.sessions.size >= this.opts.maxSessions) {
      throw new ProtocolError('too_many_sessions', `the server holds ${this.sessions.size} sessions (limit ${this.opts.maxSessions}); close one first`);
    }
    const task = optString(h, 'task') ?? this.opts.task;
    if (!taskNames().includes(task)) throw new ProtocolError('bad_request', `unknown task ${show(task, 40)}; valid tasks: ${taskNames().join(', ')}`);
    const entry = getTask(task);
    const numEnvs = optInt(h, 'numEnvs', 1, this.opts.maxEnvsPerSession) ?? this.opts.numEnvs;
    const maxPathLength = optInt(h, 'maxPathLength', 1, 1_000_000) ?? this.opts.maxPathLength;
    const goalObservable = optBool(h, 'goalObservable') ?? this.opts.goalObservable;
    const autoreset = optBool(h, 'autoreset') ?? true;
    const envs = Array.from({ length: numEnvs }, () => entry.create({ maxPathLength, goalObservable, version: this.opts.version }));
    // 128 random bits: knowing one's own session ids tells nothing about anyone else's.
    const id = randomBytes(16).toString('base64url');
    this.sessions.set(id, {
      id,
      task,
      envs,
      autoreset,
      started: new Array(numEnvs).fill(false),
      done: new Array(numEnvs).fill(false),
      lastUsed: Date.now(),
    });
    return { header: this.describe(this.sessions.get(id)!), frames: [] };
  }

  /** What a client needs to know about a session: sizes, spaces, episode settings. */
  private describe(s: Session): Record<string, unknown> {
    const e0 = s.envs[0];
    return {
      session: s.id,
      task: s.task,
      numEnvs: s.envs.length,
      autoreset: s.autoreset,
      obsDim: OBS_DIM,
      actDim: ACT_DIM,
      maxPathLength: e0.maxPathLength,
      goalObservable: e0.goalObservable,
      envVersion: e0.version,
      observationSpace: e0.observationSpace.toJSON(),
      actionSpace: e0.actionSpace.toJSON(),
    };
  }

  private reset(h: RequestHeader, s: Session): { header: Record<string, unknown>; frames: Buffer[] } {
    const n = s.envs.length;
    let which: number[];
    if (h.envs === undefined || h.envs === null) which = Array.from({ length: n }, (_, i) => i);
    else {
      if (!Array.isArray(h.envs) || h.envs.length === 0) throw new ProtocolError('bad_request', 'envs must be a non-empty array of env indices');
      which = h.envs.map((v, j) => {
        if (!Number.isInteger(v) || v < 0 || v >= n) throw new ProtocolError('bad_request', `envs[${j}] must be an env index in [0, ${n - 1}], got ${show(v)}`);
        return v as number;
      });
      if (new Set(which).size !== which.length) throw new ProtocolError('bad_request', 'envs lists an env index twice');
    }
    const seed = optFiniteNumber(h, 'seed');
    let seeds: number[] | undefined;
    if (h.seeds !== undefined && h.seeds !== null) {
      if (seed !== undefined) throw new ProtocolError('bad_request', 'give either seed or seeds, not both');
      if (!Array.isArray(h.seeds) || h.seeds.length !== which.length) {
        throw new ProtocolError('bad_request', `seeds must be an array with one seed per reset env (${which.length})`);
      }
      seeds = h.seeds.map((v, j) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError('bad_request', `seeds[${j}] must be a finite number, got ${show(v)}`);
        return v;
      });
    }
    let options: Record<string, unknown> | undefined;
    if (h.options !== undefined && h.options !== null) {
      if (typeof h.options !== 'object' || Array.isArray(h.options)) throw new ProtocolError('bad_request', 'options must be a JSON object');
      options = h.options as Record<string, unknown>;
    }
    const withPoses = optBool(h, 'withPoses') ?? false;
    if (withPoses && s.started.some((started, i) => !started && !which.includes(i))) {
      throw new ProtocolError('needs_reset', 'withPoses needs every env of the session reset; reset all envs first');
    }
    const obs = new Float32Array(which.length * OBS_DIM);
    const infos: Record<string, number>[] = [];
    which.forEach((i, j) => {
      // Same seeding rule as VectorEnv: env i gets seed + i, so a session equals an in-process VectorEnv.
      const envSeed = seeds ? seeds[j] : seed !== undefined ? seed + i : undefined;
      let r;
      try {
        r = s.envs[i].reset({ seed: envSeed, options });
      } catch (err) {
        throw new ProtocolError('env_error', `env ${i} reset failed: ${(err as Error).message}`);
      }
      obs.set(r.obs, j * OBS_DIM);
      infos.push(r.info);
      s.started[i] = true;
      s.done[i] = false;
    });
    const frames: Buffer[] = [toFrame(obs)];
    const specs: FrameSpec[] = [{ name: 'obs', dtype: 'float32', shape: [which.length, OBS_DIM] }];
    if (withPoses) this.appendPoses(s, frames, specs);
    return { header: { envs: which, infos, frames: specs }, frames };
  }

  private step(h: RequestHeader, s: Session, payload: Frames): { header: Record<string, unknown>; frames: Buffer[] } {
    const n = s.envs.length;
    const expected = n * ACT_DIM * 4;
    if (payload.length < 1) {
      throw new ProtocolError('bad_action', `step needs the actions as frame 1: float32 [${n}, ${ACT_DIM}] (${expected} bytes)`);
    }
    if (payload[0].byteLength !== expected) {
      throw new ProtocolError(
        'bad_action',
        `actions frame has ${payload[0].byteLength} bytes; this session has ${n} env(s) x ${ACT_DIM} float32 = ${expected} bytes`,
      );
    }
    const actions = readFloat32(payload[0]);
    const withPoses = optBool(h, 'withPoses') ?? false;
    // Validate everything before stepping anything, so a bad request leaves every env untouched.
    for (let k = 0; k < actions.length; k++) {
      if (!Number.isFinite(actions[k])) {
        const i = Math.floor(k / ACT_DIM);
        throw new ProtocolError('bad_action', `action of env ${i}, component ${k % ACT_DIM} is ${actions[k]}; actions must be finite (values outside [-1, 1] are clipped)`);
      }
    }
    for (let i = 0; i < n; i++) {
      if (!s.started[i]) throw new ProtocolError('needs_reset', `env ${i} was never reset: send "reset" before "step"`);
      if (s.done[i]) throw new ProtocolError('needs_reset', `env ${i} finished its episode and autoreset is off: reset it before stepping`);
    }
    const obs = new Float32Array(n * OBS_DIM);
    const rewards = new Float64Array(n);
    const terminated: number[] = [];
    const truncated: number[] = [];
    const infos: Record<string, number>[] = [];
    const final: number[] = [];
    const finalObs: Float32Array[] = [];
    for (let i = 0; i < n; i++) {
      let r;
      try {
        r = s.envs[i].step(actions.subarray(i * ACT_DIM, (i + 1) * ACT_DIM));
      } catch (err) {
        throw new ProtocolError('env_error', `env ${i} step failed: ${(err as Error).message}`);
      }
      rewards[i] = r.reward;
      terminated.push(r.terminated ? 1 : 0);
      truncated.push(r.truncated ? 1 : 0);
      infos.push(r.info);
      if (r.terminated || r.truncated) {
        final.push(i);
        finalObs.push(r.obs);
        if (s.autoreset) {
          // Same-step autoreset, as VectorEnv: the slot already holds the next episode's first obs.
          obs.set(s.envs[i].reset().obs, i * OBS_DIM);
          continue;
        }
        s.done[i] = true;
      }
      obs.set(r.obs, i * OBS_DIM);
    }
    const fo = new Float32Array(final.length * OBS_DIM);
    finalObs.forEach((o, j) => fo.set(o, j * OBS_DIM));
    const frames: Buffer[] = [toFrame(obs), toFrame(rewards), toFrame(fo)];
    const specs: FrameSpec[] = [
      { name: 'obs', dtype: 'float32', shape: [n, OBS_DIM] },
      { name: 'reward', dtype: 'float64', shape: [n] },
      { name: 'final_obs', dtype: 'float32', shape: [final.length, OBS_DIM] },
    ];
    if (withPoses) this.appendPoses(s, frames, specs);
    return { header: { terminated, truncated, infos, final, frames: specs }, frames };
  }

  private poses(s: Session): { header: Record<string, unknown>; frames: Buffer[] } {
    const frames: Buffer[] = [];
    const specs: FrameSpec[] = [];
    const bodyNames = this.appendPoses(s, frames, specs);
    return { header: { bodyNames, frames: specs }, frames };
  }

  /** Pose (xyz + quaternion xyzw) of every body of every env, float32 [numEnvs, bodies, 7]. */
  private appendPoses(s: Session, frames: Buffer[], specs: FrameSpec[]): string[] {
    if (!s.started.every(Boolean)) throw new ProtocolError('needs_reset', 'poses exist once every env of the session has been reset');
    const names = s.envs[0].poseBodyNames();
    const per = names.length * 7;
    const out = new Float32Array(s.envs.length * per);
    s.envs.forEach((e, i) => e.writePoses(out, i * per));
    frames.push(toFrame(out));
    specs.push({ name: 'poses', dtype: 'float32', shape: [s.envs.length, names.length, 7] });
    return names;
  }

  private expireIdle(): void {
    const now = Date.now();
    for (const s of this.sessions.values()) {
      if (now - s.lastUsed > this.opts.sessionIdleMs) {
        for (const e of s.envs) e.close();
        this.sessions.delete(s.id);
        this.log(`session ${s.id} (${s.task}, ${s.envs.length} envs) closed after ${Math.round((now - s.lastUsed) / 1000)} s idle`);
      }
    }
  }
}

/** Whether an endpoint is reachable only from this machine (ipc, inproc, loopback tcp). */
export function isLoopback(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  const m = /^tcp:\/\/(.+):[^:]+$/.exec(endpoint);
  if (!m) return false;
  const host = m[1].replace(/^\[|\]$/g, '');
  // An IPv4 literal only: "127.0.0.1.example.com" is a host name that may resolve anywhere.
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
