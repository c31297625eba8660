/**
 * `pbrl label`: the human labeling page. Pairs of segments cut from a run (or single segments to
 * rate, or pairs of video files) are shown to one or more people; every answer is stored in SQLite
 * before the next pair appears, a restart resumes where each person stopped, and labels export to
 * the JSON-lines PreferenceLabel / RatingLabel format the trainers read.
 */
import type { Command } from 'commander';
import { existsSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeBundle } from '../../viewer/export-bundle.js';
import { userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { LabelStore, normalizeTeacher, toJsonLines } from '../../viewer/label-store.js';
import { loadRun, runSegmentSource, resolveRunFile } from '../../viewer/run-data.js';
import { pairsFilePool, segmentPool, videoPool } from '../../viewer/pools.js';
import { buildServer, isLoopback, listen, reachableUrls } from '../../viewer/server.js';
import { intOption } from '../../viewer/cli-options.js';
import { waitForSignal } from './view.js';

interface LabelOpts {
  segments?: string;
  videos?: string;
  teacherName?: string;
  db?: string;
  pool?: string;
  pairs: string;
  length: string;
  seed: string;
  rating?: string;
  labelsPerPair?: string;
  instructions?: string;
  export?: string;
  host: string;
  port: string;
  leaseSeconds: string;
  ratingLevels?: string;
  dropSimilar?: string;
  bundle?: string;
  token?: string;
}

/** Export mode reads an existing database and pool only: a typo must not create an empty one. */
function openForExport(db: string, pool: string | undefined): LabelStore {
  if (!existsSync(db)) throw new Error(`--db ${db}: no such label database (nothing was created; check the path)`);
  const store = LabelStore.openExisting(db);
  if (pool !== undefined && !store.pool(pool)) {
    const names = store.pools().map((p) => p.name);
    store.close();
    throw new Error(`--pool ${pool}: no such pool in ${db}; it has ${names.length ? names.map((n) => `"${n}"`).join(', ') : 'no pools'}`);
  }
  return store;
}

function writeExport(store: LabelStore, file: string, pool?: string): number {
  const labels = [...store.preferences(pool), ...store.ratings(pool)];
  mkdirSync(dirname(resolve(file)), { recursive: true });
  // Write-then-rename: a reader (or a crash) never sees a half-written file.
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, toJsonLines(labels));
  renameSync(tmp, file);
  return labels.length;
}

