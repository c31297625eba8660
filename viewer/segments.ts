/**
 * Segment references for the viewer and labeling page: cutting length-H windows out of recorded
 * trajectories, naming them with stable ids, and drawing random pairs.
 *
 * Ids follow reward/segments.ts ("task:trajectory:start:length", trajectory = the episode's seed,
 * its default), so a label exported from the page names the same segment a trainer cuts from the
 * same trajectory file. If a file holds two episodes with the same seed, the trajectory part is
 * "#<index in file>" instead, which stays unambiguous. The cutter is local (a few lines) so the
 * viewer does not depend on reward/ internals.
 */
import { Rng } from '../core/rng.js';
import type { Segment, Trajectory } from '../core/types.js';

export interface SegmentRef {
  /** Index of the episode in its trajectory file. */
  trajectory: number;
  start: number;
  length: number;
}

function trajectoryKey(trajectories: readonly Trajectory[], index: number): string {
  const seed = trajectories[index].seed;
  const unique = trajectories.filter((t) => t.seed === seed).length === 1;
  return unique ? String(seed) : `#${index}`;
}

export function segmentId(trajectories: readonly Trajectory[], ref: SegmentRef): string {
  const t = trajectories[ref.trajectory];
  if (!t) throw new Error(`trajectory ${ref.trajectory} does not exist (the file has ${trajectories.length})`);
  return `${t.task}:${trajectoryKey(trajectories, ref.trajectory)}:${ref.start}:${ref.length}`;
}

/** Parses an id made by segmentId against the same file; throws a message that shows the expected shape. */
export function parseSegmentId(trajectories: readonly Trajectory[], id: string): SegmentRef {
  const m = /^(.+):(#?\d+):(\d+):(\d+)$/.exec(id);
  if (!m) throw new Error(`segment id "${id}" is not of the form <task>:<seed or #index>:<start>:<length>, e.g. "reach:3:100:50"`);
  const [, task, key, start, length] = m;
  let index: number;
  if (key.startsWith('#')) index = Number(key.slice(1));
  else {
    index = trajectories.findIndex((t) => t.seed === Number(key));
    if (index >= 0 && trajectoryKey(trajectories, index) !== key) index = -1;
  }
  const t = trajectories[index];
  if (!t) throw new Error(`segment "${id}": no trajectory ${key} in this file`);
  if (t.task !== task) throw new Error(`segment "${id}": trajectory ${key} is a ${t.task} episode, not ${task}`);
  return { trajectory: index, start: Number(start), length: Number(length) };
}

/** Throws unless the window lies inside the trajectory list. */
export function checkRef(trajectories: readonly Trajectory[], ref: SegmentRef): Trajectory {
  const t = trajectories[ref.trajectory];
  if (!t) throw new Error(`trajectory ${ref.trajectory} does not exist (the file has ${trajectories.length})`);
  if (ref.length < 1 || ref.start + ref.length > t.length) {
    throw new Error(`window [${ref.start}, ${ref.start + ref.length}) does not fit trajectory ${ref.trajectory} of length ${t.length}`);
  }
  return t;
}

/**
 * Cuts a core Segment. Poses hold length + 1 frames (the state before each action plus the final
 * one), so a replay shows the whole motion the segment's actions caused.
 */
export function cutSegment(trajectories: readonly Trajectory[], ref: SegmentRef): Segment {
  const t = checkRef(trajectories, ref);
  const { start, length } = ref;
  const seg: Segment = {
    id: segmentId(trajectories, ref),
    task: t.task,
    // Same convention as the id: the seed (reward/segments.ts's default), or "#index" if seeds repeat.
    source: { trajectory: /^#/.test(trajectoryKey(trajectories, ref.trajectory)) ? trajectoryKey(trajectories, ref.trajectory) : t.seed, start },
    length,
    obsDim: t.obsDim,
    actDim: t.actDim,
    obs: t.obs.slice(start * t.obsDim, (start + length) * t.obsDim),
    actions: t.actions.slice(start * t.actDim, (start + length) * t.actDim),
    rewards: t.rewards.slice(start, start + length),
    success: t.success.slice(start, start + length),
  };
  if (t.poses) {
    const n = t.poses.bodyNames.length * 7;
    seg.poses = { bodyNames: [...t.poses.bodyNames], data: t.poses.data.slice(start * n, (start + length + 1) * n) };
  }
  return seg;
}

/**
 * `count` distinct unordered pairs of distinct random windows (uniform over trajectories, then over
 * start offsets), reproducible from `seed`. Throws if the data cannot supply that many.
 */
/**
 * `accept` (optional) turns a drawn pair down (e.g. two near-identical segments); without it the
 * draws are exactly what they always were for a seed, so existing pools keep their pairs.
 */
export function samplePairs(
  trajectories: readonly Trajectory[],
  opts: { count: number; length: number; seed: number; accept?: (a: SegmentRef, b: SegmentRef) => boolean },
): [SegmentRef, SegmentRef][] {
  const { count, length, seed, accept } = opts;
  const usable = trajectories.map((t, i) => ({ i, starts: t.length - length + 1 })).filter((u) => u.starts > 0 && trajectories[u.i].poses);
  if (usable.length === 0) throw new Error(`no trajectory with recorded poses is at least ${length} steps long; use a shorter segment length`);
  const windows = usable.reduce((s, u) => s + u.starts, 0);
  const maxPairs = (windows * (windows - 1)) / 2;
  if (count > maxPairs) throw new Error(`asked for ${count} pairs but only ${maxPairs} distinct pairs of ${length}-step windows exist`);
  const rng = new Rng(seed).split('label-pairs');
  const draw = (): SegmentRef => {
    const u = usable[rng.int(usable.length)];
    return { trajectory: u.i, start: rng.int(u.starts), length };
  };
  const seen = new Set<string>();
  const pairs: [SegmentRef, SegmentRef][] = [];
  let refused = 0;
  while (pairs.length < count) {
    const a = draw();
    const b = draw();
    const ia = segmentId(trajectories, a);
    const ib = segmentId(trajectories, b);
    if (ia === ib) continue;
    const key = ia < ib ? `${ia}|${ib}` : `${ib}|${ia}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (accept && !accept(a, b)) {
      // Bounded: a run where most pairs look alike must end with an error, not spin.
      if (++refused > 20 * count + 1000 || seen.size >= maxPairs) {
        throw new Error(`only ${pairs.length} of ${count} pairs passed the filter after turning down ${refused} near-identical ones; draw fewer pairs or loosen the filter`);
      }
      continue;
    }
    pairs.push([a, b]);
  }
  return pairs;
}

/** `count` distinct random windows, for rating mode. */
export function sampleWindows(trajectories: readonly Trajectory[], opts: { count: number; length: number; seed: number }): SegmentRef[] {
  const usable = trajectories.map((t, i) => ({ i, starts: t.length - opts.length + 1 })).filter((u) => u.starts > 0 && trajectories[u.i].poses);
  const windows = usable.reduce((s, u) => s + u.starts, 0);
  if (opts.count > windows) throw new Error(`asked for ${opts.count} segments but only ${windows} distinct ${opts.length}-step windows exist`);
  const rng = new Rng(opts.seed).split('label-windows');
  const seen = new Set<string>();
  const out: SegmentRef[] = [];
  while (out.length < opts.count) {
    const u = usable[rng.int(usable.length)];
    const ref = { trajectory: u.i, start: rng.int(u.starts), length: opts.length };
    const id = segmentId(trajectories, ref);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(ref);
  }
  return out;
}
