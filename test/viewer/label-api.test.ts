// The labeling API's contract beyond the basics in server.test.ts: no type coercion, one name per
// labeller, leases for concurrent labellers, the answer kinds beyond left/right/equal, review and
// edit, progress with agreement, missing video files, and the access token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, isSwapped } from '../../viewer/server.js';
import { loadRun, runSegmentSource, type RunData } from '../../viewer/run-data.js';
import { LabelStore } from '../../viewer/label-store.js';
import { segmentPool, videoPool } from '../../viewer/pools.js';
import { makeRun, tempDir } from './fixture.js';
import { startLabelServer } from '../../viewer/live.js';
import { poseDifference, SIMILAR_METRES } from '../../viewer/similarity.js';
import { samplePairs, segmentId } from '../../viewer/segments.js';

let dir: string;
let run: RunData;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  dir = tempDir('viewer-label-api');
  run = loadRun(await makeRun(dir, 3, 60));
});
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function setup(name: string, o: { labelsPerQuery?: number; rating?: number; levelNames?: string[]; accessToken?: string } = {}) {
  const store = new LabelStore(join(dir, `${name}.sqlite`));
  const built = segmentPool(run, { count: 4, length: 20, seed: 3, ...(o.rating ? { ratingClasses: o.rating } : {}), ...(o.labelsPerQuery ? { labelsPerQuery: o.labelsPerQuery } : {}) });
  const pool = store.ensurePool({ ...built.pool, ...(o.levelNames ? { levelNames: o.levelNames } : {}) }, built.queries);
  const app = await buildServer({ labeling: { store, pools: () => [pool.name], segments: runSegmentSource(run) }, ...(o.accessToken ? { accessToken: o.accessToken } : {}) });
  closers.push(() => store.close(), () => app.close());
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  return { store, app, pool, post, get };
}

describe('answer validation', () => {
  it('refuses wrong types instead of coercing them, and null rating means skip', async () => {
    const { store, pool, post } = await setup('strict');
    const pairQ = store.queries(pool.name)[0].id;
    const cases: [string, unknown][] = [
      ['query true', { teacher: 'm', query: true, choice: 'left' }],
      ['query "1"', { teacher: 'm', query: String(pairQ), choice: 'left' }],
      ['query [id]', { teacher: 'm', query: [pairQ], choice: 'left' }],
      ['query 1.5', { teacher: 'm', query: 1.5, choice: 'left' }],
      ['choice ["skip"]', { teacher: 'm', query: pairQ, choice: ['skip'] }],
      ['teacher 123', { teacher: 123, query: pairQ, choice: 'left' }],
      ['teacher whitespace', { teacher: '   ', query: pairQ, choice: 'left' }],
      ['durationMs "5"', { teacher: 'm', query: pairQ, choice: 'left', durationMs: '5' }],
      ['confidence 1', { teacher: 'm', query: pairQ, choice: 'left', confidence: 1 }],
      ['rating on a pair', { teacher: 'm', query: pairQ, choice: 'left', rating: 1 }],
    ];
    for (const [what, body] of cases) {
      const r = await post('/api/label/answer', body);
      expect(r.statusCode, what).toBe(400);
      expect(r.json().error, what).toMatch(/bad request|rating|teacher/);
    }
    expect(store.answers()).toHaveLength(0);

    const rs = await setup('strict-rating', { rating: 3 });
    const rq = rs.store.queries(rs.pool.name);
    for (const [what, rating] of [['false', false], ['"2"', '2'], ['[1]', [1]], ['1.5', 1.5], ['true', true]] as const) {
      const r = await rs.post('/api/label/answer', { teacher: 'm', query: rq[0].id, rating });
      expect(r.statusCode, `rating ${what}`).toBe(400);
    }
    expect(rs.store.answers()).toHaveLength(0);
    const skip = await rs.post('/api/label/answer', { teacher: 'm', query: rq[0].id, rating: null });
    expect(skip.statusCode).toBe(200);
    expect(skip.json().stored).toMatchObject({ rating: null, skipped: true });
    expect(rs.store.ratings()).toEqual([]);
    expect((await rs.post('/api/label/answer', { teacher: 'm', query: rq[1].id, choice: 'left' })).statusCode).toBe(400);
    expect((await rs.post('/api/label/answer', { teacher: 'm', query: rq[1].id, choice: 'skip', rating: 1 })).statusCode).toBe(400);
  });

  it('trims labeller names the same way everywhere: "m " and "m" are one person', async () => {
    const { store, post, get } = await setup('names');
    const first = (await get('/api/label/next?teacher=%20m%20')).json();
    expect(first.teacher).toBe('m');
    const q = first.query.id;
    expect((await post('/api/label/answer', { teacher: 'm ', query: q, choice: 'left' })).statusCode).toBe(200);
    const dup = await post('/api/label/answer', { teacher: 'm', query: q, choice: 'right' });
    expect(dup.statusCode).toBe(409);
    expect(store.answers().map((a) => a.teacher)).toEqual(['m']);
    expect((await get('/api/label/next?teacher=m')).json().query.id).not.toBe(q);
    // Left for " m" is the same side as for "m" (the layout hash sees the trimmed name).
    expect(store.preferences()[0].label).toBe(isSwapped(q, 'm') ? 0 : 1);
    const undo = (await post('/api/label/undo', { teacher: '\tm' })).json();
    expect(undo.undone).toBe(q);
  });
});

