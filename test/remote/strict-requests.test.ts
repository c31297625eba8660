/**
 * What a hostile or buggy client can no longer do: smuggle extra frames or unknown fields into a
 * request, forge or bloat the server's log, or reach another client's session by guessing its id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { EnvServer } from '../../remote/env-server.js';
import { RemoteConnection } from '../../remote/client.js';
import { COMMANDS, PROTOCOL_VERSION, REQUEST_SHAPE, readFloat32 } from '../../remote/protocol.js';
import { VectorEnv } from '../../envs/vector-env.js';
import { Rng } from '../../core/rng.js';
import { ipcEndpoint } from './helpers.js';

const ipc = ipcEndpoint('strict');
let server: EnvServer;
let endpoint: string;
const logged: string[] = [];

beforeAll(async () => {
  server = new EnvServer({ task: 'push', numEnvs: 2, bind: ipc.endpoint, maxPathLength: 50, log: (l) => logged.push(l), errorLogBurst: 1000 });
  endpoint = await server.start();
});

afterAll(async () => {
  await server?.close();
  ipc.cleanup();
});

/** A raw DEALER, to send what no well-behaved client would. */
async function raw(frames: (Buffer | string)[]): Promise<Record<string, any>> {
  const s = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
  s.connect(endpoint);
  await s.send(frames);
  const [h] = await s.receive();
  s.close();
  return JSON.parse(h.toString());
}
const hdr = (o: Record<string, unknown>) => JSON.stringify({ v: PROTOCOL_VERSION, ...o });
const junk = (seed: number, n = 13) => {
  const rng = new Rng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rng.range(0, 256))));
};
const obsOf = (r: { frames: Map<string, Buffer> }) => Array.from(readFloat32(r.frames.get('obs')!));

