import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { EnvServer, isLoopback } from '../../remote/env-server.js';
import { RemoteConnection, RemoteEnv, RemoteTimeoutError, RemoteVectorEnv } from '../../remote/client.js';
import { PROTOCOL_VERSION, RemoteError, readFloat32, readFloat64 } from '../../remote/protocol.js';
import { VectorEnv } from '../../envs/vector-env.js';
import { makeEnv } from '../../envs/registry.js';
import { Rng } from '../../core/rng.js';
import { ipcEndpoint } from './helpers.js';

const ipc = ipcEndpoint('protocol');
let server: EnvServer;
let endpoint: string;
const logged: string[] = [];

beforeAll(async () => {
  server = new EnvServer({ task: 'push', numEnvs: 3, bind: ipc.endpoint, maxSessions: 6, maxPathLength: 12, log: (l) => logged.push(l) });
  endpoint = await server.start();
});

afterAll(async () => {
  await server?.close();
  ipc.cleanup();
});

describe('round trips equal in-process stepping', () => {
  it('a vector session (autoreset) equals VectorEnv with the same seed and actions, bit for bit', async () => {
    const remote = await RemoteVectorEnv.open(endpoint, { timeoutMs: 10_000 });
    expect(remote.numEnvs).toBe(3);
    const local = await VectorEnv.make('push', 3, { seed: 7, maxPathLength: 12 });
    expect(Array.from(await remote.reset(7))).toEqual(Array.from(local.reset(7)));
    expect(remote.observationSpace.toJSON()).toEqual(local.observationSpace.toJSON());
    expect(remote.actionSpace.toJSON()).toEqual(local.actionSpace.toJSON());
    const rng = new Rng(3);
    const actions = new Float32Array(12);
    let episodesEnded = 0;
    for (let t = 0; t < 30; t++) {
      rng.fillUniform(actions, -1.2, 1.2); // out-of-range values are clipped on both sides
      const r = await remote.step(actions);
      const l = local.step(actions);
      expect(Array.from(r.obs)).toEqual(Array.from(l.obs));
      expect(Array.from(r.rewards)).toEqual(Array.from(l.rewards));
      expect(Array.from(r.truncated)).toEqual(Array.from(l.truncated));
      expect(Array.from(r.terminated)).toEqual(Array.from(l.terminated));
      expect(Array.from(r.success)).toEqual(Array.from(l.success));
      expect(r.infos).toEqual(l.infos);
      for (let i = 0; i < 3; i++) {
        if (l.finalObs[i]) {
          episodesEnded++;
          expect(Array.from(r.finalObs[i]!)).toEqual(Array.from(l.finalObs[i]!));
        } else expect(r.finalObs[i]).toBeNull();
      }
    }
    expect(episodesEnded).toBe(6); // 12-step episodes: two per env in 30 steps
    local.close();
    await remote.close();
  });

  it('a single RemoteEnv equals a SawyerEnv: obs, float64 reward, info, truncation and reset', async () => {
    const remote = await RemoteEnv.open(endpoint, { task: 'reach', maxPathLength: 5 });
    expect(remote.info.task).toBe('reach');
    expect(remote.info.autoreset).toBe(false);
    const local = await makeEnv('reach', { maxPathLength: 5 });
    const a0 = await remote.reset({ seed: 11 });
    const b0 = local.reset({ seed: 11 });
    expect(Array.from(a0.obs)).toEqual(Array.from(b0.obs));
    expect(a0.info).toEqual(b0.info);
    const rng = new Rng(5);
    for (let t = 0; t < 12; t++) {
      const act = Array.from({ length: 4 }, () => rng.range(-1, 1));
      const a = await remote.step(act);
      const b = local.step(act);
      expect(Array.from(a.obs)).toEqual(Array.from(b.obs));
      expect(a.reward).toBe(b.reward); // float64 on the wire: exact
      expect(a.info).toEqual(b.info);
      expect(a.truncated).toBe(b.truncated);
      if (b.truncated) {
        // Without autoreset the server refuses to step a finished episode, like the env itself.
        await expect(remote.step(act)).rejects.toMatchObject({ code: 'needs_reset' });
        expect(Array.from((await remote.reset()).obs)).toEqual(Array.from(local.reset().obs));
      }
    }
    const { header: spaces } = await remote['vec'].conn.request({ cmd: 'spaces', session: remote.info.session });
    expect(spaces).toMatchObject({ task: 'reach', numEnvs: 1, autoreset: false, maxPathLength: 5, actionSpace: local.actionSpace.toJSON() });
    expect(spaces.observationSpace).toEqual(local.observationSpace.toJSON());
    const poses = await remote.poses();
    expect(poses.bodyNames).toEqual(local.poseBodyNames());
    const want = new Float32Array(poses.bodyNames.length * 7);
    local.writePoses(want);
    expect(Array.from(poses.data)).toEqual(Array.from(want));
    local.close();
    await remote.close();
  });

  it('resets chosen envs with their own seeds and returns poses with a step', async () => {
    const remote = await RemoteVectorEnv.open(endpoint, { numEnvs: 2 });
    await remote.reset(0);
    const { obs } = await remote.resetEnvs([1], [42]);
    const local = await makeEnv('push', { maxPathLength: 12 });
    expect(Array.from(obs)).toEqual(Array.from(local.reset({ seed: 42 }).obs));
    const r = await remote.step(new Float32Array(8), true);
    expect(r.poses!.length).toBe(2 * local.poseBodyNames().length * 7);
    local.close();
    await remote.close();
  });

  it('serves a REQ client (empty delimiter envelope) and a tcp endpoint on a random loopback port', async () => {
    const tcp = new EnvServer({ task: 'reach', bind: 'tcp://127.0.0.1:0' });
    const ep = await tcp.start();
    expect(ep).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(ep.endsWith(':0')).toBe(false);
    const req = new zmq.Request({ linger: 0, receiveTimeout: 5000 });
    req.connect(ep);
    await req.send(JSON.stringify({ v: PROTOCOL_VERSION, id: 'x', cmd: 'hello' }));
    const [h] = await req.receive();
    const hello = JSON.parse(h.toString());
    expect(hello).toMatchObject({ ok: true, id: 'x', server: 'pbrl', task: 'reach', protocol: PROTOCOL_VERSION, obsDim: 39, actDim: 4 });
    req.close();
    await tcp.close();
  });

  it('knows which endpoints are loopback-only', () => {
    expect(isLoopback('tcp://127.0.0.1:5555')).toBe(true);
    expect(isLoopback('tcp://[::1]:5555')).toBe(true);
    expect(isLoopback('ipc:///tmp/x.sock')).toBe(true);
    expect(isLoopback('tcp://0.0.0.0:5555')).toBe(false);
    expect(isLoopback('tcp://*:5555')).toBe(false);
  });
});