describe('answer kinds, review and progress', () => {
  it('stores both bad / can\'t tell / confidence apart from skip and exports them', async () => {
    const { store, pool, post, get } = await setup('kinds');
    const ids = store.queries(pool.name).map((q) => q.id);
    const answers = [
      { choice: 'both-bad' },
      { choice: 'cant-tell', confidence: 'low' },
      { choice: 'left', confidence: 'high' },
      { choice: 'skip' },
    ];
    for (const [i, a] of answers.entries()) expect((await post('/api/label/answer', { teacher: 'kay', query: ids[i], ...a })).statusCode).toBe(200);
    expect((await post('/api/label/answer', { teacher: 'kay', query: ids[3], choice: 'skip', confidence: 'low' })).statusCode).toBe(409);
    const lines = (await get('/api/label/export')).body.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.label, l.answer, l.confidence])).toEqual([
      [null, 'both-bad', undefined],
      [null, 'cant-tell', 'low'],
      [isSwapped(ids[2], 'kay') ? 0 : 1, undefined, 'high'],
      [null, undefined, undefined],
    ]);
    const raw = store.answers();
    expect(raw.map((r) => [r.skipped, r.verdict])).toEqual([[false, 'both-bad'], [false, 'cant-tell'], [false, null], [true, null]]);
  });

  it('lists past answers, edits any of them, and says what was answered', async () => {
    const { store, pool, post, get } = await setup('review');
    const ids = store.queries(pool.name).map((q) => q.id);
    await post('/api/label/answer', { teacher: 'rae', query: ids[0], choice: 'left' });
    await post('/api/label/answer', { teacher: 'rae', query: ids[1], choice: 'equal', confidence: 'medium' });
    await post('/api/label/answer', { teacher: 'rae', query: ids[2], choice: 'both-bad' });
    const h = (await get('/api/label/history?teacher=rae')).json();
    expect(h.answers.map((a: { query: number; answer: string }) => [a.query, a.answer])).toEqual([
      [ids[2], 'both bad'],
      [ids[1], 'equal, medium confidence'],
      [ids[0], 'left better'],
    ]);
    // Edit the oldest (not the last): it is shown again and what it was is reported.
    const edit = (await post('/api/label/undo', { teacher: 'rae', query: ids[0] })).json();
    expect(edit).toMatchObject({ undone: ids[0], previous: 'left better' });
    expect(edit.next.query.id).toBe(ids[0]);
    expect((await post('/api/label/answer', { teacher: 'rae', query: ids[0], choice: 'right' })).statusCode).toBe(200);
    expect(store.preferences().find((l) => l.a === store.query(ids[0])!.a)!.label).toBe(isSwapped(ids[0], 'rae') ? 1 : 0);
    expect((await post('/api/label/undo', { teacher: 'rae', query: ids[3] })).statusCode).toBe(404);
    expect((await post('/api/label/undo', { teacher: 'rae', query: 99999 })).statusCode).toBe(404);
  });

  it('reports progress per labeller and agreement on pairs labelled twice', async () => {
    const { store, pool, post, get } = await setup('progress');
    const ids = store.queries(pool.name).map((q) => q.id);
    // In a's terms: x and y agree on ids[0] and ids[1], disagree on ids[2]; y skips ids[3].
    const side = (teacher: string, id: number, prefersA: boolean) => ((prefersA !== isSwapped(id, teacher)) ? 'left' : 'right');
    for (const [id, x, y] of [[ids[0], true, true], [ids[1], false, false], [ids[2], true, false]] as const) {
      await post('/api/label/answer', { teacher: 'x', query: id, choice: side('x', id, x) });
      await post('/api/label/answer', { teacher: 'y', query: id, choice: side('y', id, y) });
    }
    await post('/api/label/answer', { teacher: 'y', query: ids[3], choice: 'skip' });
    await post('/api/label/answer', { teacher: 'z', query: ids[0], choice: 'both-bad' });
    const p = (await get('/api/label/progress')).json().pools[0];
    expect(p).toMatchObject({ pool: pool.name, queries: 4, answeredQueries: 4, overlapQueries: 3 });
    expect(p.agreement).toBeCloseTo(2 / 3);
    const byName = Object.fromEntries(p.teachers.map((t: { teacher: string }) => [t.teacher, t]));
    expect(byName.x).toMatchObject({ answered: 3, skipped: 0, agreed: 2, compared: 3 });
    expect(byName.y).toMatchObject({ answered: 3, skipped: 1, agreed: 2, compared: 3 });
    expect(byName.z).toMatchObject({ answered: 0, bothBad: 1, compared: 0 });
    expect((await get('/progress')).statusCode).toBe(200);
  });

  it('names rating levels on the page and in the export', async () => {
    const { store, pool, post, get } = await setup('levels', { rating: 3, levelNames: ['failed', 'partly', 'done'] });
    const next = (await get('/api/label/next?teacher=lu')).json();
    expect(next.levelNames).toEqual(['failed', 'partly', 'done']);
    await post('/api/label/answer', { teacher: 'lu', query: next.query.id, rating: 2, confidence: 'high' });
    expect(store.ratings(pool.name)).toEqual([expect.objectContaining({ rating: 2, classes: 3, level: 'done', confidence: 'high' })]);
    expect((await get('/api/label/history?teacher=lu')).json().answers[0].answer).toBe('rating 3 (done), high confidence');
    expect(() => store.ensurePool({ name: pool.name, spec: JSON.parse(pool.spec), kind: 'rating', classes: 3, levelNames: ['a', 'b', 'c'] }, [])).toThrow(/different definition/);
    expect(() => store.ensurePool({ name: 'x', kind: 'rating', classes: 3, spec: {}, levelNames: ['a', 'b'] }, [])).toThrow(/exactly 3 non-empty level names/);
  });

  it('shows the task and its question by default, and the task camera with each segment', async () => {
    const { get } = await setup('question');
    const q = (await get('/api/label/next?teacher=qi')).json().query;
    expect(q).toMatchObject({ task: 'reach', question: 'Task: Move the gripper to a goal position in the air. Which clip does it better?' });
    const seg = (await get(`/api/segments/${encodeURIComponent(q.left.id)}`)).json();
    expect(seg.camera).toEqual({ position: [0.6, 0.1, 0.5], target: [0, 0.62, 0.08] });
  });
});

