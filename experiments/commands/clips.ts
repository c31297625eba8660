/**
 * `pbrl clips`: renders segments (or side-by-side pairs, or whole episodes) of a run to mp4/webm,
 * headlessly, from the same three.js scene as the viewer. With --pairs it also writes pairs.json, a
 * video manifest `pbrl label --videos` reads.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportClips, type ClipFormat, type ClipItem } from '../../viewer/clips.js';
import { loadRun, runSegmentSource } from '../../viewer/run-data.js';
import { pairsFilePool } from '../../viewer/pools.js';
import { samplePairs, sampleWindows, segmentId } from '../../viewer/segments.js';
import { intOption } from '../../viewer/cli-options.js';

interface ClipsOpts {
  segments: string;
  out: string;
  format: string;
  ids?: string;
  count?: string;
  pairs?: string;
  sideBySide?: boolean;
  episodes?: boolean;
  length: string;
  seed: string;
  width: string;
  height: string;
  fps: string;
}

/**
 * Written beside side-by-side clips: which segments each pair-k file shows, left and right, and how
 * many frames each has (the shorter holds its last frame until the longer ends).
 */
interface SideBySideManifest {
  format: 'pbrl-side-by-side';
  version: 1;
  source: string;
  width: number;
  height: number;
  fps: number;
  clips: { file: string; left: string; right: string; frames: number; leftFrames: number; rightFrames: number }[];
}

/** File names may not contain the ':' of segment ids on every system. */
const fileName = (id: string) => id.replace(/[^A-Za-z0-9._-]+/g, '_');

