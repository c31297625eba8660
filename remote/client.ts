/**
 * TypeScript client of the env server: a request/reply connection with timeouts, a batched
 * `RemoteVectorEnv` (shaped like envs/vector-env.ts) and a single `RemoteEnv` with the Gymnasium API.
 *
 * Uses a DEALER socket and matches replies by request id, so after a timeout a late reply to the old
 * request is recognised and dropped instead of being taken for the answer to the next one.
 *
 * With CURVE keys the connection is encrypted; a server that refuses this client's key ends the
 * connection with a RemoteAuthError at once, and a handshake that keeps failing (usually the wrong
 * server key) is named in the timeout's message.
 */
import * as zmq from 'zeromq';
import { Box, boxFromJSON } from '../core/spaces.js';
import type { StepInfo, StepResult } from '../envs/sawyer-env.js';
import type { VectorStep } from '../envs/vector-env.js';
import type { ClientCurve } from './curve-keys.js';
import {
  PROTOCOL_VERSION,
  RemoteError,
  decodeReplyHeader,
  encodeHeader,
  readFloat32,
  readFloat64,
  toFrame,
  type FrameSpec,
  type ReplyHeader,
} from './protocol.js';

export interface ConnectionOptions {
  /** How long a request may wait for its reply (default 30 s). */
  timeoutMs?: number;
  /** CURVE keys (remote/curve-keys.ts `loadClientCurve(dir)`), for a server started with `--curve`. */
  curve?: ClientCurve;
}

export interface Reply {
  header: ReplyHeader;
  /** Payload frames by the names the reply header gives them. */
  frames: Map<string, Buffer>;
}

export class RemoteTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteTimeoutError';
  }
}

/** The server refused this client's CURVE key; the connection is closed (retrying cannot help). */
export class RemoteAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteAuthError';
  }
}

export class RemoteConnection {
  private readonly sock: zmq.Dealer;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  private closed = false;
  private failure: RemoteAuthError | null = null;
  private lastHandshakeError: string | null = null;