describe('concurrent labellers', () => {
  it('with labelsPerPair 1 hands two people different pairs and refuses a pair already answered', async () => {
    const { store, pool, post, get } = await setup('lease', { labelsPerQuery: 1 });
    const a = (await get('/api/label/next?teacher=ann')).json().query.id;
    const b = (await get('/api/label/next?teacher=ben')).json().query.id;
    expect(a).not.toBe(b);
    // A reload gives each their own pair back.
    expect((await get('/api/label/next?teacher=ann')).json().query.id).toBe(a);
    expect((await get('/api/label/next?teacher=ben')).json().query.id).toBe(b);
    const both = await Promise.all([post('/api/label/answer', { teacher: 'ann', query: a, choice: 'left' }), post('/api/label/answer', { teacher: 'ben', query: b, choice: 'left' })]);
    expect(both.map((r) => r.statusCode)).toEqual([200, 200]);
    // Someone answering a pair that already has its one answer is refused, and nothing is stored twice.
    const late = await post('/api/label/answer', { teacher: 'cy', query: a, choice: 'right' });
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toMatch(/already has the 1 answer/);
    expect(store.answers(pool.name).map((r) => r.query).sort()).toEqual([a, b].sort());
    // The two pairs left are now held for ann and ben (the answer's reply handed them out), so a
    // third person gets nothing until a hold runs out (10 minutes by default), then that pair.
    const left = store.queries(pool.name).map((q) => q.id).filter((id) => id !== a && id !== b);
    expect(store.next([pool.name], 'dee')).toBeNull();
    expect(left).toContain(store.next([pool.name], 'dee', Date.now() + 11 * 60_000)!.id);
  });
});

