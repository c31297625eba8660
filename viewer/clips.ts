/**
 * Video clips of segments (or side-by-side pairs), rendered headlessly from the same three.js scene
 * the viewer uses: a local server serves the render page, chromium renders frames on demand and
 * returns PNG data URLs in batches, and ffmpeg encodes them from its stdin (reference/headless-clips.md).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer, listen } from './server.js';
import { launchChromium } from './browser.js';
import type { SegmentSource } from './run-data.js';

export type ClipFormat = 'mp4' | 'webm';

export interface ClipItem {
  /** File name without extension. */
  name: string;
  /** One segment id, or two for a side-by-side pair (left, right). */
  ids: string[];
}

export interface ClipOptions {
  source: SegmentSource;
  items: ClipItem[];
  outDir: string;
  format: ClipFormat;
  width?: number;
  height?: number;
  fps?: number;
  ffmpeg?: string;
  onClip?: (done: number, total: number, file: string) => void;
}

export interface ClipStats {
  files: string[];
  frames: number;
  seconds: number;
  framesPerSecond: number;
  renderer: string;
}

/** Frames per page.evaluate call: batching measured ~15 % faster than one frame per call. */
const BATCH = 10;

function encoderArgs(format: ClipFormat): string[] {
  return format === 'mp4'
    ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-movflags', '+faststart']
    : ['-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '32', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-pix_fmt', 'yuv420p'];
}

export async function exportClips(opts: ClipOptions): Promise<ClipStats> {
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const fps = opts.fps ?? 25;
  // libx264 / yuv420p need even sizes.
  if (!(Number.isInteger(width) && width >= 64 && width <= 1920 && width % 2 === 0)) throw new Error(`width must be an even integer in [64, 1920], got ${width}`);
  if (!(Number.isInteger(height) && height >= 64 && height <= 1080 && height % 2 === 0)) throw new Error(`height must be an even integer in [64, 1080], got ${height}`);
  if (!(Number.isInteger(fps) && fps >= 1 && fps <= 120)) throw new Error(`fps must be an integer in [1, 120], got ${fps}`);
  if (opts.format !== 'mp4' && opts.format !== 'webm') throw new Error(`format must be mp4 or webm, got "${opts.format}"`);
  for (const it of opts.items) {
    if (it.ids.length < 1 || it.ids.length > 2) throw new Error(`clip ${it.name}: needs one or two segment ids`);
    for (const id of it.ids) if (!opts.source.get(id)?.poses) throw new Error(`clip ${it.name}: segment "${id}" not found or has no recorded poses`);
  }
  mkdirSync(opts.outDir, { recursive: true });
  const app = await buildServer({ segments: opts.source });
  const url = await listen(app);
  const browser = await launchChromium();
  const files: string[] = [];
  let frames = 0;
  const t0 = performance.now();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/render`);
    await page.waitForFunction(() => (window as unknown as { pbrlRenderReady?: boolean }).pbrlRenderReady === true, undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`render page did not start: ${errors.join('; ') || 'timeout'}`);
    });
    const renderer = await page.evaluate(() => (window as any).pbrlRender.info().renderer as string);
    for (const [k, item] of opts.items.entries()) {
      const file = join(opts.outDir, `${item.name}.${opts.format}`);
      // Write to a temporary name and rename at the end, so a failed export leaves no half clip behind.
      const tmp = `${file}.part`;
      const n: number = await page.evaluate(([ids, w, h]) => (window as any).pbrlRender.load(ids, w, h), [item.ids, width, height] as const);
      const ff = spawn(opts.ffmpeg ?? process.env.FFMPEG ?? 'ffmpeg', ['-y', '-loglevel', 'error', '-f', 'image2pipe', '-framerate', String(fps), '-i', '-', ...encoderArgs(opts.format), '-f', opts.format, tmp], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      ff.stderr!.on('data', (d) => (stderr += d));
      const spawnError = once(ff, 'spawn').then(() => null, (e: Error) => e);
      if (await spawnError) throw new Error(`could not start ffmpeg: ${(await spawnError)!.message} (install Debian's ffmpeg or set FFMPEG)`);
      const closed = once(ff, 'close');
      try {
        for (let f = 0; f < n; f += BATCH) {
          const urls: string[] = await page.evaluate(([s, c]) => (window as any).pbrlRender.frames(s, c), [f, Math.min(BATCH, n - f)] as const);
          for (const u of urls) {
            if (!ff.stdin!.write(Buffer.from(u.slice(u.indexOf(',') + 1), 'base64'))) await once(ff.stdin!, 'drain');
          }
        }
      } catch (e) {
        // The page or ffmpeg died mid-clip: stop the encoder and drop the partial file.
        ff.kill('SIGKILL');
        await closed.catch(() => {});
        rmSync(tmp, { force: true });
        throw new Error(`rendering ${file} failed: ${(e as Error).message}${stderr ? ` (ffmpeg: ${stderr.trim()})` : ''}`);
      }
      ff.stdin!.end();
      const [code] = await closed;
      if (code !== 0) {
        rmSync(tmp, { force: true });
        throw new Error(`ffmpeg failed on ${file} (exit ${code}): ${stderr.trim()}`);
      }
      renameSync(tmp, file);
      frames += n;
      files.push(file);
      opts.onClip?.(k + 1, opts.items.length, file);
    }
    const seconds = (performance.now() - t0) / 1000;
    return { files, frames, seconds, framesPerSecond: frames / seconds, renderer };
  } finally {
    await browser.close();
    await app.close();
  }
}
