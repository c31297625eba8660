/**
 * CURVE key files for the env server and its clients (ZeroMQ's own encryption and authentication,
 * RFC 26 CurveZMQ; keys are Z85 text, RFC 32).
 *
 * The files follow ZeroMQ's certificate layout (czmq's zcert, also read by pyzmq's
 * `zmq.auth.load_certificate`): `<name>.key` holds a public key, `<name>.key_secret` the public and
 * the secret key. `pbrl serve --keygen DIR` writes a server pair and a client pair:
 *
 *   DIR/server.key_secret   the server's keys              (stays on the server)
 *   DIR/server.key          the server's public key        (every client needs a copy)
 *   DIR/client.key_secret   a client's keys                (copy to the client machine)
 *   DIR/client.key          that client's public key       (the server accepts every <name>.key in DIR)
 *
 * Secret files must not be readable by group or others (as ssh insists for its keys); every file
 * written here is 0600.
 */
import * as zmq from 'zeromq';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';

const Z85_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** What a server needs: its own pair and the public keys it lets in (by file name). */
export interface ServerCurve extends KeyPair {
  clients: { name: string; publicKey: string }[];
}

/** What a client needs: its own pair and the server's public key. */
export interface ClientCurve extends KeyPair {
  serverKey: string;
}

export function isZ85Key(s: unknown): s is string {
  return typeof s === 'string' && Z85_KEY.test(s);
}

/** Z85 text of raw key bytes (length a multiple of 4), as ZAP hands them to the server. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new Error(`z85: ${bytes.length} bytes is not a multiple of 4`);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let v = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = Z85_ALPHABET[v % 85] + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

function certText(name: string, pair: { publicKey: string; secretKey?: string }): string {
  const kind = pair.secretKey ? 'secret' : 'public';
  const lines = [
    `#   ****  pbrl CURVE ${kind} key of "${name}"${pair.secretKey ? ': keep it private' : ''}  ****`,
    `#   written by \`pbrl serve --keygen\` on ${new Date().toISOString()}`,
    'metadata',
    `    name = "${name}"`,
    'curve',
    `    public-key = "${pair.publicKey}"`,
  ];
  if (pair.secretKey) lines.push(`    secret-key = "${pair.secretKey}"`);
  return lines.join('\n') + '\n';
}

/** Creates a file that must not exist yet, mode 0600 (set at creation, so it is never readable by others). */
function writeNew(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a client pair `<name>` into `dir`, and the server pair too when `dir` has none yet.
 * Never overwrites a key: an existing `<name>` pair is an error (a server's list of accepted keys
 * would otherwise change under it).
 */
export function generateKeys(dir: string, name = 'client'): { written: string[] } {
  if (!NAME.test(name) || name === 'server') {
    throw new Error(`key name must be 1-64 letters, digits, "_" or "-" and not "server", got ${JSON.stringify(name)}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const serverSecret = join(dir, 'server.key_secret');
  const pairs: [string, KeyPair][] = [];
  if (!existsSync(serverSecret)) pairs.push(['server', zmq.curveKeyPair()]);
  else readKeyFile(serverSecret, true); // a damaged server file is reported now, not at serve time
  for (const suffix of ['.key', '.key_secret']) {
    const p = join(dir, name + suffix);
    if (existsSync(p)) throw new Error(`${p} exists; pick another --name or remove it first (keys are never overwritten)`);
  }
  pairs.push([name, zmq.curveKeyPair()]);
  for (const [n, pair] of pairs) {
    writeNew(join(dir, `${n}.key`), certText(n, { publicKey: pair.publicKey }));
    writeNew(join(dir, `${n}.key_secret`), certText(n, pair));
    written.push(join(dir, `${n}.key`), join(dir, `${n}.key_secret`));
  }
  return { written };
}

/** Reads `public-key` (and, for a secret file, `secret-key`) from a key file; every fault is named. */
export function readKeyFile(path: string, secret: true): KeyPair;
export function readKeyFile(path: string, secret: false): { publicKey: string };
export function readKeyFile(path: string, secret: boolean): { publicKey: string; secretKey?: string } {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`CURVE key file ${path} does not exist (create keys with \`pbrl serve --keygen DIR\`)`);
  }
  if (!st.isFile()) throw new Error(`CURVE key file ${path} is not a regular file`);
  if (secret && (st.mode & 0o077) !== 0) {
    throw new Error(`CURVE secret key file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
  }
  if (st.size > 64 * 1024) throw new Error(`CURVE key file ${path} is ${st.size} bytes; a key file is a few hundred`);
  const found: Record<string, string> = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*(public-key|secret-key)\s*=\s*"?([^"\s]*)"?\s*$/.exec(raw);
    if (!m) continue;
    if (found[m[1]] !== undefined) throw new Error(`CURVE key file ${path} is malformed: ${m[1]} appears twice`);
    found[m[1]] = m[2];
  }
  const check = (field: string): string => {
    const v = found[field];
    if (v === undefined) throw new Error(`CURVE key file ${path} is malformed: no ${field} line (expected ${field} = "<40 Z85 characters>")`);
    if (!isZ85Key(v)) throw new Error(`CURVE key file ${path} is malformed: ${field} is not a 40-character Z85 key`);
    return v;
  };
  const publicKey = check('public-key');
  if (!secret) return { publicKey };
  return { publicKey, secretKey: check('secret-key') };
}

/** The server's pair from `dir/server.key_secret` and every client `dir/<name>.key` it accepts. */
export function loadServerCurve(dir: string): ServerCurve {
  const own = readKeyFile(join(dir, 'server.key_secret'), true);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new Error(`CURVE key folder ${dir} cannot be read`);
  }
  const clients = names
    .filter((f) => f.endsWith('.key') && f !== 'server.key')
    .sort()
    .map((f) => ({ name: basename(f, '.key'), publicKey: readKeyFile(join(dir, f), false).publicKey }));
  if (clients.length === 0) {
    throw new Error(`CURVE key folder ${dir} holds no client public key (<name>.key); add one with \`pbrl serve --keygen ${dir} --name <name>\``);
  }
  return { ...own, clients };
}

/** A client's pair from `dir/<name>.key_secret` and the server's public key from `dir/server.key`. */
export function loadClientCurve(dir: string, name = 'client'): ClientCurve {
  if (!NAME.test(name)) throw new Error(`key name must be 1-64 letters, digits, "_" or "-", got ${JSON.stringify(name)}`);
  const own = readKeyFile(join(dir, `${name}.key_secret`), true);
  const { publicKey: serverKey } = readKeyFile(join(dir, 'server.key'), false);
  return { ...own, serverKey };
}