describe('video files', () => {
  it('says which video file is missing', async () => {
    const vdir = tempDir('viewer-missing-video');
    for (const name of ['a', 'b']) {
      const r = spawnSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=0.5', '-pix_fmt', 'yuv420p', join(vdir, `${name}.mp4`)]);
      expect(r.status).toBe(0);
    }
    writeFileSync(join(vdir, 'pairs.json'), JSON.stringify({ pairs: [['a.mp4', 'b.mp4']] }));
    const store = new LabelStore(join(vdir, 'labels.sqlite'));
    const built = videoPool(join(vdir, 'pairs.json'));
    store.ensurePool(built.pool, built.queries);
    const app = await buildServer({ labeling: { store, pools: () => [built.pool.name] } });
    closers.push(() => store.close(), () => app.close());
    rmSync(join(vdir, 'b.mp4'));
    const q = store.queries(built.pool.name)[0].id;
    const r = await app.inject({ url: `/api/media/${q}/b` });
    expect(r.statusCode).toBe(404);
    expect(r.json().error).toBe(`video file ${join(vdir, 'b.mp4')} (query ${q}, side b) is missing: it was moved or deleted after the pool was made`);
    expect((await app.inject({ url: `/api/media/${q}/a` })).statusCode).toBe(200);
    expect((await app.inject({ url: `/api/media/x1/a` })).statusCode).toBe(400);
  });
});

describe('access token', () => {
  it('guards pages and API when set, via ?token (which sets a cookie), header or cookie', async () => {
    const token = 'abcdef0123456789abcdef';
    const { get } = await setup('token', { accessToken: token });
    expect((await get('/api/info')).statusCode).toBe(401);
    expect((await get('/label?teacher=t')).statusCode).toBe(401);
    expect((await get('/api/label/next?teacher=t&token=wrong-wrong-wrong-wr')).statusCode).toBe(401);
    expect((await get('/static/label.js')).statusCode).toBe(200);
    const page = await get(`/label?teacher=t&token=${token}`);
    expect(page.statusCode).toBe(200);
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect(cookie).toBe(`pbrl_token=${token}`);
    expect((await get('/api/label/next?teacher=t', { cookie })).statusCode).toBe(200);
    expect((await get('/api/label/next?teacher=t', { 'x-pbrl-token': token })).statusCode).toBe(200);
    const denied = await get('/api/label/export');
    expect(denied.json().error).toMatch(/access token/);
    await expect(buildServer({ accessToken: 'short' })).rejects.toThrow(/16 characters/);
  });

  it('live labeling off loopback gets a token too, carried in its url', async () => {
    const live = await startLabelServer({ dbPath: join(dir, 'live-token.sqlite'), host: '0.0.0.0', teacherName: 'lia' });
    closers.push(() => live.close());
    const token = new URL(live.url).searchParams.get('token');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect((await fetch(`${live.baseUrl}/api/info`)).status).toBe(401);
    expect((await fetch(live.url)).status).toBe(200);
    const local = await startLabelServer({ dbPath: join(dir, 'live-local.sqlite') });
    closers.push(() => local.close());
    expect(local.url).not.toContain('token');
    expect((await fetch(`${local.baseUrl}/api/info`)).status).toBe(200);
  });
});

