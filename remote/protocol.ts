/**
 * The wire format of the env server (remote/README.md is the reference for other languages).
 *
 * A message is a ZeroMQ multipart message: frame 0 is a UTF-8 JSON header, frames 1.. are raw
 * little-endian arrays (float32 observations and actions, float64 rewards so they survive the trip
 * bit-exactly). A reply header lists its payload frames with dtype and shape, so a client can decode
 * without knowing the command. JSON stays small (a few hundred bytes) and numbers never go through
 * text, which is where most of the cost of a naive JSON protocol would be.
 */

import { clipText, show } from './client-text.js';

export const PROTOCOL_VERSION = 1;

/** Commands the server understands. */
export const COMMANDS = ['hello', 'open', 'spaces', 'reset', 'step', 'poses', 'close', 'ping'] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * What each request may carry besides `v`, `id` and `cmd`: its header fields and its number of payload
 * frames. The server refuses anything else (an unknown field is usually a typo that would otherwise be
 * ignored silently; an extra frame is a client bug), before it touches any session.
 */
export const REQUEST_SHAPE: Record<Command, { fields: readonly string[]; frames: number }> = {
  hello: { fields: [], frames: 0 },
  ping: { fields: [], frames: 0 },
  open: { fields: ['task', 'numEnvs', 'autoreset', 'maxPathLength', 'goalObservable'], frames: 0 },
  spaces: { fields: ['session'], frames: 0 },
  reset: { fields: ['session', 'seed', 'seeds', 'envs', 'options', 'withPoses'], frames: 0 },
  step: { fields: ['session', 'withPoses'], frames: 1 },
  poses: { fields: ['session'], frames: 0 },
  close: { fields: ['session'], frames: 0 },
};

export function isCommand(cmd: string): cmd is Command {
  return (COMMANDS as readonly string[]).includes(cmd);
}

/** Error codes in `{ok: false, error: {code, message}}` replies. */
export type ErrorCode =
  | 'bad_frame' // header is not JSON / not an object, a payload frame has the wrong size, or the request has frames its command does not take
  | 'bad_version' // header.v is missing or not PROTOCOL_VERSION
  | 'unknown_command'
  | 'bad_request' // a field has the wrong type or is out of range
  | 'bad_action' // actions have the wrong size or contain NaN / Infinity
  | 'no_session' // unknown or expired session id
  | 'too_many_sessions'
  | 'needs_reset' // stepping an env whose episode is over, with autoreset off
  | 'env_error' // the environment itself threw
  | 'internal';

export type DType = 'float32' | 'float64' | 'uint8';

export interface FrameSpec {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface RequestHeader {
  v: number;
  /** Echoed back, so a client can drop stale replies (e.g. after a timeout). */
  id?: number | string;
  cmd: string;
  [key: string]: unknown;
}

export interface ReplyHeader {
  v: number;
  id?: number | string | null;
  ok: boolean;
  error?: { code: ErrorCode; message: string };
  frames?: FrameSpec[];
  [key: string]: unknown;
}

/** An error that becomes an `{ok: false}` reply; anything else thrown by a handler is 'internal'. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Raised on the client side when the server answered `{ok: false}`. */
export class RemoteError extends Error {
  constructor(
    readonly code: ErrorCode | string,
    message: string,
    readonly cmd: string,
  ) {
    super(`${cmd}: ${message} [${code}]`);
    this.name = 'RemoteError';
  }
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, uint8: 1 };

export function frameBytes(spec: FrameSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1) * BYTES[spec.dtype];
}

// The protocol is little-endian; typed arrays use the host's order, so refuse to run elsewhere
// rather than silently send swapped floats.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('pbrl remote: big-endian hosts are not supported (the wire format is little-endian)');
}

/** Raw bytes of a typed array, without copying. */
export function toFrame(a: Float32Array | Float64Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * A frame as a Float32Array. ZeroMQ buffers are not always 4-byte aligned, so an unaligned frame is
 * copied; an aligned one is viewed in place.
 */
export function readFloat32(buf: Buffer): Float32Array {
  if (buf.byteLength % 4 !== 0) throw new ProtocolError('bad_frame', `float32 frame has ${buf.byteLength} bytes, not a multiple of 4`);
  if (buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function readFloat64(buf: Buffer): Float64Array {
  if (buf.byteLength % 8 !== 0) throw new ProtocolError('bad_frame', `float64 frame has ${buf.byteLength} bytes, not a multiple of 8`);
  if (buf.byteOffset % 8 === 0) return new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function encodeHeader(h: RequestHeader | ReplyHeader): Buffer {
  return Buffer.from(JSON.stringify(h), 'utf8');
}

/** Parses a request header; every failure is a ProtocolError naming what was wrong. */
export function decodeRequestHeader(buf: Buffer | undefined): RequestHeader {
  if (!buf || buf.byteLength === 0) throw new ProtocolError('bad_frame', 'missing header frame (frame 0 must be a JSON object)');
  if (buf.byteLength > 1 << 20) throw new ProtocolError('bad_frame', `header frame is ${buf.byteLength} bytes; the limit is 1 MiB`);
  let h: unknown;
  try {
    h = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    // V8's message quotes the input; clip it (a client chose those bytes).
    throw new ProtocolError('bad_frame', `header frame is not valid JSON (${clipText((err as Error).message, 100)})`);
  }
  if (h === null || typeof h !== 'object' || Array.isArray(h)) throw new ProtocolError('bad_frame', 'header must be a JSON object');
  const o = h as Record<string, unknown>;
  if (o.v !== PROTOCOL_VERSION) {
    throw new ProtocolError('bad_version', `protocol version ${show(o.v)} is not supported; this server speaks v=${PROTOCOL_VERSION}`);
  }
  if (typeof o.cmd !== 'string') throw new ProtocolError('bad_request', 'header.cmd must be a string');
  if (o.id !== undefined && typeof o.id !== 'number' && typeof o.id !== 'string') {
    throw new ProtocolError('bad_request', 'header.id must be a number or a string when given');
  }
  return o as RequestHeader;
}

export function decodeReplyHeader(buf: Buffer | undefined): ReplyHeader {
  if (!buf) throw new Error('reply has no header frame');
  const h = JSON.parse(buf.toString('utf8')) as ReplyHeader;
  if (h.v !== PROTOCOL_VERSION) throw new Error(`server speaks protocol v=${h.v}, this client v=${PROTOCOL_VERSION}`);
  return h;
}

// ---- field readers for request headers ------------------------------------------------------------

export function optInt(h: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = h[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ProtocolError('bad_request', `${field} must be an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
}

export function optFiniteNumber(h: Record<string, unknown>, field: string): number | undefined {
  const v = h[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError('bad_request', `${field} must be a finite number, got ${show(v)}`);
  return v;
}

export function optBool(h: Record<string, unknown>, field: string): boolean | undefined {
  const v = h[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ProtocolError('bad_request', `${field} must be true or false, got ${show(v)}`);
  return v;
}

export function optString(h: Record<string, unknown>, field: string): string | undefined {
  const v = h[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ProtocolError('bad_request', `${field} must be a string, got ${show(v)}`);
  return v;
}
