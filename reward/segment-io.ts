/**
 * Segments as JSON (label stores, the labeling page, dataset files): typed arrays as base64 float32 /
 * uint8, everything checked on the way back in so a damaged record is an error naming the field.
 */
import { base64ToF32, f32ToBase64 } from '../core/serialize.js';
import type { RewardSegment } from './segments.js';
import { validateSegment } from './segments.js';

export interface SegmentJSON {
  id: string;
  task: string;
  source: { trajectory: string | number; start: number };
  length: number;
  obsDim: number;
  actDim: number;
  obs: string;
  actions: string;
  rewards: string;
  success: string;
  finalObs?: string;
  poses?: { bodyNames: string[]; data: string };
}

export function segmentToJSON(s: RewardSegment): SegmentJSON {
  return {
    id: s.id,
    task: s.task,
    source: { ...s.source },
    length: s.length,
    obsDim: s.obsDim,
    actDim: s.actDim,
    obs: f32ToBase64(s.obs),
    actions: f32ToBase64(s.actions),
    rewards: f32ToBase64(s.rewards),
    success: Buffer.from(s.success.buffer, s.success.byteOffset, s.success.byteLength).toString('base64'),
    ...(s.finalObs ? { finalObs: f32ToBase64(s.finalObs) } : {}),
    ...(s.poses ? { poses: { bodyNames: [...s.poses.bodyNames], data: f32ToBase64(s.poses.data) } } : {}),
  };
}

export function segmentFromJSON(j: unknown, where = 'segment'): RewardSegment {
  const o = j as Partial<SegmentJSON>;
  if (!o || typeof o !== 'object') throw new Error(`${where}: expected an object`);
  for (const k of ['id', 'task', 'obs', 'actions', 'rewards', 'success'] as const) {
    if (typeof o[k] !== 'string') throw new Error(`${where}.${k} must be a string`);
  }
  for (const k of ['length', 'obsDim', 'actDim'] as const) {
    if (!Number.isInteger(o[k]) || (o[k] as number) < 1) throw new Error(`${where}.${k} must be an integer >= 1, got ${o[k]}`);
  }
  if (!o.source || !Number.isInteger(o.source.start) || o.source.start < 0) throw new Error(`${where}.source.start must be an integer >= 0`);
  const seg: RewardSegment = {
    id: o.id!,
    task: o.task!,
    source: { trajectory: o.source.trajectory, start: o.source.start },
    length: o.length!,
    obsDim: o.obsDim!,
    actDim: o.actDim!,
    obs: base64ToF32(o.obs!),
    actions: base64ToF32(o.actions!),
    rewards: base64ToF32(o.rewards!),
    success: new Uint8Array(Buffer.from(o.success!, 'base64')),
  };
  validateSegment(seg, where);
  if (seg.success.length !== seg.length) throw new Error(`${where}.success has ${seg.success.length} values, expected ${seg.length}`);
  if (o.finalObs !== undefined) {
    seg.finalObs = base64ToF32(o.finalObs);
    if (seg.finalObs.length !== seg.obsDim) throw new Error(`${where}.finalObs has ${seg.finalObs.length} values, expected obsDim = ${seg.obsDim}`);
  }
  if (o.poses !== undefined) {
    const data = base64ToF32(o.poses.data);
    const expected = (seg.length + 1) * o.poses.bodyNames.length * 7;
    if (data.length !== expected) throw new Error(`${where}.poses.data has ${data.length} values, expected (length + 1) * bodies * 7 = ${expected}`);
    seg.poses = { bodyNames: [...o.poses.bodyNames], data };
  }
  return seg;
}