describe('near-identical pairs', () => {
  it('are flagged to the page, and --drop-similar keeps them out of a drawn pool', async () => {
    const store = new LabelStore(join(dir, 'similar.sqlite'));
    closers.push(() => store.close());
    store.ensurePool({ name: 'sim', kind: 'pair', spec: {} }, [{ a: 'reach:1:40:20', b: 'reach:1:38:20' }, { a: 'reach:0:0:20', b: 'reach:1:0:20' }]);
    const app = await buildServer({ labeling: { store, pools: () => ['sim'], segments: runSegmentSource(run) } });
    closers.push(() => app.close());
    const first = (await app.inject({ url: '/api/label/next?teacher=sy' })).json();
    expect(first.query.similar.metres).toBeLessThan(SIMILAR_METRES);
    const next = (await app.inject({ method: 'POST', url: '/api/label/answer', payload: { teacher: 'sy', query: first.query.id, choice: 'cant-tell' } })).json().next;
    expect(next.query.similar).toBeNull();

    const src = runSegmentSource(run);
    const diff = (q: { a: string; b?: string }) => poseDifference(src.get(q.a)!.poses!, src.get(q.b!)!.poses!);
    const plain = segmentPool(run, { count: 30, length: 20, seed: 8 });
    // Without the option the draws are what they always were for the seed (existing pools reopen).
    expect(plain.queries).toEqual(samplePairs(run.trajectories, { count: 30, length: 20, seed: 8 }).map(([a, b]) => ({ a: segmentId(run.trajectories, a), b: segmentId(run.trajectories, b) })));
    expect(plain.queries.some((q) => diff(q) < 0.02)).toBe(true);
    const filtered = segmentPool(run, { count: 30, length: 20, seed: 8, dropSimilar: 0.02 });
    expect(filtered.queries).toHaveLength(30);
    expect(filtered.queries.every((q) => diff(q) >= 0.02)).toBe(true);
    expect(filtered.pool.spec).toMatchObject({ dropSimilar: 0.02 });
    expect(plain.pool.spec).not.toHaveProperty('dropSimilar');
    expect(() => segmentPool(run, { count: 30, length: 20, seed: 8, dropSimilar: 10 })).toThrow(/passed the filter/);
  });
});

describe('live labeling answers', () => {
  it('hands both bad / can\'t tell to the trainer as skips by default, or as equal by policy', async () => {
    const live = await startLabelServer({ dbPath: join(dir, 'live-answers.sqlite'), teacherName: 'tao', geometry: run.geometry });
    closers.push(() => live.close());
    const src = runSegmentSource(run);
    const pair = { a: src.get('reach:0:0:20')!, b: src.get('reach:1:0:20')! };
    const answerWhenShown = async (choice: string) => {
      for (;;) {
        const next = await (await fetch(`${live.baseUrl}/api/label/next?teacher=tao`)).json();
        if (next.query) {
          const r = await fetch(`${live.baseUrl}/api/label/answer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ teacher: 'tao', query: next.query.id, choice, confidence: 'low' }) });
          expect(r.status).toBe(200);
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const [plain] = await Promise.all([live.requestLabels([pair], { timeoutMs: 30_000 }), answerWhenShown('both-bad')]);
    expect(plain).toEqual([expect.objectContaining({ label: null, answer: 'both-bad', confidence: 'low', teacher: 'tao' })]);
    const [asEqual] = await Promise.all([live.requestLabels([pair], { timeoutMs: 30_000, answers: { bothBad: 'equal', cantTell: 'equal' } }), answerWhenShown('cant-tell')]);
    expect(asEqual).toEqual([expect.objectContaining({ label: 0.5, confidence: 'low' })]);
    expect(asEqual[0]).not.toHaveProperty('answer');
    const [unsure] = await Promise.all([live.requestLabels([pair], { timeoutMs: 30_000, answers: { minConfidence: 'medium' } }), answerWhenShown('left')]);
    expect(unsure[0].label).toBeNull();
  });
});
