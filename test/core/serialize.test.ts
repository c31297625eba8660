import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64ToF32, decodeBin, encodeBin, f32ToBase64, readBinFile, writeBinFile } from '../../core/serialize.js';

describe('binary container', () => {
  const arrays = {
    obs: Float32Array.from([1.5, -2, 3.25]),
    flags: Uint8Array.from([1, 0, 1, 1, 0]),
    idx: Int32Array.from([-7, 9]),
  };

  it('round-trips header and arrays', () => {
    const { header, arrays: back } = decodeBin(encodeBin({ task: 'reach', n: 3 }, arrays));
    expect(header).toEqual({ task: 'reach', n: 3 });
    expect(Array.from(back.obs as Float32Array)).toEqual([1.5, -2, 3.25]);
    expect(Array.from(back.flags as Uint8Array)).toEqual([1, 0, 1, 1, 0]);
    expect(Array.from(back.idx as Int32Array)).toEqual([-7, 9]);
  });

  it('reports truncated, corrupt and foreign files clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbrl-ser-'));
    const path = join(dir, 'x.bin');
    writeBinFile(path, { a: 1 }, arrays);
    expect(readBinFile(path).header).toEqual({ a: 1 });
    const buf = readFileSync(path);
    writeFileSync(path, buf.subarray(0, buf.length - 10));
    expect(() => readBinFile(path)).toThrow(/checksum|truncated/);
    const flipped = Buffer.from(buf);
    flipped[flipped.length - 40] ^= 0xff;
    writeFileSync(path, flipped);
    expect(() => readBinFile(path)).toThrow(/checksum mismatch/);
    writeFileSync(path, 'hello world, definitely not a pbrl file at all.....');
    expect(() => readBinFile(path)).toThrow(/bad magic/);
  });

  it('base64 float32 round trip', () => {
    const a = Float32Array.from([0.1, 1e-30, -5]);
    expect(Array.from(base64ToF32(f32ToBase64(a)))).toEqual(Array.from(a));
    expect(() => base64ToF32('AAA=')).toThrow(/multiple of 4/);
  });
});