  private constructor(
    readonly endpoint: string,
    readonly timeoutMs: number,
    private readonly curve: ClientCurve | undefined,
  ) {
    this.sock = new zmq.Dealer({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
    if (curve) {
      this.sock.curveServerKey = curve.serverKey;
      this.sock.curvePublicKey = curve.publicKey;
      this.sock.curveSecretKey = curve.secretKey;
      void this.watchHandshakes();
    }
  }

  /** Connects lazily (ZeroMQ style): a missing server shows up as a timeout on the first request. */
  static connect(endpoint: string, opts: ConnectionOptions = {}): RemoteConnection {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`timeoutMs must be a positive number, got ${opts.timeoutMs}`);
    const c = new RemoteConnection(endpoint, timeoutMs, opts.curve);
    c.sock.connect(endpoint);
    return c;
  }

  /** Whether this connection uses CURVE. */
  get secure(): boolean {
    return this.curve !== undefined;
  }

  private async watchHandshakes(): Promise<void> {
    try {
      for await (const ev of this.sock.events) {
        if (ev.type === 'handshake:error:auth') {
          // The server's ZAP handler said no: this key will never be let in.
          this.failure = new RemoteAuthError(
            `${this.endpoint} refused this client's CURVE key (${ev.error.message}); the server accepts only the <name>.key files in its --curve folder`,
          );
          this.closed = true;
          this.sock.close();
          return;
        }
        if (ev.type === 'handshake:error:protocol' || ev.type === 'handshake:error:other') this.lastHandshakeError = ev.error.message;
        if (ev.type === 'handshake') this.lastHandshakeError = null;
      }
    } catch {
      // socket closed
    }
  }

  private timeoutMessage(cmd: string, timeoutMs: number): string {
    let msg = `no reply from ${this.endpoint} to "${cmd}" within ${timeoutMs} ms; is \`pbrl serve\` running there and reachable?`;
    if (this.curve) {
      msg += ' This connection uses CURVE: check that its server key is this server\'s server.key and that the server runs with --curve';
      if (this.lastHandshakeError) msg += ` (the CURVE handshake failed: ${this.lastHandshakeError})`;
    }
    return msg;
  }

  /**
   * Sends one request and waits for its reply. Requests on one connection are serialised; use one
   * connection per concurrent stream (the rollout pool does). Error replies throw RemoteError.
   */
  request(header: Record<string, unknown> & { cmd: string }, frames: Buffer[] = [], timeoutMs = this.timeoutMs): Promise<Reply> {
    // When idle, start the round trip synchronously: the request is then handed to ZeroMQ's I/O
    // thread before request() returns, and the server works while the caller computes something
    // else (the rollout pool relies on this to overlap stepping with learning).
    const run =
      this.inFlight === 0 ? this.roundTrip(header, frames, timeoutMs) : this.queue.then(() => this.roundTrip(header, frames, timeoutMs));
    this.inFlight++;
    this.queue = run.then(
      () => void this.inFlight--,
      () => void this.inFlight--,
    );
    return run;
  }

  private async roundTrip(header: Record<string, unknown> & { cmd: string }, frames: Buffer[], timeoutMs: number): Promise<Reply> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`connection to ${this.endpoint} is closed`);
    const id = this.nextId++;
    this.sock.receiveTimeout = timeoutMs;
    this.sock.sendTimeout = timeoutMs;
    try {
      await this.sock.send([encodeHeader({ ...header, v: PROTOCOL_VERSION, id }), ...frames]);
    } catch (err) {
      if (this.failure) throw this.failure;
      if ((err as { code?: string }).code === 'EAGAIN') throw new RemoteTimeoutError(this.timeoutMessage(header.cmd, timeoutMs));
      throw err;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let msg: Buffer[];
      try {
        msg = await this.sock.receive();
      } catch (err) {
        if (this.failure) throw this.failure;
        if ((err as { code?: string }).code === 'EAGAIN') throw new RemoteTimeoutError(this.timeoutMessage(header.cmd, timeoutMs));
        throw err;
      }
      // A REQ-style server would put an empty delimiter first; skip it if present.
      if (msg.length > 0 && msg[0].byteLength === 0) msg = msg.slice(1);
      const h = decodeReplyHeader(msg[0]);
      if (h.id !== id) {
        // A late reply to a request that already timed out.
        if (Date.now() > deadline) throw new RemoteTimeoutError(this.timeoutMessage(header.cmd, timeoutMs));
        continue;
      }
      if (!h.ok) throw new RemoteError(h.error?.code ?? 'unknown', h.error?.message ?? 'request failed', header.cmd);
      const byName = new Map<string, Buffer>();
      (h.frames ?? []).forEach((spec: FrameSpec, k: number) => {
        const buf = msg[k + 1];
        if (!buf) throw new Error(`reply to "${header.cmd}" declares frame "${spec.name}" but has only ${msg.length - 1} payload frames`);
        byName.set(spec.name, buf);
      });
      return { header: h, frames: byName };
    }
  }

  /**
   * Sends a request without waiting for (or reading) its reply, lingering briefly so it leaves even if
   * the process exits right after: used to close sessions at exit, when nothing async can run.
   */
  sendAndForget(header: Record<string, unknown> & { cmd: string }): void {
    if (this.closed) return;
    try {
      this.sock.linger = 500;
      this.sock.send(encodeHeader({ ...header, v: PROTOCOL_VERSION, id: `exit-${this.nextId++}` })).catch(() => {});
    } catch {
      // a send already in progress: the server's idle sweep frees the session instead
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}

/**
 * Sessions still open when the process exits are closed on the server (a fire-and-forget `close`),
 * so a script that forgets `close()` or calls process.exit() does not leave envs held until the
 * server's idle timeout.
 */
const openSessions = new Set<{ conn: RemoteConnection; session: string }>();
let exitHookInstalled = false;

function trackSession(entry: { conn: RemoteConnection; session: string }): void {
  openSessions.add(entry);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { conn, session } of openSessions) conn.sendAndForget({ cmd: 'close', session });
    openSessions.clear();
  });
}

export interface OpenOptions extends ConnectionOptions {
  task?: string;
  numEnvs?: number;
  /** Same-step autoreset as VectorEnv (default true). */
  autoreset?: boolean;
  maxPathLength?: number;
  goalObservable?: boolean;
  /** Timeout of the `open` request alone (default: the connection's). */
  openTimeoutMs?: number;
}

