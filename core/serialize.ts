/**
 * Small helpers to store typed arrays in JSON-friendly and binary forms. Binary files carry a magic
 * string, a version and a byte length so a truncated or foreign file is a clear error, never garbage.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export function f32ToBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function base64ToF32(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.byteLength % 4 !== 0) throw new Error(`base64 float32 payload has ${buf.byteLength} bytes, not a multiple of 4`);
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Write to a temp file then rename, so a crash mid-write never leaves a half-written file in place. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

const MAGIC = 'PBRLBIN1';

/**
 * A container of named float32/uint8/int32 arrays plus a JSON header:
 *   MAGIC(8) | headerLen u32 | header JSON | payload bytes | sha256(32) of everything before it
 */
export type BinArray = Float32Array | Uint8Array | Int32Array;

export function encodeBin(header: Record<string, unknown>, arrays: Record<string, BinArray>): Buffer {
  const entries: { name: string; dtype: string; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, arr] of Object.entries(arrays)) {
    const dtype = arr instanceof Float32Array ? 'f32' : arr instanceof Int32Array ? 'i32' : 'u8';
    entries.push({ name, dtype, offset, length: arr.length });
    offset += align8(arr.byteLength);
  }
  const headerBuf = Buffer.from(JSON.stringify({ ...header, arrays: entries }), 'utf8');
  const out = Buffer.alloc(8 + 4 + headerBuf.length + offset + 32);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(headerBuf.length, 8);
  headerBuf.copy(out, 12);
  const base = 12 + headerBuf.length;
  for (const e of entries) {
    const arr = arrays[e.name];
    Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).copy(out, base + e.offset);
  }
  createHash('sha256').update(out.subarray(0, out.length - 32)).digest().copy(out, out.length - 32);
  return out;
}

export function decodeBin(buf: Uint8Array, what = 'file'): { header: Record<string, unknown>; arrays: Record<string, BinArray> } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 44 || b.toString('latin1', 0, 8) !== MAGIC) throw new Error(`${what}: not a pbrl binary file (bad magic)`);
  const hlen = b.readUInt32LE(8);
  if (12 + hlen + 32 > b.length) throw new Error(`${what}: truncated (header says ${hlen} bytes, file has ${b.length})`);
  const digest = createHash('sha256').update(b.subarray(0, b.length - 32)).digest();
  if (!digest.equals(b.subarray(b.length - 32))) throw new Error(`${what}: checksum mismatch (file truncated or corrupt)`);
  const header = JSON.parse(b.toString('utf8', 12, 12 + hlen)) as Record<string, unknown> & {
    arrays: { name: string; dtype: string; offset: number; length: number }[];
  };
  const base = 12 + hlen;
  const arrays: Record<string, BinArray> = {};
  for (const e of header.arrays) {
    const bytesPer = e.dtype === 'u8' ? 1 : 4;
    const start = base + e.offset;
    if (start + e.length * bytesPer > b.length - 32) throw new Error(`${what}: array ${e.name} runs past the end of the file`);
    const copy = new Uint8Array(e.length * bytesPer);
    copy.set(b.subarray(start, start + copy.length));
    arrays[e.name] = e.dtype === 'f32' ? new Float32Array(copy.buffer) : e.dtype === 'i32' ? new Int32Array(copy.buffer) : copy;
  }
  const { arrays: _entries, ...rest } = header;
  return { header: rest, arrays };
}

export function readBinFile(path: string) {
  return decodeBin(readFileSync(path), path);
}

export function writeBinFile(path: string, header: Record<string, unknown>, arrays: Record<string, BinArray>): void {
  writeFileAtomic(path, encodeBin(header, arrays));
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
