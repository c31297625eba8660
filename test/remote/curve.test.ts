/**
 * CURVE: key files (`pbrl serve --keygen`), a server that accepts only listed client keys, both
 * clients with right and wrong keys, and the rule that a non-loopback bind needs CURVE or --insecure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { Command } from 'commander';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvServer } from '../../remote/env-server.js';
import { RemoteAuthError, RemoteConnection, RemoteTimeoutError, RemoteVectorEnv } from '../../remote/client.js';
import { generateKeys, loadClientCurve, loadServerCurve, readKeyFile, z85Encode } from '../../remote/curve-keys.js';
import { register as registerServe } from '../../experiments/commands/serve.js';
import { PYTHON, pythonHasZmq, runPython } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'pbrl-curve-test-'));
const keys = join(root, 'keys');
let server: EnvServer;
let endpoint: string;
const logged: string[] = [];

beforeAll(async () => {
  generateKeys(keys); // server + client
  generateKeys(keys, 'alice');
  server = new EnvServer({ task: 'reach', numEnvs: 2, bind: 'tcp://127.0.0.1:0', curve: loadServerCurve(keys), log: (l) => logged.push(l) });
  endpoint = await server.start();
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('key files', () => {
  it('--keygen writes a server and a client pair, 0600 in a 0700 folder, readable by pyzmq-style parsers', () => {
    for (const f of ['server.key', 'server.key_secret', 'client.key', 'client.key_secret', 'alice.key', 'alice.key_secret']) {
      expect(statSync(join(keys, f)).mode & 0o777, f).toBe(0o600);
    }
    expect(statSync(keys).mode & 0o777).toBe(0o700);
    const text = readFileSync(join(keys, 'client.key_secret'), 'utf8');
    expect(text).toMatch(/^curve\n {4}public-key = "[^"]{40}"\n {4}secret-key = "[^"]{40}"$/m);
    expect(readFileSync(join(keys, 'client.key'), 'utf8')).not.toMatch(/secret-key/);
    const s = loadServerCurve(keys);
    expect(s.clients.map((c) => c.name)).toEqual(['alice', 'client']);
    const c = loadClientCurve(keys);
    expect(c.serverKey).toBe(s.publicKey);
    expect(c.publicKey).toBe(s.clients[1].publicKey);
    expect(c.secretKey).not.toBe(c.publicKey);
  });

  it('never overwrites a key, and checks names', () => {
    const before = readFileSync(join(keys, 'client.key_secret'), 'utf8');
    expect(() => generateKeys(keys)).toThrow(/client\.key exists; pick another --name .*never overwritten/);
    expect(readFileSync(join(keys, 'client.key_secret'), 'utf8')).toBe(before);
    expect(() => generateKeys(keys, 'server')).toThrow(/not "server"/);
    expect(() => generateKeys(keys, '../evil')).toThrow(/key name must be/);
  });

  it('malformed, missing and world-readable key files are refused with a clear error', () => {
    const dir = join(root, 'bad');
    generateKeys(dir);
    const file = join(dir, 'client.key_secret');
    const good = readFileSync(file, 'utf8');
    const write = (text: string) => {
      rmSync(file);
      writeFileSync(file, text, { mode: 0o600 });
    };
    write(good.replace(/ {4}public-key.*\n/, ''));
    expect(() => loadClientCurve(dir)).toThrow(`CURVE key file ${file} is malformed: no public-key line`);
    write(good.replace(/secret-key = "(.{40})"/, 'secret-key = "$1xyz"'));
    expect(() => loadClientCurve(dir)).toThrow(/malformed: secret-key is not a 40-character Z85 key/);
    write(good.replace(/public-key = "./, 'public-key = "~'));
    expect(() => loadClientCurve(dir)).toThrow(/malformed: public-key is not a 40-character Z85 key/);
    write(good + good.split('\n').find((l) => l.includes('public-key')) + '\n');
    expect(() => loadClientCurve(dir)).toThrow(/public-key appears twice/);
    write(good);
    chmodSync(file, 0o644);
    expect(() => loadClientCurve(dir)).toThrow(`CURVE secret key file ${file} is readable by others (mode 644); run: chmod 600 ${file}`);
    chmodSync(file, 0o600);
    expect(loadClientCurve(dir).secretKey).toMatch(/^.{40}$/);
    expect(() => readKeyFile(join(dir, 'nope.key'), false)).toThrow(/does not exist \(create keys with `pbrl serve --keygen DIR`\)/);
    rmSync(join(dir, 'client.key'));
    expect(() => loadServerCurve(dir)).toThrow(/holds no client public key/);
  });

  it('encodes Z85 as RFC 32 specifies', () => {
    expect(z85Encode(Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).toBe('HelloWorld');
  });
});

describe('a CURVE server', () => {
  it('serves a client with an accepted key (both key pairs), and says auth is curve', async () => {
    for (const name of ['client', 'alice']) {
      const env = await RemoteVectorEnv.open(endpoint, { curve: loadClientCurve(keys, name), timeoutMs: 5000 });
      expect(env.conn.secure).toBe(true);
      expect((await env.reset(0)).length).toBe(2 * 39);
      const hello = await env.conn.request({ cmd: 'hello' });
      expect(hello.header.auth).toBe('curve');
      await env.close();
    }
  });

  it('refuses a client whose key it does not list, at once and with a clear error', async () => {
    const stranger = zmq.curveKeyPair();
    const curve = { ...stranger, serverKey: loadClientCurve(keys).serverKey };
    const t0 = Date.now();
    const err = await RemoteVectorEnv.open(endpoint, { curve, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteAuthError);
    expect((err as Error).message).toMatch(/refused this client's CURVE key .*--curve folder/);
    expect(Date.now() - t0).toBeLessThan(5000); // not the 10 s timeout
    expect(logged.some((l) => /refused a CURVE client from 127\.0\.0\.1/.test(l))).toBe(true);
  });

  it('a client with the wrong server key or without CURVE times out with a message naming CURVE', async () => {
    const wrongServer = { ...loadClientCurve(keys), serverKey: zmq.curveKeyPair().publicKey };
    const err = await RemoteVectorEnv.open(endpoint, { curve: wrongServer, timeoutMs: 400 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteTimeoutError);
    expect((err as Error).message).toMatch(/within 400 ms.*uses CURVE: check that its server key is this server's server\.key/);
    const plain = RemoteConnection.connect(endpoint, { timeoutMs: 300 });
    await expect(plain.request({ cmd: 'hello' })).rejects.toBeInstanceOf(RemoteTimeoutError);
    plain.close();
    expect(server.requests).toBeGreaterThan(0);
  });

  it('Python: the right key is served, a stranger key raises RemoteAuthError, a bad key file ValueError', async () => {
    if (!pythonHasZmq()) throw new Error(`${PYTHON} cannot import zmq and numpy (scripts/setup.sh installs python3-zmq python3-numpy)`);
    const strangerDir = join(root, 'stranger');
    generateKeys(strangerDir);
    rmSync(join(strangerDir, 'server.key'));
    writeFileSync(join(strangerDir, 'server.key'), readFileSync(join(keys, 'server.key')), { mode: 0o600 });
    const script = `
import json, sys, time
from pbrl_client import PbrlVectorEnv, PbrlEnv, RemoteAuthError, RemoteTimeout
ep, keys, stranger, wrong_server = sys.argv[1:5]
out = {}
venv = PbrlVectorEnv(ep, keys=keys, key_name="alice", timeout_ms=5000)
obs, _ = venv.reset(seed=0)
out["served"] = list(obs.shape)
venv.close()
t0 = time.monotonic()
try:
    PbrlEnv(ep, keys=stranger, timeout_ms=10000)
except RemoteAuthError as e:
    out["refused"] = [str(e), time.monotonic() - t0]
try:
    PbrlEnv(ep, timeout_ms=300)
except RemoteTimeout as e:
    out["plain"] = str(e)
try:
    PbrlEnv(ep, keys=wrong_server, timeout_ms=400)
except RemoteTimeout as e:
    out["wrong_server"] = str(e)
try:
    PbrlEnv(ep, keys=keys, key_name="nobody")
except ValueError as e:
    out["missing"] = str(e)
print(json.dumps(out))
`;
    const wrongServerDir = join(root, 'wrong-server');
    generateKeys(wrongServerDir); // its server.key belongs to no running server
    const r = await runPython(['-c', script, endpoint, keys, strangerDir, wrongServerDir]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.served).toEqual([2, 39]);
    expect(out.refused[0]).toMatch(/refused this client's CURVE key \(ZAP status 400\)/);
    expect(out.refused[1]).toBeLessThan(5);
    expect(out.plain).toMatch(/no reply .* within 300 ms/);
    expect(out.wrong_server).toMatch(/within 400 ms.*uses CURVE: check that its server key is this server's server\.key/);
    console.log(`Python, wrong server key: ${out.wrong_server}`);
    expect(out.missing).toMatch(/nobody\.key_secret does not exist/);
  });
});

describe('binding beyond loopback', () => {
  it('needs CURVE keys or an explicit insecure flag', async () => {
    expect(() => new EnvServer({ task: 'reach', bind: 'tcp://0.0.0.0:0' })).toThrow(
      /tcp:\/\/0\.0\.0\.0:0 is reachable from other machines and this server has no CURVE keys: create them with `pbrl serve --keygen DIR`.*--insecure/,
    );
    expect(() => new EnvServer({ task: 'reach', bind: 'tcp://127.0.0.1.example.com:5555' })).toThrow(/no CURVE keys/);
    expect(() => new EnvServer({ task: 'reach', bind: 'tcp://eth0:5555' })).toThrow(/no CURVE keys/);
    const lines: string[] = [];
    const open = new EnvServer({ task: 'reach', bind: 'tcp://0.0.0.0:0', insecure: true, log: (l) => lines.push(l) });
    const openEp = (await open.start()).replace('0.0.0.0', '127.0.0.1');
    expect(lines[0]).toMatch(/warning: .* --insecure was given/);
    // A plain server keeps serving plain clients while this process runs a ZAP handler for the CURVE one.
    const plain = RemoteConnection.connect(openEp, { timeoutMs: 5000 });
    expect((await plain.request({ cmd: 'hello' })).header.auth).toBe('none');
    plain.close();
    await open.close();
    const secured = new EnvServer({ task: 'reach', bind: 'tcp://0.0.0.0:0', curve: loadServerCurve(keys) });
    await secured.start();
    expect(secured.auth).toBe('curve');
    await secured.close();
  });

  it('`pbrl serve` refuses a public bind without --curve, and --keygen writes keys', async () => {
    // The command's own wiring, parsed in-process (spawning the CLI costs seconds).
    const cli = () => {
      const program = new Command().exitOverride();
      registerServe(program);
      return program;
    };
    const dir = join(root, 'cli-keys');
    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      await cli().parseAsync(['serve', '--keygen', dir, '--name', 'bob'], { from: 'user' });
    } finally {
      console.log = log;
    }
    expect(out[0]).toMatch(/wrote .*server\.key_secret.*bob\.key_secret \(mode 0600\)/);
    expect(loadClientCurve(dir, 'bob').serverKey).toBe(loadServerCurve(dir).publicKey);
    await expect(cli().parseAsync(['serve', '--bind', 'tcp://0.0.0.0:0'], { from: 'user' })).rejects.toThrow(/no CURVE keys.*--insecure/);
    await expect(cli().parseAsync(['serve', '--curve', join(root, 'nowhere')], { from: 'user' })).rejects.toThrow(/server\.key_secret does not exist/);
  });
});
