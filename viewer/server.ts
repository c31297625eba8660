/**
 * The viewer's HTTP server (fastify): static pages, three.js from node_modules (machines here have
 * no internet, so no CDN), replay data of a run, segment data, and the labeling API backed by a
 * LabelStore. Every route has a JSON schema; a malformed or out-of-range request gets a 4xx with a
 * message saying what was wrong, and the server keeps serving.
 */
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import fastifyStatic from '@fastify/static';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { episodePayload, segmentPayload, type RunData, type SegmentSource } from './run-data.js';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { timingSafeEqual } from 'node:crypto';
import { LabelConflictError, normalizeTeacher, toJsonLines, type AnswerRow, type LabelStore, type QueryRow } from './label-store.js';
import { cameraFor, taskOfId, taskQuestion } from './task-presets.js';
import { poseDifference, SIMILAR_METRES } from './similarity.js';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
const THREE_DIR = dirname(dirname(createRequire(import.meta.url).resolve('three')));

export interface LabelingOptions {
  store: LabelStore;
  /** Pools the page offers, in order; a function so live mode can add pools while serving. */
  pools: () => string[];
  /** Where segment ids are looked up (absent for video-only labeling). */
  segments?: SegmentSource;
  /** Teacher name the printed URL carries; others add ?teacher=<name> themselves. */
  defaultTeacher?: string;
  /** Live mode: an empty queue means "wait for the trainer", not "finished". */
  live?: boolean;
  /** Called after each answer is committed (live mode resolves its waiters from here). */
  onAnswer?: (row: AnswerRow) => void;
  /** Free text shown above the pair (e.g. "Which arm gets closer to the red goal?"). */
  instructions?: string;
}

export interface ViewerServerOptions {
  run?: RunData;
  labeling?: LabelingOptions;
  /** Extra segment source for /api/segments when not labeling (clip export). */
  segments?: SegmentSource;
  logger?: boolean;
  /**
   * Required on every page and API request when set (servers reachable off loopback): as
   * ?token=..., header x-pbrl-token, or the cookie the first page load with ?token sets.
   */
  accessToken?: string;
}

