/** Segment s's summed true reward, read from a dataset's arrays (for the dataset tests' checks). */
import type { OfflineDataset } from '../../../experiments/datasets/format.js';

export function segReturn(ds: OfflineDataset, s: number): number {
  const { segEpisode, segStart, segmentLength: H, episodeLength: T, rewards } = ds.data;
  let r = 0;
  for (let t = 0; t < H; t++) r += rewards[segEpisode[s] * T + segStart[s] + t];
  return r;
}
