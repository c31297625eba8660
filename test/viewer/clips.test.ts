// Clip export through headless chromium + ffmpeg (exportClips launches its own browser).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { exportClips } from '../../viewer/clips.js';
import { loadRun, runSegmentSource, type RunData } from '../../viewer/run-data.js';
import { ARTIFACTS, makeRun, tempDir } from './fixture.js';

let run: RunData;
let out: string;
beforeAll(async () => {
  const dir = tempDir('viewer-clips');
  run = loadRun(await makeRun(dir, 2, 40));
  out = join(dir, 'clips');
  mkdirSync(ARTIFACTS, { recursive: true });
});

function probe(file: string): { codec: string; width: number; height: number; frames: number } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const s = JSON.parse(r.stdout).streams[0];
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}

/** Grey-level variance of one decoded frame (a blank frame is ~0). */
function frameVariance(file: string, index: number): number {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${index})`, '-vframes', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 1 << 24 });
  expect(r.status, String(r.stderr)).toBe(0);
  const px = r.stdout as Buffer;
  let s = 0, s2 = 0;
  for (const v of px) { s += v; s2 += v * v; }
  return s2 / px.length - (s / px.length) ** 2;
}

describe('exportClips', () => {
  it('renders a segment to mp4 and a side-by-side pair to webm, one frame per recorded pose', async () => {
    const source = runSegmentSource(run);
    const stats = await exportClips({
      source,
      outDir: out,
      format: 'mp4',
      width: 320,
      height: 240,
      items: [{ name: 'single', ids: ['reach:0:5:20'] }],
    });
    expect(stats.renderer).toMatch(/SwiftShader/);
    const single = probe(join(out, 'single.mp4'));
    expect(single).toEqual({ codec: 'h264', width: 320, height: 240, frames: 21 });
    expect(frameVariance(join(out, 'single.mp4'), 10)).toBeGreaterThan(50);
    console.log(`clip export: ${stats.frames} frames in ${stats.seconds.toFixed(2)} s = ${stats.framesPerSecond.toFixed(1)} frames/s (incl. browser start)`);

    const pair = await exportClips({ source, outDir: ARTIFACTS, format: 'webm', width: 320, height: 240, items: [{ name: 'clip-pair', ids: ['reach:0:0:30', 'reach:1:0:10'] }] });
    const p = probe(pair.files[0]);
    // The longer segment sets the length; the shorter one holds its last frame.
    expect(p).toEqual({ codec: 'vp9', width: 640, height: 240, frames: 31 });
    expect(frameVariance(pair.files[0], 25)).toBeGreaterThan(50);
  });

  it('refuses bad requests with clear errors and leaves no partial file', async () => {
    const source = runSegmentSource(run);
    const bad = join(out, 'bad');
    await expect(exportClips({ source, outDir: bad, format: 'mp4', items: [{ name: 'x', ids: ['reach:0:30:20'] }] })).rejects.toThrow(/not found/);
    await expect(exportClips({ source, outDir: bad, format: 'mp4', width: 321, items: [{ name: 'x', ids: ['reach:0:0:20'] }] })).rejects.toThrow(/even integer/);
    await expect(exportClips({ source, outDir: bad, format: 'avi' as 'mp4', items: [] })).rejects.toThrow(/mp4 or webm/);
    await expect(exportClips({ source, outDir: bad, format: 'mp4', ffmpeg: '/nonexistent/ffmpeg', items: [{ name: 'x', ids: ['reach:0:0:5'] }] })).rejects.toThrow(/ffmpeg/);
    expect(existsSync(bad) ? readdirSync(bad) : []).toEqual([]);
  });
});
