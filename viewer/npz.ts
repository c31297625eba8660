/**
 * Minimal NumPy .npz writer (an uncompressed zip of .npy files) for label export bundles, so a
 * Python trainer gets arrays with `np.load(path)` and no conversion step. Formats: NumPy's .npy
 * version 1.0 (header dict padded to 64 bytes) and zip "stored" entries with CRC-32; no zip64, so a
 * bundle is limited to 4 GiB, which is refused rather than written corrupt.
 */
import { crc32 } from 'node:zlib';

export type NpyArray =
  | { dtype: '<f4'; data: Float32Array; shape: number[] }
  | { dtype: '<f8'; data: Float64Array; shape: number[] }
  | { dtype: '<i4'; data: Int32Array; shape: number[] }
  | { dtype: '<i8'; data: BigInt64Array; shape: number[] }
  | { dtype: 'str'; data: string[]; shape: number[] };

export function npy(a: NpyArray): Buffer {
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (a.data.length !== count) throw new Error(`npy: ${a.data.length} values for shape (${a.shape.join(', ')})`);
  let descr: string = a.dtype;
  let body: Buffer;
  if (a.dtype === 'str') {
    // NumPy's fixed-width unicode: UTF-32LE code points, padded with zeros to the longest.
    const cps = a.data.map((s) => [...s].map((c) => c.codePointAt(0)!));
    const width = Math.max(1, ...cps.map((c) => c.length));
    descr = `<U${width}`;
    body = Buffer.alloc(count * width * 4);
    cps.forEach((c, i) => c.forEach((cp, j) => body.writeUInt32LE(cp, (i * width + j) * 4)));
  } else {
    body = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  }
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

/** An .npz file holding `arrays` (each saved as <name>.npy). */
export function npz(arrays: Record<string, NpyArray>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, arr] of Object.entries(arrays)) {
    const data = npy(arr);
    const fname = Buffer.from(`${name}.npy`, 'utf8');
    const crc = crc32(data);
    if (offset + data.length + 30 + fname.length > 0xffffffff) throw new Error('npz: bundle over 4 GiB; export fewer pools at a time');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time/date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += 30 + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