/** Which side a pair's `a` goes on is fixed per (query, person), so position bias averages out across people and a reload shows the same layout. */
export function isSwapped(query: number, teacher: string): boolean {
  let h = 0x811c9dc5;
  for (const c of `${query}|${teacher}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return (h & 1) === 1;
}

// Names are trimmed before use (normalizeTeacher), so "m " and "m" are one labeller; this only
// refuses what cannot be a name.
const teacherSchema = { type: 'string', minLength: 1, maxLength: 120, pattern: '\\S' } as const;
// Type coercion is off (see buildServer), so ids in the URL are matched as digit strings.
const idParam = { type: 'string', pattern: '^[0-9]{1,12}$' } as const;

const TOKEN_COOKIE = 'pbrl_token';
function tokenMatches(given: unknown, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export async function buildServer(opts: ViewerServerOptions): Promise<FastifyInstance> {
  // removeAdditional off: an unknown field is an error the client should hear about, not silently dropped.
  // coerceTypes off: fastify's default turns "query": true into 1, "1" into 1, [3] into 3 and null
  // into 0 (the lowest rating, although null means skip). A wrong type is refused instead.
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
  if (opts.accessToken !== undefined) {
    const token = opts.accessToken;
    if (token.length < 16) throw new Error('accessToken must be at least 16 characters');
    app.addHook('onRequest', async (req, reply) => {
      const path = req.url.split('?')[0];
      // Page code and three.js are public; data and answers are not.
      if (path.startsWith('/static/') || path.startsWith('/vendor/') || path === '/favicon.ico') return;
      const fromQuery = (req.query as Record<string, unknown> | undefined)?.token;
      if (tokenMatches(fromQuery, token)) {
        reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);
        return;
      }
      if (tokenMatches(req.headers['x-pbrl-token'], token) || tokenMatches(cookieValue(req.headers.cookie, TOKEN_COOKIE), token)) return;
      return reply.status(401).send({ error: 'this server needs its access token: open the URL it printed at start (it carries ?token=...)' });
    });
  }
  const { run, labeling } = opts;
  const segments = labeling?.segments ?? opts.segments;

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err instanceof LabelConflictError) return reply.status(err.status).send({ error: err.message });
    if (err.validation) {
      // Name the allowed values too, so "must be equal to one of the allowed values" is actionable.
      const allowed = err.validation.map((v) => (v.params as { allowedValues?: unknown[] }).allowedValues).find(Boolean);
      return reply.status(400).send({ error: `bad request: ${err.message}${allowed ? ` (${allowed.join(', ')})` : ''}` });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) app.log.error(err);
    return reply.status(status).send({ error: err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  await app.register(fastifyStatic, { root: STATIC_DIR, prefix: '/static/' });
  await app.register(fastifyStatic, { root: join(THREE_DIR, 'build'), prefix: '/vendor/three/', decorateReply: false });
  await app.register(fastifyStatic, { root: join(THREE_DIR, 'examples', 'jsm'), prefix: '/vendor/three-addons/', decorateReply: false });

  app.get('/', (_req, reply) => (run ? reply.sendFile('viewer.html') : reply.redirect('/label')));
  app.get('/label', (_req, reply) => (labeling ? reply.sendFile('label.html') : reply.status(404).send({ error: 'this server was not started for labeling (use `pbrl label`)' })));
  app.get('/favicon.ico', (_req, reply) => reply.status(204).send());
  app.get('/render', (_req, reply) => reply.sendFile('render.html'));

  app.get('/api/info', async () => ({
    run: run ? { name: run.name, episodes: run.trajectories.length } : null,
    labeling: labeling ? { defaultTeacher: labeling.defaultTeacher ?? null, live: Boolean(labeling.live), instructions: labeling.instructions ?? null } : null,
  }));

  const needRun = (): RunData => {
    if (!run) throw new LabelConflictError('this server has no run loaded (use `pbrl view <run>`)', 404);
    return run;
  };

  app.get('/api/episodes', async () => {
    const r = needRun();
    return {
      run: r.name,
      episodes: r.trajectories.map((t, index) => {
        let ret = 0;
        for (const x of t.rewards) ret += x;
        return { index, task: t.task, seed: t.seed, length: t.length, return: Math.round(ret * 100) / 100, success: t.success.some((s) => s === 1), poses: Boolean(t.poses) };
      }),
    };
  });

  app.get<{ Params: { index: string } }>(
    '/api/episodes/:index',
    { schema: { params: { type: 'object', properties: { index: idParam }, required: ['index'] } } },
    async (req) => {
      const r = needRun();
      const i = Number(req.params.index);
      if (i >= r.trajectories.length) throw new LabelConflictError(`episode ${i} does not exist: the run has episodes 0..${r.trajectories.length - 1}`, 404);
      try {
        return { ...episodePayload(r, i), camera: cameraFor(r.trajectories[i].task) };
      } catch (e) {
        throw new LabelConflictError((e as Error).message, 404);
      }
    },
  );

  app.get<{ Params: { task: string } }>(
    '/api/geometry/:task',
    { schema: { params: { type: 'object', properties: { task: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['task'] } } },
    async (req) => {
      const g = run?.geometry[req.params.task] ?? segments?.geometry(req.params.task);
      if (!g) throw new LabelConflictError(`no scene geometry for task "${req.params.task}"`, 404);
      return g;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/segments/:id',
    { schema: { params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['id'] } } },
    async (req) => {
      const seg = segments?.get(req.params.id);
      if (!seg) throw new LabelConflictError(`no segment "${req.params.id}"`, 404);
      try {
        // The task's camera preset travels with the segment, so the page and clip export agree.
        return { ...segmentPayload(seg), camera: cameraFor(seg.task) };
      } catch (e) {
        throw new LabelConflictError((e as Error).message, 404);
      }
    },
  );

  if (labeling) registerLabelRoutes(app, labeling);
  return app;
}

/** What a stored answer was, in the words of the page that showed it to `teacher`. */
function describeAnswer(row: AnswerRow, swapped: boolean, levelNames: string[] | null): string {
  let what: string;
  if (row.skipped) what = 'skipped';
  else if (row.verdict === 'both-bad') what = 'both bad';
  else if (row.verdict === 'cant-tell') what = "can't tell";
  else if (row.rating !== null) what = `rating ${row.rating + 1}${levelNames ? ` (${levelNames[row.rating]})` : ''}`;
  else if (row.label === 0.5) what = 'equal';
  else what = (row.label === 1) !== swapped ? 'left better' : 'right better';
  return row.confidence ? `${what}, ${row.confidence} confidence` : what;
}

function registerLabelRoutes(app: FastifyInstance, L: LabelingOptions): void {
  const { store } = L;

  /** The page's view of a query: segment ids / media URLs placed left and right for this person. */
  const describe = (q: QueryRow, teacher: string) => {
    const swap = q.b !== null && isSwapped(q.id, teacher);
    const side = (which: 'a' | 'b') => {
      const id = which === 'a' ? q.a : q.b!;
      const media = which === 'a' ? q.mediaA : q.mediaB;
      return { id, media: media ? `/api/media/${q.id}/${which}` : null };
    };
    const task = taskOfId(q.a) ?? (q.b ? taskOfId(q.b) : null);
    const question = taskQuestion(task, q.b === null ? 'rating' : 'pair');
    const common = { id: q.id, task, question, similar: similarity(q) };
    if (q.b === null) return { ...common, segment: side('a') };
    return { ...common, left: side(swap ? 'b' : 'a'), right: side(swap ? 'a' : 'b') };
  };

  // Pose difference per pair query, worked out once (segments do not change under a pool).
  const differences = new Map<number, number | null>();
  const similarity = (q: QueryRow): { metres: number } | null => {
    if (q.b === null || !L.segments) return null;
    if (!differences.has(q.id)) {
      const a = L.segments.get(q.a)?.poses;
      const b = L.segments.get(q.b)?.poses;
      differences.set(q.id, a && b ? poseDifference(a, b) : null);
    }
    const d = differences.get(q.id)!;
    return d !== null && d < SIMILAR_METRES ? { metres: d } : null;
  };

  const exportCommand = (pool: string | null) =>
    `pbrl label --db ${shellQuote(store.path)}${pool ? ` --pool ${shellQuote(pool)}` : ''} --export labels.jsonl`;

  const nextFor = (teacher: string) => {
    const pools = L.pools();
    const q = store.next(pools, teacher);
    const poolName = q?.pool ?? pools[pools.length - 1];
    const pool = poolName ? store.pool(poolName) : undefined;
    return {
      teacher,
      pool: pool?.name ?? null,
      kind: pool?.kind ?? null,
      classes: pool?.classes ?? null,
      levelNames: pool?.levelNames ?? null,
      progress: pool ? store.progress(pool.name, teacher) : { done: 0, total: 0 },
      query: q ? describe(q, teacher) : null,
      // Live mode: nothing to do *yet*; the page polls until the trainer asks again.
      waiting: !q && Boolean(L.live),
      exportCommand: exportCommand(pool?.name ?? null),
    };
  };

  app.get<{ Querystring: { teacher: string } }>(
    '/api/label/next',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { teacher: teacherSchema, token: { type: 'string' } }, required: ['teacher'] } } },
    async (req) => nextFor(normalizeTeacher(req.query.teacher)),
  );

  interface AnswerBody {
    teacher: string;
    query: number;
    choice?: 'left' | 'right' | 'equal' | 'skip' | 'both-bad' | 'cant-tell';
    rating?: number | null;
    confidence?: 'low' | 'medium' | 'high';
    durationMs?: number;
  }
  app.post<{ Body: AnswerBody }>(
    '/api/label/answer',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['teacher', 'query'],
          properties: {
            teacher: teacherSchema,
            query: { type: 'integer', minimum: 1 },
            choice: { type: 'string', enum: ['left', 'right', 'equal', 'skip', 'both-bad', 'cant-tell'] },
            rating: { anyOf: [{ type: 'integer', minimum: 0, maximum: 9 }, { type: 'null' }] },
            confidence: { type: 'string', enum: ['low', 'medium', 'high'] },
            durationMs: { type: 'number', minimum: 0, maximum: 86_400_000 },
          },
        },
      },
    },
    async (req) => {
      const { query, choice, rating, confidence, durationMs } = req.body;
      const teacher = normalizeTeacher(req.body.teacher);
      const q = store.query(query);
      if (!q || !L.pools().includes(q.pool)) throw new LabelConflictError(`query ${query} is not in the pool being labeled`, 404);
      const extra = { ...(durationMs !== undefined ? { durationMs } : {}) };
      let stored: AnswerRow;
      if (q.b !== null) {
        if (choice === undefined) throw new LabelConflictError('a pair answer needs "choice": left | right | equal | skip | both-bad | cant-tell', 400);
        if (rating !== undefined) throw new LabelConflictError(`query ${query} is a pair: answer with "choice", not "rating"`, 400);
        const swap = isSwapped(q.id, teacher);
        const mapped = choice === 'left' ? (swap ? 'b' : 'a') : choice === 'right' ? (swap ? 'a' : 'b') : choice;
        stored = store.answer({ query, teacher, answer: { kind: 'pair', choice: mapped, ...(confidence ? { confidence } : {}) }, ...extra });
      } else {
        if (choice !== undefined && choice !== 'skip') throw new LabelConflictError(`query ${query} is a rating: answer with "rating" (0..k-1), or choice "skip"`, 400);
        if (choice === 'skip' && rating !== undefined && rating !== null) throw new LabelConflictError('give either a rating or choice "skip", not both', 400);
        if (rating === undefined && choice !== 'skip') throw new LabelConflictError('a rating answer needs "rating" (0..k-1, or null / choice "skip" to skip)', 400);
        stored = store.answer({ query, teacher, answer: { kind: 'rating', rating: rating ?? null, ...(confidence ? { confidence } : {}) }, ...extra });
      }
      // Committed above (synchronously) before this reply lets the page move on.
      L.onAnswer?.(stored);
      return { stored, next: nextFor(teacher) };
    },
  );

  app.post<{ Body: { teacher: string; query?: number } }>(
    '/api/label/undo',
    {
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['teacher'], properties: { teacher: teacherSchema, query: { type: 'integer', minimum: 1 } } },
      },
    },
    async (req) => {
      const teacher = normalizeTeacher(req.body.teacher);
      const { query } = req.body;
      if (query !== undefined) {
        const q = store.query(query);
        if (!q || !L.pools().includes(q.pool)) throw new LabelConflictError(`query ${query} is not in the pool being labeled`, 404);
      }
      const undone = store.undo(L.pools(), teacher, query);
      if (query !== undefined && !undone) throw new LabelConflictError(`${teacher} has no answer to query ${query} to change`, 404);
      const next = nextFor(teacher);
      // Show the undone query again right away, even if an earlier one is still open.
      if (undone) next.query = describe(undone.query, teacher);
      const pool = undone ? store.pool(undone.query.pool) : undefined;
      return {
        undone: undone ? undone.query.id : null,
        previous: undone ? describeAnswer(undone.previous, isSwapped(undone.query.id, teacher), pool?.levelNames ?? null) : null,
        next,
      };
    },
  );

  app.get<{ Querystring: { teacher: string } }>(
    '/api/label/history',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { teacher: teacherSchema, token: { type: 'string' } }, required: ['teacher'] } } },
    async (req) => {
      const teacher = normalizeTeacher(req.query.teacher);
      const levels = new Map(store.pools().map((p) => [p.name, p.levelNames]));
      return {
        teacher,
        answers: store.history(L.pools(), teacher).map((r) => ({
          query: r.query,
          pool: r.pool,
          time: r.time,
          answer: describeAnswer(r, r.b !== null && isSwapped(r.query, teacher), levels.get(r.pool) ?? null),
        })),
      };
    },
  );

  app.get('/api/label/progress', async () => ({
    pools: L.pools().map((p) => store.stats(p)),
  }));
  app.get('/progress', (_req, reply) => reply.sendFile('progress.html'));

  app.get<{ Querystring: { pool?: string } }>(
    '/api/label/export',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { pool: { type: 'string', minLength: 1, maxLength: 200 }, token: { type: 'string' } } } } },
    async (req, reply) => {
      const pool = req.query.pool;
      if (pool !== undefined && !store.pool(pool)) throw new LabelConflictError(`no label pool named "${pool}"`, 404);
      const lines = toJsonLines([...store.preferences(pool), ...store.ratings(pool)]);
      return reply.type('application/x-ndjson').send(lines);
    },
  );

  app.get<{ Params: { query: string; side: 'a' | 'b' } }>(
    '/api/media/:query/:side',
    {
      schema: {
        params: { type: 'object', properties: { query: idParam, side: { type: 'string', enum: ['a', 'b'] } }, required: ['query', 'side'] },
      },
    },
    async (req, reply) => {
      // Only files named in a stored query are served: the URL never carries a path.
      const id = Number(req.params.query);
      const q = store.query(id);
      const file = q ? (req.params.side === 'a' ? q.mediaA : q.mediaB) : null;
      if (!q || !file || !L.pools().includes(q.pool)) throw new LabelConflictError(`no video for query ${id} side ${req.params.side}`, 404);
      if (!existsSync(file)) throw new LabelConflictError(`video file ${file} (query ${id}, side ${req.params.side}) is missing: it was moved or deleted after the pool was made`, 404);
      return reply.sendFile(basename(file), dirname(file));
    },
  );
}

/** Quotes a word for a copy-pasted shell command (only when needed). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Whether an address only takes connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * The URLs people on other machines can use for a server bound to `host`: every non-internal
 * address of this machine for a wildcard bind, else the host itself.
 */
export function reachableUrls(host: string, port: number): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [`http://${host.includes(':') ? `[${host}]` : host}:${port}`];
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (host === '0.0.0.0' && a.family !== 'IPv4')) continue;
      out.push(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${port}`);
    }
  }
  return out;
}

/** Starts listening (127.0.0.1 unless told otherwise) and returns the base URL. */
export async function listen(app: FastifyInstance, opts: { host?: string; port?: number } = {}): Promise<string> {
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('server did not report a TCP address');
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${addr.port}`;
}