export function register(program: Command): void {
  program
    .command('clips')
    .description('export segments, segment pairs or whole episodes of a run as mp4/webm videos (headless chromium + ffmpeg)')
    .requiredOption('--segments <run>', 'run folder or trajectories.pbrl, or a pairs file {"run": ..., "pairs": [[idA, idB], ...]}')
    .requiredOption('--out <dir>', 'folder for the video files')
    .option('--format <fmt>', 'mp4 | webm', 'mp4')
    .option('--ids <list>', 'comma-separated segment ids (task:seed:start:length) to export')
    .option('--count <n>', 'export n random segments')
    .option('--pairs <n>', 'export n random pairs: two clips each plus pairs.json for `pbrl label --videos`')
    .option('--side-by-side', 'with --pairs: one clip per pair, left and right in one frame, plus side-by-side.json naming the segments on each side')
    .option('--episodes', 'export every whole episode')
    .option('--length <H>', 'segment length in steps', '50')
    .option('--seed <n>', 'seed for drawing segments', '0')
    .option('--width <px>', 'width of one view', '640')
    .option('--height <px>', 'height', '480')
    .option('--fps <n>', 'frames per second of the video (80 = real time)', '25')
    .action(async (opts: ClipsOpts) => {
      const format = opts.format as ClipFormat;
      if (format !== 'mp4' && format !== 'webm') throw new Error(`--format must be mp4 or webm, got "${opts.format}"`);
      const pairsFile = /\.json$/i.test(opts.segments) ? pairsFilePool(opts.segments) : null;
      const chosen = [opts.ids, opts.count, opts.pairs, opts.episodes].filter((x) => x !== undefined).length;
      if (pairsFile ? chosen !== 0 : chosen !== 1) {
        throw new Error(pairsFile ? 'a pairs file already says what to export; drop --ids/--count/--pairs/--episodes' : 'choose exactly one of --ids, --count, --pairs, --episodes');
      }
      if (opts.sideBySide && opts.pairs === undefined && !pairsFile) throw new Error('--side-by-side goes with --pairs (or a pairs file)');
      const run = pairsFile ? pairsFile.run : loadRun(opts.segments);
      const source = pairsFile ? pairsFile.source : runSegmentSource(run!);
      // Only the modes without a pairs file read the trajectories.
      const T = run?.trajectories ?? [];
      const length = intOption('length', opts.length, 1);
      const seed = intOption('seed', opts.seed, 0);
      let items: ClipItem[];
      let manifest: { pairs: { a: { file: string; id: string }; b: { file: string; id: string } }[] } | null = null;
      let sideBySide: SideBySideManifest | null = null;
      if (opts.ids !== undefined) {
        const ids = opts.ids.split(',').map((s) => s.trim()).filter(Boolean);
        for (const id of ids) if (!source.get(id)) throw new Error(`--ids: "${id}" is not a segment of ${run?.file} (form task:seed:start:length, inside an episode)`);
        items = ids.map((id) => ({ name: fileName(id), ids: [id] }));
      } else if (opts.count !== undefined) {
        items = sampleWindows(T, { count: intOption('count', opts.count, 1), length, seed }).map((r) => {
          const id = segmentId(T, r);
          return { name: fileName(id), ids: [id] };
        });
      } else if (opts.episodes) {
        items = T.map((t, i) => ({ i, t })).filter(({ t }) => t.poses && t.length > 0).map(({ i, t }) => {
          const id = segmentId(T, { trajectory: i, start: 0, length: t.length });
          return { name: `episode-${i}`, ids: [id] };
        });
      } else {
        const pairs = pairsFile
          ? pairsFile.queries.map((q) => [q.a, q.b!] as const)
          : samplePairs(T, { count: intOption('pairs', opts.pairs, 1), length, seed }).map(([a, b]) => [segmentId(T, a), segmentId(T, b)] as const);
        if (opts.sideBySide) {
          items = pairs.map(([a, b], k) => ({ name: `pair-${k}`, ids: [a, b] }));
          sideBySide = {
            format: 'pbrl-side-by-side',
            version: 1,
            source: run?.file ?? resolve(opts.segments),
            width: intOption('width', opts.width, 64, 1920),
            height: intOption('height', opts.height, 64, 1080),
            fps: intOption('fps', opts.fps, 1, 120),
            clips: pairs.map(([a, b], k) => {
              const fa = source.get(a)!.poses!.data.length / (source.get(a)!.poses!.bodyNames.length * 7);
              const fb = source.get(b)!.poses!.data.length / (source.get(b)!.poses!.bodyNames.length * 7);
              return { file: `pair-${k}.${format}`, left: a, right: b, frames: Math.max(fa, fb), leftFrames: fa, rightFrames: fb };
            }),
          };
        }
        else {
          const unique = [...new Set(pairs.flat())];
          items = unique.map((id) => ({ name: fileName(id), ids: [id] }));
          manifest = { pairs: pairs.map(([a, b]) => ({ a: { file: `${fileName(a)}.${format}`, id: a }, b: { file: `${fileName(b)}.${format}`, id: b } })) };
        }
      }
      const out = resolve(opts.out);
      console.log(`rendering ${items.length} clip(s) of ${run?.name ?? opts.segments} to ${out} as ${format}`);
      const stats = await exportClips({
        source,
        items,
        outDir: out,
        format,
        width: intOption('width', opts.width, 64, 1920),
        height: intOption('height', opts.height, 64, 1080),
        fps: intOption('fps', opts.fps, 1, 120),
        onClip: (done, total, file) => process.stderr.write(`  [${done}/${total}] ${file}\n`),
      });
      if (sideBySide) {
        writeFileSync(join(out, 'side-by-side.json'), JSON.stringify(sideBySide, null, 2) + '\n');
        console.log(`wrote ${join(out, 'side-by-side.json')}: which segment is on which side of each pair-k.${format}`);
      }
      if (manifest) {
        writeFileSync(join(out, 'pairs.json'), JSON.stringify(manifest, null, 2) + '\n');
        console.log(`wrote ${join(out, 'pairs.json')}: label it with \`pbrl label --videos ${join(opts.out, 'pairs.json')}\``);
      }
      console.log(`${stats.files.length} clips, ${stats.frames} frames in ${stats.seconds.toFixed(1)} s (${stats.framesPerSecond.toFixed(1)} frames/s incl. browser start; ${stats.renderer})`);
    });
}