describe('bad requests get an error reply naming the problem, and the server keeps serving', () => {
  /** A raw DEALER, to send what no well-behaved client would. */
  async function raw(frames: (Buffer | string)[]): Promise<{ header: Record<string, any>; frames: Buffer[] }> {
    const s = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
    s.connect(endpoint);
    await s.send(frames);
    const [h, ...rest] = await s.receive();
    s.close();
    return { header: JSON.parse(h.toString()), frames: rest };
  }
  const hdr = (o: Record<string, unknown>) => JSON.stringify({ v: PROTOCOL_VERSION, ...o });

  it('malformed frames: not JSON, not an object, empty, wrong version, no cmd', async () => {
    const cases: [(Buffer | string)[], string, RegExp][] = [
      [['{not json'], 'bad_frame', /not valid JSON/],
      [['[1,2,3]'], 'bad_frame', /JSON object/],
      [[Buffer.from([0xff, 0xfe, 0x00])], 'bad_frame', /JSON/],
      [[JSON.stringify({ v: 99, cmd: 'hello' })], 'bad_version', /version 99.*v=1/],
      [[JSON.stringify({ cmd: 'hello' })], 'bad_version', /version undefined/],
      [[hdr({ id: 4 })], 'bad_request', /cmd must be a string/],
    ];
    for (const [frames, code, msg] of cases) {
      const { header } = await raw(frames);
      expect(header.ok).toBe(false);
      expect(header.error.code).toBe(code);
      expect(header.error.message).toMatch(msg);
    }
  });

  it('unknown command, missing or unknown session, bad open fields', async () => {
    const unknown = await raw([hdr({ id: 1, cmd: 'fly' })]);
    expect(unknown.header).toMatchObject({ ok: false, id: 1, error: { code: 'unknown_command' } });
    expect(unknown.header.error.message).toMatch(/"fly".*hello, open, spaces, reset, step/);
    expect((await raw([hdr({ cmd: 'step' })])).header.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/needs a "session"/) });
    expect((await raw([hdr({ cmd: 'reset', session: 'nope' })])).header.error).toMatchObject({ code: 'no_session', message: expect.stringMatching(/no session "nope"/) });
    const badTask = await raw([hdr({ cmd: 'open', task: 'juggle' })]);
    expect(badTask.header.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/unknown task "juggle".*reach/) });
    const badN = await raw([hdr({ cmd: 'open', numEnvs: 0 })]);
    expect(badN.header.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/numEnvs must be an integer in \[1, 256\], got 0/) });
    const badSeed = await raw([hdr({ cmd: 'open', autoreset: 'yes' })]);
    expect(badSeed.header.error.message).toMatch(/autoreset must be true or false/);
  });

  it('wrong action sizes, a missing action frame, NaN and Infinity, stepping before reset', async () => {
    const conn = RemoteConnection.connect(endpoint, { timeoutMs: 5000 });
    const { header: opened } = await conn.request({ cmd: 'open', numEnvs: 2 });
    const session = opened.session as string;
    const step = (frames: Buffer[]) => conn.request({ cmd: 'step', session }, frames);
    await expect(step([Buffer.alloc(32)])).rejects.toMatchObject({ code: 'needs_reset', message: expect.stringMatching(/env 0 was never reset/) });
    await conn.request({ cmd: 'reset', session, seed: 1 });
    await expect(step([])).rejects.toMatchObject({ code: 'bad_action', message: expect.stringMatching(/frame 1: float32 \[2, 4\] \(32 bytes\)/) });
    await expect(step([Buffer.alloc(16)])).rejects.toMatchObject({ code: 'bad_action', message: expect.stringMatching(/16 bytes; this session has 2 env\(s\) x 4 float32 = 32 bytes/) });
    await expect(step([Buffer.alloc(33)])).rejects.toMatchObject({ code: 'bad_action' });
    const nan = new Float32Array(8);
    nan[6] = NaN;
    await expect(step([Buffer.from(nan.buffer)])).rejects.toMatchObject({ code: 'bad_action', message: expect.stringMatching(/env 1, component 2 is NaN/) });
    const inf = new Float32Array(8);
    inf[0] = Infinity;
    await expect(step([Buffer.from(inf.buffer)])).rejects.toMatchObject({ code: 'bad_action', message: expect.stringMatching(/env 0, component 0 is Infinity/) });
    const badReset = conn.request({ cmd: 'reset', session, envs: [0, 5] });
    await expect(badReset).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/envs\[1\] must be an env index in \[0, 1\], got 5/) });
    await expect(conn.request({ cmd: 'reset', session, seed: 1, seeds: [1, 2] })).rejects.toMatchObject({ code: 'bad_request' });
    // The rejected requests changed nothing: the session steps on from its reset state.
    const ok = await step([Buffer.alloc(32)]);
    expect(ok.header.ok).toBe(true);
    expect(readFloat32(ok.frames.get('obs')!).length).toBe(78);
    expect(readFloat64(ok.frames.get('reward')!).length).toBe(2);
    await conn.request({ cmd: 'close', session });
    await expect(conn.request({ cmd: 'step', session }, [Buffer.alloc(32)])).rejects.toBeInstanceOf(RemoteError);
    conn.close();
  });

  it('limits sessions, and another client is served normally after all of the above', async () => {
    const conns = Array.from({ length: 7 }, () => RemoteConnection.connect(endpoint, { timeoutMs: 5000 }));
    const opened = await Promise.allSettled(conns.map((c) => c.request({ cmd: 'open', numEnvs: 1 })));
    const refused = opened.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0].reason).toMatchObject({ code: 'too_many_sessions' });
    for (const [k, r] of opened.entries()) if (r.status === 'fulfilled') await conns[k].request({ cmd: 'close', session: r.value.header.session });
    conns.forEach((c) => c.close());

    const env = await RemoteEnv.open(endpoint);
    const { obs } = await env.reset({ seed: 0 });
    expect(obs.length).toBe(39);
    await env.close();
    expect(server.errors).toBeGreaterThan(10);
    expect(logged.some((l) => l.includes('[bad_action]'))).toBe(true);
  });
});

