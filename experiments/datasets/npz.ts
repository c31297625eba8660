/**
 * NumPy .npz export, written by hand: an .npz is a zip archive of .npy files. Entries are stored
 * uncompressed (zip method 0), which numpy.load reads directly; each .npy is format version 1.0 with
 * a little-endian dtype and C order. Sizes are limited to classic zip (each entry and the archive
 * under 4 GiB); a larger export is refused with a clear error rather than written corrupt.
 */
import { writeFileAtomic } from '../../core/serialize.js';
import type { OfflineDataset } from './format.js';

export type NpyArray = Float32Array | Int32Array | Uint8Array;

export interface NpzEntry {
  data: NpyArray;
  shape: number[];
}

const DESCR = (a: NpyArray): string => (a instanceof Float32Array ? '<f4' : a instanceof Int32Array ? '<i4' : '|u1');

/** The .npy bytes of one array: magic, version 1.0, header dict padded to 64 bytes, raw data. */
export function encodeNpy(data: NpyArray, shape: number[]): Buffer {
  const count = shape.reduce((n, d) => n * d, 1);
  if (count !== data.length) throw new Error(`npy: shape [${shape}] holds ${count} values but the array has ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR(data)}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // magic(6) + version(2) + header length(2) + dict + '\n' must be a multiple of 64.
  const pad = 64 - ((10 + dict.length + 1) % 64);
  dict = dict + ' '.repeat(pad % 64) + '\n';
  if (dict.length > 65535) throw new Error('npy: header too long for format 1.0');
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const LIMIT = 0xffffffff;

/** A zip archive (stored entries, no compression) of the given files. */
export function encodeZip(files: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    if (f.data.length >= LIMIT || offset >= LIMIT) throw new Error(`npz: ${f.name} does not fit a classic zip (over 4 GiB); export fewer episodes`);
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // method: stored
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4); // made by
    cd.writeUInt16LE(20, 6); // needed
    cd.writeUInt16LE(0, 8);
    cd.writeUInt16LE(0, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(f.data.length, 20);
    cd.writeUInt32LE(f.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42); // comment/disk/attrs (30..41) stay 0
    central.push(cd, name);
    parts.push(local, name, f.data);
    offset += 30 + name.length + f.data.length;
  }
  const cdBuf = Buffer.concat(central);
  if (offset + cdBuf.length >= LIMIT || files.length > 0xffff) throw new Error('npz: archive does not fit a classic zip (over 4 GiB or 65535 entries)');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, end]);
}

export function encodeNpz(entries: Record<string, NpzEntry>): Buffer {
  return encodeZip(Object.entries(entries).map(([k, e]) => ({ name: `${k}.npy`, data: encodeNpy(e.data, e.shape) })));
}

/**
 * The dataset as numpy arrays with their shapes (the file format's arrays, names in snake_case:
 * seg_episode, pair_a, ...), plus `header` as a
 * UTF-8 JSON byte array: `json.loads(bytes(np.load(f)["header"]))`.
 */
export function datasetNpzEntries(ds: OfflineDataset): Record<string, NpzEntry> {
  const h = ds.header;
  const d = ds.data;
  const E = h.episodes;
  const T = h.episodeLength;
  const headerBytes = new Uint8Array(Buffer.from(JSON.stringify(h), 'utf8'));
  const out: Record<string, NpzEntry> = {
    obs: { data: d.obs, shape: [E, T + 1, h.obsDim] },
    actions: { data: d.actions, shape: [E, T, h.actDim] },
    rewards: { data: d.rewards, shape: [E, T] },
    success: { data: d.success, shape: [E, T] },
    episode_source: { data: ds.episodeSource, shape: [E] },
    seg_episode: { data: d.segEpisode, shape: [h.segments] },
    seg_start: { data: d.segStart, shape: [h.segments] },
    pair_a: { data: d.pairA, shape: [h.pairs] },
    pair_b: { data: d.pairB, shape: [h.pairs] },
    labels: { data: d.labels, shape: [h.pairs] },
    header: { data: headerBytes, shape: [headerBytes.length] },
  };
  if (ds.poses && h.poseBodies) out.poses = { data: ds.poses, shape: [E, T + 1, h.poseBodies.length, 7] };
  if (d.ratings) out.ratings = { data: d.ratings, shape: [h.segments] };
  return out;
}

export function writeDatasetNpz(path: string, ds: OfflineDataset): void {
  writeFileAtomic(path, encodeNpz(datasetNpzEntries(ds)));
}