export interface SessionInfo {
  session: string;
  task: string;
  numEnvs: number;
  autoreset: boolean;
  obsDim: number;
  actDim: number;
  maxPathLength: number;
  goalObservable: boolean;
}

/** A session of N envs on a server, stepped as a batch. Mirrors VectorEnv, but every call is async. */
export class RemoteVectorEnv {
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  private closed = false;
  private readonly tracked: { conn: RemoteConnection; session: string };

  private constructor(
    readonly conn: RemoteConnection,
    readonly info: SessionInfo,
    spaces: { observationSpace: Box; actionSpace: Box },
    private readonly ownsConnection: boolean,
  ) {
    this.numEnvs = info.numEnvs;
    this.obsDim = info.obsDim;
    this.actDim = info.actDim;
    this.observationSpace = spaces.observationSpace;
    this.actionSpace = spaces.actionSpace;
    this.tracked = { conn, session: info.session };
    trackSession(this.tracked);
  }

  /** Opens a session; pass an endpoint to get a private connection, or share an existing one. */
  static async open(target: string | RemoteConnection, opts: OpenOptions = {}): Promise<RemoteVectorEnv> {
    const owns = typeof target === 'string';
    const conn = typeof target === 'string' ? RemoteConnection.connect(target, opts) : target;
    try {
      const { header: h } = await conn.request(
        {
          cmd: 'open',
          task: opts.task,
          numEnvs: opts.numEnvs,
          autoreset: opts.autoreset,
          maxPathLength: opts.maxPathLength,
          goalObservable: opts.goalObservable,
        },
        [],
        opts.openTimeoutMs,
      );
      const info: SessionInfo = {
        session: h.session as string,
        task: h.task as string,
        numEnvs: h.numEnvs as number,
        autoreset: h.autoreset as boolean,
        obsDim: h.obsDim as number,
        actDim: h.actDim as number,
        maxPathLength: h.maxPathLength as number,
        goalObservable: h.goalObservable as boolean,
      };
      const spaces = {
        observationSpace: boxFromJSON(h.observationSpace as Parameters<typeof boxFromJSON>[0]),
        actionSpace: boxFromJSON(h.actionSpace as Parameters<typeof boxFromJSON>[0]),
      };
      return new RemoteVectorEnv(conn, info, spaces, owns);
    } catch (err) {
      if (owns) conn.close();
      throw err;
    }
  }

  /** Resets every env (env i with `seed + i` when a seed is given) and returns obs [numEnvs * obsDim]. */
  async reset(seed?: number, options?: Record<string, unknown>, timeoutMs?: number): Promise<Float32Array> {
    const r = await this.conn.request({ cmd: 'reset', session: this.info.session, seed, options }, [], timeoutMs);
    return copyF32(r.frames.get('obs')!);
  }

  /** Resets some envs, with one seed each (or continuing their own RNG streams when `seeds` is absent). */
  async resetEnvs(envs: number[], seeds?: number[]): Promise<{ obs: Float32Array; infos: Record<string, number>[] }> {
    const r = await this.conn.request({ cmd: 'reset', session: this.info.session, envs, seeds });
    return { obs: copyF32(r.frames.get('obs')!), infos: r.header.infos as Record<string, number>[] };
  }

  /** `actions` is numEnvs * actDim values, row-major. */
  async step(actions: Float32Array | ArrayLike<number>, withPoses = false): Promise<VectorStep & { poses?: Float32Array }> {
    const n = this.numEnvs;
    if (actions.length !== n * this.actDim) {
      throw new Error(`actions has length ${actions.length}, expected numEnvs * ${this.actDim} = ${n * this.actDim}`);
    }
    const a = actions instanceof Float32Array ? actions : Float32Array.from(actions);
    const r = await this.conn.request({ cmd: 'step', session: this.info.session, withPoses: withPoses || undefined }, [toFrame(a)]);
    return decodeStep(r, n, this.obsDim);
  }