describe('a request carries exactly the frames and fields its command takes', () => {
  it('every command with one junk frame too many is refused with bad_frame', async () => {
    const conn = RemoteConnection.connect(endpoint, { timeoutMs: 5000 });
    const { header: opened } = await conn.request({ cmd: 'open' });
    const session = opened.session as string;
    await conn.request({ cmd: 'reset', session, seed: 0 });
    const valid: Record<string, [Record<string, unknown>, Buffer[]]> = {
      hello: [{ cmd: 'hello' }, []],
      ping: [{ cmd: 'ping' }, []],
      open: [{ cmd: 'open' }, []],
      spaces: [{ cmd: 'spaces', session }, []],
      reset: [{ cmd: 'reset', session, seed: 5 }, []],
      step: [{ cmd: 'step', session }, [Buffer.alloc(32)]],
      poses: [{ cmd: 'poses', session }, []],
      close: [{ cmd: 'close', session }, []],
    };
    expect(Object.keys(valid).sort()).toEqual([...COMMANDS].sort());
    const sessionsBefore = server.sessionCount;
    for (const [k, cmd] of COMMANDS.entries()) {
      const [h, frames] = valid[cmd];
      expect(frames.length).toBe(REQUEST_SHAPE[cmd].frames);
      const reply = await raw([hdr(h), ...frames, junk(k)]);
      expect(reply, cmd).toMatchObject({ ok: false, error: { code: 'bad_frame' } });
      expect(reply.error.message).toMatch(new RegExp(`^${cmd} takes (no payload frames|exactly 1 payload frame).*this request has ${frames.length + 1}$`));
    }
    // Refused `open` made no session and refused `close` closed none.
    expect(server.sessionCount).toBe(sessionsBefore);
    await conn.request({ cmd: 'spaces', session });
    await conn.request({ cmd: 'close', session });
    conn.close();
  });

  it('a refused step (two action frames) and a refused reset (junk frame) leave the envs exactly as they were', async () => {
    const conn = RemoteConnection.connect(endpoint, { timeoutMs: 5000 });
    const session = (await conn.request({ cmd: 'open' })).header.session as string;
    const local = await VectorEnv.make('push', 2, { seed: 3, maxPathLength: 50 });
    const rng = new Rng(9);
    const act = () => Buffer.from((rng.fillUniform(new Float32Array(8), -1, 1) as Float32Array).buffer);
    expect(obsOf(await conn.request({ cmd: 'reset', session, seed: 3 }))).toEqual(Array.from(local.reset(3)));
    const a1 = act();
    expect(obsOf(await conn.request({ cmd: 'step', session }, [a1]))).toEqual(Array.from(local.step(new Float32Array(a1.buffer, a1.byteOffset, 8)).obs));

    const twoActions = conn.request({ cmd: 'step', session }, [act(), act()]);
    await expect(twoActions).rejects.toMatchObject({ code: 'bad_frame' });
    const stepJunk = conn.request({ cmd: 'step', session }, [act(), junk(1)]);
    await expect(stepJunk).rejects.toMatchObject({ code: 'bad_frame' });
    await expect(conn.request({ cmd: 'reset', session, seed: 99 }, [junk(2)])).rejects.toMatchObject({ code: 'bad_frame' });

    // Had any of those stepped or reset an env, this step would no longer equal the local second step.
    const a2 = act();
    const after = await conn.request({ cmd: 'step', session }, [a2]);
    expect(obsOf(after)).toEqual(Array.from(local.step(new Float32Array(a2.buffer, a2.byteOffset, 8)).obs));
    local.close();
    await conn.request({ cmd: 'close', session });
    conn.close();
  });

  it('unknown header fields are refused with the field and the allowed ones named (a typo is not ignored)', async () => {
    const conn = RemoteConnection.connect(endpoint, { timeoutMs: 5000 });
    const before = server.sessionCount;
    const session = (await conn.request({ cmd: 'open' })).header.session as string;
    await expect(conn.request({ cmd: 'reset', session, seeed: 3 })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/reset has no field "seeed" \(its fields besides v, id, cmd: session, seed, seeds, envs, options, withPoses\)/),
    });
    await expect(conn.request({ cmd: 'ping', session })).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/ping has no field "session".*none/) });
    await expect(conn.request({ cmd: 'open', numenvs: 4 })).rejects.toMatchObject({ code: 'bad_request' });
    expect(server.sessionCount).toBe(before + 1);
    await conn.request({ cmd: 'close', session });
    conn.close();
  });
});

