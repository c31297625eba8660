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
import { LabelConflictError, toJsonLines, type AnswerRow, type LabelStore, type QueryRow } from './label-store.js';

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
}

/** Which side a pair's `a` goes on is fixed per (query, person), so position bias averages out across people and a reload shows the same layout. */
export function isSwapped(query: number, teacher: string): boolean {
  let h = 0x811c9dc5;
  for (const c of `${query}|${teacher}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return (h & 1) === 1;
}

const teacherSchema = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^\\s].*$' } as const;

export async function buildServer(opts: ViewerServerOptions): Promise<FastifyInstance> {
  // removeAdditional off: an unknown field is an error the client should hear about, not silently dropped.
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20, ajv: { customOptions: { removeAdditional: false } } });
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

  app.get<{ Params: { index: number } }>(
    '/api/episodes/:index',
    { schema: { params: { type: 'object', properties: { index: { type: 'integer', minimum: 0 } }, required: ['index'] } } },
    async (req) => {
      const r = needRun();
      const i = req.params.index;
      if (i >= r.trajectories.length) throw new LabelConflictError(`episode ${i} does not exist: the run has episodes 0..${r.trajectories.length - 1}`, 404);
      try {
        return episodePayload(r, i);
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
        return segmentPayload(seg);
      } catch (e) {
        throw new LabelConflictError((e as Error).message, 404);
      }
    },
  );

  if (labeling) registerLabelRoutes(app, labeling);
  return app;
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
    if (q.b === null) return { id: q.id, segment: side('a') };
    return { id: q.id, left: side(swap ? 'b' : 'a'), right: side(swap ? 'a' : 'b') };
  };

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
      progress: pool ? store.progress(pool.name, teacher) : { done: 0, total: 0 },
      query: q ? describe(q, teacher) : null,
      // Live mode: nothing to do *yet*; the page polls until the trainer asks again.
      waiting: !q && Boolean(L.live),
    };
  };

  app.get<{ Querystring: { teacher: string } }>(
    '/api/label/next',
    { schema: { querystring: { type: 'object', properties: { teacher: teacherSchema }, required: ['teacher'] } } },
    async (req) => nextFor(req.query.teacher),
  );

  interface AnswerBody {
    teacher: string;
    query: number;
    choice?: 'left' | 'right' | 'equal' | 'skip';
    rating?: number | null;
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
            choice: { type: 'string', enum: ['left', 'right', 'equal', 'skip'] },
            rating: { anyOf: [{ type: 'integer', minimum: 0, maximum: 9 }, { type: 'null' }] },
            durationMs: { type: 'number', minimum: 0, maximum: 86_400_000 },
          },
        },
      },
    },
    async (req) => {
      const { teacher, query, choice, rating, durationMs } = req.body;
      const q = store.query(query);
      if (!q || !L.pools().includes(q.pool)) throw new LabelConflictError(`query ${query} is not in the pool being labeled`, 404);
      let stored: AnswerRow;
      if (q.b !== null) {
        if (choice === undefined) throw new LabelConflictError('a pair answer needs "choice": left | right | equal | skip', 400);
        const swap = isSwapped(q.id, teacher);
        const mapped = choice === 'left' ? (swap ? 'b' : 'a') : choice === 'right' ? (swap ? 'a' : 'b') : choice;
        stored = store.answer({ query, teacher, answer: { kind: 'pair', choice: mapped }, ...(durationMs !== undefined ? { durationMs } : {}) });
      } else {
        if (rating === undefined && choice !== 'skip') throw new LabelConflictError('a rating answer needs "rating" (0..k-1, or null / choice "skip" to skip)', 400);
        stored = store.answer({ query, teacher, answer: { kind: 'rating', rating: rating ?? null }, ...(durationMs !== undefined ? { durationMs } : {}) });
      }
      // Committed above (synchronously) before this reply lets the page move on.
      L.onAnswer?.(stored);
      return { stored, next: nextFor(teacher) };
    },
  );

  app.post<{ Body: { teacher: string } }>(
    '/api/label/undo',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['teacher'], properties: { teacher: teacherSchema } } } },
    async (req) => {
      const undone = store.undo(L.pools(), req.body.teacher);
      const next = nextFor(req.body.teacher);
      // Show the undone query again right away, even if an earlier one is still open.
      if (undone) next.query = describe(undone, req.body.teacher);
      return { undone: undone ? undone.id : null, next };
    },
  );

  app.get<{ Querystring: { pool?: string } }>(
    '/api/label/export',
    { schema: { querystring: { type: 'object', properties: { pool: { type: 'string', minLength: 1, maxLength: 200 } } } } },
    async (req, reply) => {
      const pool = req.query.pool;
      if (pool !== undefined && !store.pool(pool)) throw new LabelConflictError(`no label pool named "${pool}"`, 404);
      const lines = toJsonLines([...store.preferences(pool), ...store.ratings(pool)]);
      return reply.type('application/x-ndjson').send(lines);
    },
  );

  app.get<{ Params: { query: number; side: 'a' | 'b' } }>(
    '/api/media/:query/:side',
    {
      schema: {
        params: { type: 'object', properties: { query: { type: 'integer', minimum: 1 }, side: { type: 'string', enum: ['a', 'b'] } }, required: ['query', 'side'] },
      },
    },
    async (req, reply) => {
      // Only files named in a stored query are served: the URL never carries a path.
      const q = store.query(req.params.query);
      const file = q ? (req.params.side === 'a' ? q.mediaA : q.mediaB) : null;
      if (!q || !file || !L.pools().includes(q.pool)) throw new LabelConflictError(`no video for query ${req.params.query} side ${req.params.side}`, 404);
      return reply.sendFile(basename(file), dirname(file));
    },
  );
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