  /** Body poses of every env: data is float32 [numEnvs, bodyNames.length, 7] (xyz + quaternion xyzw). */
  async poses(): Promise<{ bodyNames: string[]; data: Float32Array }> {
    const r = await this.conn.request({ cmd: 'poses', session: this.info.session });
    return { bodyNames: r.header.bodyNames as string[], data: copyF32(r.frames.get('poses')!) };
  }

  /** Closes the session on the server (best effort) and the connection if this object opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    openSessions.delete(this.tracked);
    try {
      await this.conn.request({ cmd: 'close', session: this.info.session });
    } catch {
      // The server may be gone already; its idle sweep frees the session otherwise.
    } finally {
      if (this.ownsConnection) this.conn.close();
    }
  }
}

export function decodeStep(r: Reply, n: number, obsDim: number): VectorStep & { poses?: Float32Array } {
  const h = r.header;
  const obs = copyF32(r.frames.get('obs')!);
  const rewards64 = readFloat64(r.frames.get('reward')!);
  const fo = readFloat32(r.frames.get('final_obs')!);
  const term = h.terminated as number[];
  const trunc = h.truncated as number[];
  const infos = h.infos as StepInfo[];
  const final = h.final as number[];
  const finalObs: (Float32Array | null)[] = new Array(n).fill(null);
  final.forEach((i, j) => (finalObs[i] = fo.slice(j * obsDim, (j + 1) * obsDim)));
  const out: VectorStep & { poses?: Float32Array } = {
    obs,
    rewards: Float32Array.from(rewards64),
    terminated: Uint8Array.from(term),
    truncated: Uint8Array.from(trunc),
    success: Uint8Array.from(infos, (inf) => (inf.success ? 1 : 0)),
    infos,
    finalObs,
  };
  const poses = r.frames.get('poses');
  if (poses) out.poses = copyF32(poses);
  return out;
}

/**
 * One remote env with the Gymnasium API (async). Autoreset is off: after `truncated`, call reset(),
 * exactly as with an in-process SawyerEnv.
 */
export class RemoteEnv {
  private constructor(private readonly vec: RemoteVectorEnv) {}

  static async open(target: string | RemoteConnection, opts: Omit<OpenOptions, 'numEnvs' | 'autoreset'> = {}): Promise<RemoteEnv> {
    return new RemoteEnv(await RemoteVectorEnv.open(target, { ...opts, numEnvs: 1, autoreset: false }));
  }

  get observationSpace(): Box {
    return this.vec.observationSpace;
  }
  get actionSpace(): Box {
    return this.vec.actionSpace;
  }
  get info(): SessionInfo {
    return this.vec.info;
  }

  async reset(args: { seed?: number; options?: Record<string, unknown> } = {}): Promise<{ obs: Float32Array; info: Record<string, number> }> {
    const r = await this.vec.conn.request({ cmd: 'reset', session: this.vec.info.session, seed: args.seed, options: args.options });
    return { obs: copyF32(r.frames.get('obs')!), info: (r.header.infos as Record<string, number>[])[0] };
  }

  async step(action: ArrayLike<number>): Promise<StepResult> {
    if (action == null || action.length !== this.vec.actDim) {
      throw new Error(`action has length ${action?.length}, expected ${this.vec.actDim} (dx, dy, dz, gripper)`);
    }
    const r = await this.vec.conn.request({ cmd: 'step', session: this.vec.info.session }, [toFrame(Float32Array.from(action))]);
    const h = r.header;
    const fo = readFloat32(r.frames.get('final_obs')!);
    // With autoreset off the obs slot holds the last observation either way; final_obs repeats it.
    const obs = fo.length > 0 ? fo.slice(0, this.vec.obsDim) : copyF32(r.frames.get('obs')!);
    return {
      obs,
      reward: readFloat64(r.frames.get('reward')!)[0],
      terminated: (h.terminated as number[])[0] === 1,
      truncated: (h.truncated as number[])[0] === 1,
      info: (h.infos as StepInfo[])[0],
    };
  }

  poses(): Promise<{ bodyNames: string[]; data: Float32Array }> {
    return this.vec.poses();
  }

  close(): Promise<void> {
    return this.vec.close();
  }
}

function copyF32(buf: Buffer): Float32Array {
  return readFloat32(buf).slice();
}