describe('session lifetime', () => {
  it('closes sessions left idle, and says so to a client that comes back', async () => {
    const idle = ipcEndpoint('idle');
    const lines: string[] = [];
    const s = new EnvServer({ task: 'reach', bind: idle.endpoint, sessionIdleMs: 150, log: (l) => lines.push(l) });
    await s.start();
    const env = await RemoteEnv.open(idle.endpoint);
    await env.reset({ seed: 0 });
    expect(s.sessionCount).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(s.sessionCount).toBe(0);
    await expect(env.step([0, 0, 0, 0])).rejects.toMatchObject({ code: 'no_session', message: expect.stringMatching(/expired after 0.15 s idle/) });
    expect(lines.join('\n')).toMatch(/session \S+ \(reach, 1 envs\) closed after \d+ s idle/);
    await env.close();
    await s.close();
    idle.cleanup();
  });
});

describe('client-side timeouts', () => {
  it('a request to an endpoint where nothing listens fails with a clear message, fast', async () => {
    const dead = ipcEndpoint('nobody');
    const t0 = Date.now();
    const err = await RemoteVectorEnv.open(dead.endpoint, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteTimeoutError);
    expect((err as Error).message).toMatch(/no reply from ipc:\/\/.*nobody\.sock to "open" within 300 ms; is `pbrl serve` running/);
    expect(Date.now() - t0).toBeLessThan(3000);
    dead.cleanup();
  });

  it('rejects a non-positive timeout', () => {
    expect(() => RemoteConnection.connect(endpoint, { timeoutMs: 0 })).toThrow(/timeoutMs must be a positive number/);
  });
});