export function register(program: Command): void {
  program
    .command('label')
    .description('label segment pairs (or rate segments, or compare videos) in a browser page; labels persist in SQLite')
    .option('--segments <run>', 'run folder or trajectories.pbrl to cut random pairs from, or a pairs file {"run": ..., "pairs": [[idA, idB], ...]}')
    .option('--videos <manifest>', 'JSON manifest of video pairs: {"pairs": [{"a": "x.mp4", "b": "y.mp4"}]}')
    .option('--teacher-name <name>', 'your name, recorded with every label (others open the page with ?teacher=<name>)')
    .option('--db <file>', 'SQLite label database (default: labels.sqlite beside the run / manifest)')
    .option('--pool <name>', 'name of the label pool inside the database (default derived from the options)')
    .option('--pairs <n>', 'number of pairs (segments in rating mode) to draw', '20')
    .option('--length <H>', 'segment length in steps', '50')
    .option('--seed <n>', 'seed for drawing the pairs', '0')
    .option('--rating <k>', 'rating mode: rate single segments into k classes (2-10)')
    .option('--labels-per-pair <k>', 'retire a pair once k different people answered it (default: everyone labels every pair)')
    .option('--instructions <text>', 'question shown above each pair (default: the task and question from the task registry, per pair)')
    .option('--export <file.jsonl>', 'write the labels as JSON lines (refreshed after every answer); without --segments/--videos: export from --db and exit')
    .option('--drop-similar <mm>', 'random pairs: turn down pairs whose segments differ by less than this many millimetres (mean over frames of the largest body distance); without it such pairs are only flagged on the page (below 5 mm)')
    .option('--bundle <dir>', 'export and exit: every answer in --db (or --pool) with its segments\' observations and actions, labeller, time and answer, as preferences/ratings .jsonl and .npz plus meta.json; segments come from each pool\'s own run or pairs file, or --segments')
    .option('--rating-levels <names>', 'rating mode: what each level means, lowest first, comma-separated (e.g. "failed,partly,done"); shown on the page and exported as "level"')
    .option('--lease-seconds <s>', 'with --labels-per-pair: how long a pair handed to one person is held for them before others may get it', '600')
    .option('--host <addr>', 'address to listen on; anything but loopback (e.g. 0.0.0.0) requires an access token, printed once in the URL', '127.0.0.1')
    .option('--token <secret>', 'access token for a non-loopback --host (default: a random one); at least 16 characters')
    .option('--port <n>', 'port (0 = any free port)', '8781')
    .addHelpText(
      'after',
      `
On the page: 1/← left better, 2/→ right better, 3/↑/↓ equal, 4/b both bad, 5/c can't tell,
space skip, u undo; l/m/h confidence for the next answer; rating mode 1..k. Each clip has pause,
restart, frame step and a scrub bar; the shorter clip holds its end until the longer one ends.
"Your answers" lists past answers with "change". /progress shows each labeller's counts and the
agreement between labellers. Every answer is in SQLite before the next pair shows.

Examples:
  pbrl label --segments runs/push --teacher-name alice
  pbrl label --segments runs/push --labels-per-pair 1 --drop-similar 5
  pbrl label --segments runs/push --rating 3 --rating-levels "failed,partly,done"
  pbrl label --db runs/push/labels.sqlite --export labels.jsonl
  pbrl label --db runs/push/labels.sqlite --bundle export/`,
    )
    .action(async (opts: LabelOpts) => {
      if (opts.bundle !== undefined) {
        if (!opts.db) throw new Error('--bundle exports from a label database: give --db <file>');
        if (opts.videos) throw new Error('--bundle reads observations from --segments <run | pairs file> (or each pool\'s own run), not from --videos');
        const store = openForExport(opts.db, opts.pool);
        try {
          const source = opts.segments ? (/\.json$/i.test(opts.segments) ? pairsFilePool(opts.segments).source : runSegmentSource(loadRun(opts.segments))) : undefined;
          const pools = opts.pool ? [opts.pool] : store.pools().map((p) => p.name);
          const r = writeBundle({ store, pools, outDir: opts.bundle, ...(source ? { source } : {}) });
          console.log(`wrote ${r.preferences} pair and ${r.ratings} rating answers with observations and actions to ${opts.bundle}: ${r.files.map((f) => basename(f)).join(', ')}`);
          if (opts.export) console.log(`wrote ${writeExport(store, opts.export, opts.pool)} labels to ${opts.export}`);
        } finally {
          store.close();
        }
        return;
      }
      if (opts.segments && opts.videos) throw new Error('give either --segments or --videos, not both');
      if (!opts.segments && !opts.videos) {
        if (!opts.export || !opts.db) throw new Error('give --segments <run> or --videos <manifest> to label, or --db <file> --export <file.jsonl> to export');
        const store = openForExport(opts.db, opts.pool);
        try {
          const n = writeExport(store, opts.export, opts.pool);
          console.log(`wrote ${n} labels to ${opts.export}`);
        } finally {
          store.close();
        }
        return;
      }
      const port = intOption('port', opts.port, 0, 65535);
      const labelsPerQuery = opts.labelsPerPair === undefined ? undefined : intOption('labels-per-pair', opts.labelsPerPair, 1, 1000);
      const teacher = normalizeTeacher(opts.teacherName ?? process.env.USER ?? userInfo().username);
      const leaseMs = intOption('lease-seconds', opts.leaseSeconds, 1, 86_400) * 1000;
      const ratingClasses = opts.rating !== undefined ? intOption('rating', opts.rating, 2, 10) : undefined;
      let levelNames: string[] | undefined;
      if (opts.ratingLevels !== undefined) {
        if (ratingClasses === undefined) throw new Error('--rating-levels goes with --rating <k>');
        levelNames = opts.ratingLevels.split(',').map((n) => n.trim());
        if (levelNames.length !== ratingClasses || levelNames.some((n) => n === '')) {
          throw new Error(`--rating-levels: give ${ratingClasses} non-empty names (one per level, lowest first), got ${levelNames.length}: "${opts.ratingLevels}"`);
        }
      }
      let dropSimilar: number | undefined;
      if (opts.dropSimilar !== undefined) {
        const mm = Number(opts.dropSimilar);
        if (opts.dropSimilar.trim() === '' || !Number.isFinite(mm) || mm <= 0 || mm > 1000) throw new Error(`--drop-similar must be a number of millimetres in (0, 1000], got "${opts.dropSimilar}"`);
        if (ratingClasses !== undefined || !opts.segments || /\.json$/i.test(opts.segments)) throw new Error('--drop-similar applies to random pairs drawn from a run (--segments <run> without --rating)');
        dropSimilar = mm / 1000;
      }
      const loopback = isLoopback(opts.host);
      if (opts.token !== undefined && opts.token.length < 16) throw new Error('--token must be at least 16 characters');
      const accessToken = loopback ? opts.token : (opts.token ?? randomBytes(16).toString('hex'));
      let built;
      let segments;
      let dbDefault: string;
      if (opts.segments && /\.json$/i.test(opts.segments)) {
        const f = pairsFilePool(opts.segments, {
          ...(ratingClasses !== undefined ? { ratingClasses } : {}),
          ...(labelsPerQuery !== undefined ? { labelsPerQuery } : {}),
          ...(opts.pool ? { name: opts.pool } : {}),
        });
        built = f;
        segments = f.source;
        dbDefault = join(dirname(resolve(opts.segments)), 'labels.sqlite');
      } else if (opts.segments) {
        const run = loadRun(opts.segments);
        built = segmentPool(run, {
          count: intOption('pairs', opts.pairs, 1, 100_000),
          length: intOption('length', opts.length, 1, 100_000),
          seed: intOption('seed', opts.seed, 0),
          ...(ratingClasses !== undefined ? { ratingClasses } : {}),
          ...(labelsPerQuery !== undefined ? { labelsPerQuery } : {}),
          ...(opts.pool ? { name: opts.pool } : {}),
          ...(dropSimilar !== undefined ? { dropSimilar } : {}),
        });
        segments = runSegmentSource(run);
        dbDefault = join(dirname(resolveRunFile(opts.segments)), 'labels.sqlite');
      } else {
        if (opts.rating !== undefined) throw new Error('--rating works with --segments only');
        built = videoPool(opts.videos!, { ...(labelsPerQuery !== undefined ? { labelsPerQuery } : {}), ...(opts.pool ? { name: opts.pool } : {}) });
        dbDefault = join(dirname(resolve(opts.videos!)), 'labels.sqlite');
      }
      const store = new LabelStore(opts.db ?? dbDefault, { leaseMs });
      const pool = store.ensurePool({ ...built.pool, ...(levelNames ? { levelNames } : {}) }, built.queries);
      const exportFile = opts.export;
      const app = await buildServer({
        labeling: {
          store,
          pools: () => [pool.name],
          ...(segments ? { segments } : {}),
          defaultTeacher: teacher,
          ...(opts.instructions ? { instructions: opts.instructions } : {}),
          ...(exportFile ? { onAnswer: () => void writeExport(store, exportFile, pool.name) } : {}),
        },
        ...(accessToken ? { accessToken } : {}),
      });
      const url = await listen(app, { host: opts.host, port }).catch((e: NodeJS.ErrnoException) => {
        store.close();
        throw e.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; pick another with --port (0 = any free port)`) : e;
      });
      const p = store.progress(pool.name, teacher);
      console.log(`label pool "${pool.name}" in ${store.path}: ${p.total} ${pool.kind === 'rating' ? `segments to rate (${pool.classes} classes)` : 'pairs'}, ${teacher} has done ${p.done}`);
      const path = `/label?teacher=${encodeURIComponent(teacher)}${accessToken ? `&token=${accessToken}` : ''}`;
      if (loopback) {
        console.log(`open ${url}${path}   (others: same URL with their own ?teacher=<name>)`);
      } else {
        const port = Number(new URL(url).port);
        const urls = reachableUrls(opts.host, port);
        console.log(`WARNING: listening on ${opts.host}: anyone who can reach this machine can open the page. It has no login;`);
        console.log('the access token below is the only guard. Share the URL only with the people labelling, over a trusted channel.');
        for (const u of urls.length ? urls : [url]) console.log(`open ${u}${path}`);
        console.log('(others: same URL with their own teacher=<name>; the token is printed only here)');
      }
      console.log('Ctrl-C to stop; every answer is already saved');
      await waitForSignal();
      await app.close();
      if (exportFile) console.log(`wrote ${writeExport(store, exportFile, pool.name)} labels to ${exportFile}`);
      store.close();
    });
}