describe('client text in the log is escaped and clipped', () => {
  it('a newline in cmd cannot forge a server log line', async () => {
    logged.length = 0;
    const forged = 'ping\n[pbrl serve] session abc-1 (push, 8 envs) closed after 999 s idle';
    const reply = await raw([hdr({ id: 'a\nb', cmd: forged })]);
    expect(reply.error.code).toBe('unknown_command');
    expect(logged).toHaveLength(1);
    const line = logged[0];
    expect(line).not.toMatch(/[\n\r]/);
    expect(line).toMatch(/^request "ping\\n\[pbrl serve\] session abc-\.\.\.\(\d+ more chars\) #"a\\nb" failed: \[unknown_command\]/);
    // Other line breakers: CR, U+2028, C1 NEL, and bidi overrides are escaped as well.
    logged.length = 0;
    await raw([hdr({ cmd: 'x\r\u2028\u0085\u202e\u0007y' })]);
    expect(logged[0]).toContain('"x\\r\\u2028\\x85\\u202e\\u0007y"');
    expect(logged[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
  });

  it('a 10k-character command and raw binary headers give short, printable log lines and replies', async () => {
    logged.length = 0;
    const long = await raw([hdr({ cmd: 'X'.repeat(10_000), id: 'Y'.repeat(5000) })]);
    expect(long.error.code).toBe('unknown_command');
    expect(long.error.message.length).toBeLessThan(200);
    expect(long.error.message).toMatch(/more chars\)/);
    const bigField = await raw([hdr({ cmd: 'open', task: 'T'.repeat(10_000) })]);
    expect(bigField.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/^unknown task "TTTT.*more chars\); valid tasks: reach/) });
    expect(bigField.error.message.length).toBeLessThan(400);
    const rng = new Rng(4);
    for (let k = 0; k < 5; k++) {
      const bytes = Buffer.from(Array.from({ length: 4000 }, () => Math.floor(rng.range(0, 256))));
      bytes[0] = 0x7b; // '{': a JSON parse error that quotes the input
      expect((await raw([bytes])).error.code).toBe('bad_frame');
    }
    expect(logged).toHaveLength(7);
    for (const line of logged) {
      expect(line.length).toBeLessThanOrEqual(400 + 30);
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
    expect(logged.join('').length).toBeLessThan(7 * 430);
  });

  it('a flood of bad requests logs at most errorLogBurst lines per 10 s, yet every request is answered', async () => {
    const quiet = ipcEndpoint('flood');
    const lines: string[] = [];
    const s = new EnvServer({ task: 'reach', bind: quiet.endpoint, log: (l) => lines.push(l), errorLogBurst: 5 });
    await s.start();
    const conn = RemoteConnection.connect(quiet.endpoint, { timeoutMs: 5000 });
    for (let k = 0; k < 50; k++) await expect(conn.request({ cmd: `bad-${k}` })).rejects.toMatchObject({ code: 'unknown_command' });
    expect(s.errors).toBe(50);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toContain('"bad-4"');
    conn.close();
    await s.close();
    quiet.cleanup();
  });
});

describe('session ids are unguessable', () => {
  it('ids are 128-bit random tokens that share no structure', async () => {
    const conn = RemoteConnection.connect(endpoint, { timeoutMs: 5000 });
    const ids: string[] = [];
    for (let k = 0; k < 20; k++) {
      const id = (await conn.request({ cmd: 'open', numEnvs: 1 })).header.session as string;
      ids.push(id);
      await conn.request({ cmd: 'close', session: id });
    }
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/); // 16 random bytes, base64url
    // No shared prefix (a per-server prefix plus a counter would share everything but the end).
    expect(new Set(ids.map((id) => id.slice(0, 4))).size).toBe(ids.length);
    conn.close();
  });

  it('another client cannot step or close a session by guessing at its id', async () => {
    const owner = RemoteConnection.connect(endpoint, { timeoutMs: 5000 });
    const session = (await owner.request({ cmd: 'open', numEnvs: 1 })).header.session as string;
    await owner.request({ cmd: 'reset', session, seed: 0 });
    const intruder = RemoteConnection.connect(endpoint, { timeoutMs: 5000 });
    // Guesses an attacker could derive: neighbours of its own id, the owner's id with one character
    // changed, the old "<instance>-<n>" scheme.
    const own = (await intruder.request({ cmd: 'open', numEnvs: 1 })).header.session as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const guesses = new Set<string>();
    for (let i = 0; i < 22; i++) for (const c of 'Aa0_') guesses.add(own.slice(0, i) + c + own.slice(i + 1));
    for (let i = 0; i < 22; i++) guesses.add(session.slice(0, i) + alphabet[(alphabet.indexOf(session[i]) + 1) % 64] + session.slice(i + 1));
    for (let n = 1; n <= 30; n++) guesses.add(`${own.split('-')[0]}-${n}`);
    guesses.delete(session);
    guesses.delete(own);
    let refused = 0;
    for (const g of guesses) {
      await expect(intruder.request({ cmd: 'close', session: g })).rejects.toMatchObject({ code: 'no_session' });
      refused++;
    }
    expect(refused).toBeGreaterThan(100);
    // The owner's session is untouched.
    const r = await owner.request({ cmd: 'step', session }, [Buffer.alloc(16)]);
    expect(r.header.ok).toBe(true);
    await owner.request({ cmd: 'close', session });
    await intruder.request({ cmd: 'close', session: own });
    owner.close();
    intruder.close();
  });
});

describe('a seeded fuzz of malformed requests', () => {
  it('every request is answered, the log stays short and printable, and a bystander session is untouched', async () => {
    const fuzzEp = ipcEndpoint('fuzz');
    const lines: string[] = [];
    const s = new EnvServer({ task: 'reach', numEnvs: 2, bind: fuzzEp.endpoint, maxPathLength: 20, log: (l) => lines.push(l), errorLogBurst: 1e9 });
    await s.start();
    const victim = RemoteConnection.connect(fuzzEp.endpoint, { timeoutMs: 5000 });
    const victimSession = (await victim.request({ cmd: 'open' })).header.session as string;
    const local = await VectorEnv.make('reach', 2, { seed: 5, maxPathLength: 20 });
    expect(obsOf(await victim.request({ cmd: 'reset', session: victimSession, seed: 5 }))).toEqual(Array.from(local.reset(5)));

    const sock = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
    sock.connect(fuzzEp.endpoint);
    const own = JSON.parse((await (sock.send(hdr({ cmd: 'open' })), sock.receive()))[0].toString()).session as string;
    const rng = new Rng(2024);
    const int = (n: number) => Math.floor(rng.range(0, n));
    const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
    const nasty = ['\n[pbrl serve] session x closed after 999 s idle', '\u2028', '\r\u001b[2J', 'Z'.repeat(3000), '\u202e', '', 'ping'];
    const value = (): unknown =>
      pick([
        () => pick(nasty) + String(int(100)),
        () => rng.range(-1e9, 1e9),
        () => int(300),
        () => [int(3), pick(nasty)],
        () => ({ a: pick(nasty) }),
        () => null,
        () => true,
        () => own,
      ])();
    const fields = ['session', 'seed', 'seeds', 'envs', 'options', 'withPoses', 'task', 'numEnvs', 'autoreset', 'maxPathLength', 'goalObservable', 'x', 'cmd\n'];
    const N = 400;
    let answered = 0;
    for (let k = 0; k < N; k++) {
      const frames: Buffer[] = [];
      if (int(4) === 0) frames.push(junk(k, int(2000)));
      else {
        const h: Record<string, unknown> = { v: int(10) === 0 ? value() : PROTOCOL_VERSION, cmd: int(5) === 0 ? value() : pick(COMMANDS) };
        if (int(3) === 0) h.id = value();
        for (let f = int(4); f > 0; f--) h[pick(fields)] = value();
        if (h.cmd === 'close') h.session = own; // never the victim's; closing its own session is legal
        frames.push(Buffer.from(JSON.stringify(h)));
      }
      for (let f = int(3); f > 0; f--) frames.push(int(2) ? junk(k + 7, int(64)) : Buffer.alloc(8));
      await sock.send(frames);
      const [reply] = await sock.receive();
      const r = JSON.parse(reply.toString());
      expect(typeof r.ok).toBe('boolean');
      answered++;
    }
    sock.close();
    expect(answered).toBe(N);
    expect(s.requests).toBeGreaterThanOrEqual(N);
    for (const line of lines) {
      expect(line.length).toBeLessThanOrEqual(430);
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
      expect(line).not.toMatch(/^session \S+ closed after 999 s idle/);
    }
    const bytes = lines.reduce((a, l) => a + l.length + 1, 0);
    console.log(`fuzz: ${N} malformed requests, ${s.errors} error replies, ${lines.length} log lines, ${bytes} bytes of log (longest ${Math.max(...lines.map((l) => l.length))})`);
    // The bystander's envs were never stepped or reset by any of it.
    const a = new Float32Array(8).fill(0.25);
    expect(obsOf(await victim.request({ cmd: 'step', session: victimSession }, [Buffer.from(a.buffer)]))).toEqual(Array.from(local.step(a).obs));
    local.close();
    victim.close();
    await s.close();
    fuzzEp.cleanup();
  });
});
