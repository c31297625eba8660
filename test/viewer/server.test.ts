import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, isSwapped, listen } from '../../viewer/server.js';
import { loadRun, runSegmentSource, type RunData } from '../../viewer/run-data.js';
import { LabelStore } from '../../viewer/label-store.js';
import { pairsFilePool, segmentPool, videoPool } from '../../viewer/pools.js';
import { segmentToJSON } from '../../reward/segment-io.js';
import { makeRun, tempDir } from './fixture.js';

let dir: string;
let run: RunData;
let store: LabelStore;
let app: FastifyInstance;
let pools: string[];

beforeAll(async () => {
  dir = tempDir('viewer-server');
  run = loadRun(await makeRun(dir));
  store = new LabelStore(join(dir, 'labels.sqlite'));
  const pairs = segmentPool(run, { count: 4, length: 20, seed: 1 });
  const rating = segmentPool(run, { count: 2, length: 20, seed: 1, ratingClasses: 3 });
  store.ensurePool(pairs.pool, pairs.queries);
  store.ensurePool(rating.pool, rating.queries);
  pools = [pairs.pool.name, rating.pool.name];
  app = await buildServer({ run, labeling: { store, pools: () => pools, segments: runSegmentSource(run), defaultTeacher: 'alice' } });
});

afterAll(async () => {
  await app?.close();
  store?.close();
});

const get = (url: string) => app.inject({ method: 'GET', url });
const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

describe('replay routes', () => {
  it('lists the episodes and serves one with poses that decode to (length + 1) frames', async () => {
    const list = (await get('/api/episodes')).json();
    expect(list.episodes).toHaveLength(3);
    expect(list.episodes[0]).toMatchObject({ index: 0, task: 'reach', seed: 0, length: 60, poses: true });
    const ep = (await get('/api/episodes/1')).json();
    expect(ep.frames).toBe(61);
    expect(ep.rewards).toHaveLength(60);
    expect(ep.success).toHaveLength(60);
    const floats = Buffer.from(ep.poses, 'base64').length / 4;
    expect(floats).toBe(61 * ep.bodyNames.length * 7);
  });

  it('answers out-of-range and malformed requests with 4xx and a message, and keeps serving', async () => {
    const r404 = await get('/api/episodes/3');
    expect(r404.statusCode).toBe(404);
    expect(r404.json().error).toMatch(/episodes 0\.\.2/);
    const r400 = await get('/api/episodes/abc');
    expect(r400.statusCode).toBe(400);
    expect(r400.json().error).toMatch(/index/);
    expect((await get('/api/episodes/-1')).statusCode).toBe(400);
    expect((await get('/api/geometry/nope')).statusCode).toBe(404);
    expect((await get('/api/segments/reach:0:55:20')).statusCode).toBe(404); // runs past the episode's end
    expect((await get('/no/such/route')).json().error).toMatch(/no route GET/);
    const bad = await app.inject({ method: 'POST', url: '/api/label/answer', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(bad.statusCode).toBe(400);
    expect((await get('/api/episodes/0')).statusCode).toBe(200);
  });

  it('serves the pages, the shared scene module and three from node_modules', async () => {
    for (const url of ['/', '/label', '/static/scene.js', '/static/label.js', '/vendor/three/three.module.js', '/vendor/three-addons/controls/OrbitControls.js']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(200);
    }
    expect((await get('/vendor/three/../../package.json')).statusCode).not.toBe(200);
  });

  it('gives a segment without its true rewards (people judge behaviour, not numbers)', async () => {
    const r = (await get('/api/segments/reach:2:10:20')).json();
    expect(r).toMatchObject({ id: 'reach:2:10:20', task: 'reach', length: 20, frames: 21 });
    expect(r.rewards).toBeUndefined();
  });
});

describe('label routes', () => {
  it('stores left / right / equal / skip in the segment\'s own terms, whichever side it was drawn on', async () => {
    const choices = ['left', 'right', 'equal', 'skip'] as const;
    const expected: (number | null)[] = [];
    for (const choice of choices) {
      const next = (await get('/api/label/next?teacher=bob')).json();
      expect(next.kind).toBe('pair');
      const q = next.query;
      const swapped = isSwapped(q.id, 'bob');
      expect(q.left.id).toBe(swapped ? store.query(q.id)!.b : store.query(q.id)!.a);
      expected.push(choice === 'equal' ? 0.5 : choice === 'skip' ? null : (choice === 'left') !== swapped ? 1 : 0);
      const res = await post('/api/label/answer', { teacher: 'bob', query: q.id, choice, durationMs: 1234 });
      expect(res.statusCode).toBe(200);
      expect(res.json().stored.durationMs).toBe(1234);
    }
    const labels = store.preferences(pools[0]).filter((l) => l.teacher === 'bob');
    expect(labels.map((l) => l.label)).toEqual(expected);
    // All four pairs done: the rating pool comes next.
    const next = (await get('/api/label/next?teacher=bob')).json();
    expect(next).toMatchObject({ kind: 'rating', classes: 3 });
    expect(next.query.segment.id).toMatch(/^reach:/);
  });

  it('refuses a second answer, unknown queries, bad choices and ratings out of range', async () => {
    const answered = store.preferences(pools[0]).length;
    const first = store.queries(pools[0])[0];
    const dup = await post('/api/label/answer', { teacher: 'bob', query: first.id, choice: 'left' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatch(/already answered/);
    expect((await post('/api/label/answer', { teacher: 'bob', query: 9999, choice: 'left' })).statusCode).toBe(404);
    const badChoice = await post('/api/label/answer', { teacher: 'bob', query: first.id, choice: 'up' });
    expect(badChoice.statusCode).toBe(400);
    expect(badChoice.json().error).toMatch(/choice/);
    expect((await post('/api/label/answer', { query: first.id, choice: 'left' })).statusCode).toBe(400);
    expect((await post('/api/label/answer', { teacher: ' ', query: first.id, choice: 'left' })).statusCode).toBe(400);
    expect((await post('/api/label/answer', { teacher: 'bob', query: first.id, choice: 'left', extra: 1 })).statusCode).toBe(400);
    const rq = store.queries(pools[1])[0];
    const r = await post('/api/label/answer', { teacher: 'bob', query: rq.id, rating: 3 });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/rating must be an integer in \[0, 2\]/);
    expect((await post('/api/label/answer', { teacher: 'bob', query: rq.id, rating: 2 })).statusCode).toBe(200);
    expect((await get('/api/label/next?teacher=')).statusCode).toBe(400);
    expect(store.preferences(pools[0]).length).toBe(answered);
  });

  it('undo reopens the last answer and shows that query again; nothing is deleted', async () => {
    const before = store.answers().length;
    const res = (await post('/api/label/undo', { teacher: 'bob' })).json();
    expect(res.undone).toBe(store.queries(pools[1])[0].id);
    expect(res.next.query.id).toBe(res.undone);
    expect(store.answers().length).toBe(before - 1);
    const again = await post('/api/label/answer', { teacher: 'bob', query: res.undone, rating: 0 });
    expect(again.statusCode).toBe(200);
    expect(store.ratings(pools[1]).find((r) => r.teacher === 'bob')!.rating).toBe(0);
  });

  it('exports JSON lines of PreferenceLabel and RatingLabel records', async () => {
    const r = await get('/api/label/export');
    expect(r.headers['content-type']).toMatch(/ndjson/);
    const lines = r.body.trim().split('\n').map((l) => JSON.parse(l));
    const prefs = lines.filter((l) => 'a' in l);
    expect(prefs).toHaveLength(4);
    for (const p of prefs) {
      expect(Object.keys(p).sort()).toEqual(['a', 'b', 'durationMs', 'label', 'teacher', 'time']);
      expect([1, 0, 0.5, null]).toContain(p.label);
    }
    expect(lines.find((l) => 'segment' in l)).toMatchObject({ rating: 0, shownLevel: 1, classes: 3, teacher: 'bob' });
    expect((await get('/api/label/export?pool=nope')).statusCode).toBe(404);
  });
});

describe('video pairs', () => {
  it('serves only the files a manifest names, with range requests, and labels them like segments', async () => {
    const vdir = tempDir('viewer-videos');
    for (const name of ['a', 'b']) {
      const r = spawnSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=128x96:rate=10:duration=1`, '-pix_fmt', 'yuv420p', join(vdir, `${name}.mp4`)]);
      expect(r.status).toBe(0);
    }
    writeFileSync(join(vdir, 'pairs.json'), JSON.stringify({ pairs: [{ a: 'a.mp4', b: { file: 'b.mp4', id: 'reach:0:0:20' } }] }));
    const vstore = new LabelStore(join(vdir, 'labels.sqlite'));
    const built = videoPool(join(vdir, 'pairs.json'));
    vstore.ensurePool(built.pool, built.queries);
    const vapp = await buildServer({ labeling: { store: vstore, pools: () => [built.pool.name] } });
    try {
      const next = (await vapp.inject({ url: '/api/label/next?teacher=carol' })).json();
      const media = [next.query.left.media, next.query.right.media];
      expect(media.sort()).toEqual([`/api/media/${next.query.id}/a`, `/api/media/${next.query.id}/b`]);
      const part = await vapp.inject({ url: media[0], headers: { range: 'bytes=0-99' } });
      expect(part.statusCode).toBe(206);
      expect(part.rawPayload.length).toBe(100);
      expect((await vapp.inject({ url: `/api/media/${next.query.id}/c` })).statusCode).toBe(400);
      expect((await vapp.inject({ url: `/api/media/999/a` })).statusCode).toBe(404);
      await vapp.inject({ method: 'POST', url: '/api/label/answer', payload: { teacher: 'carol', query: next.query.id, choice: 'equal' } });
      expect(vstore.preferences()).toEqual([expect.objectContaining({ a: 'a.mp4', b: 'reach:0:0:20', label: 0.5, teacher: 'carol' })]);
    } finally {
      await vapp.close();
      vstore.close();
    }
    writeFileSync(join(vdir, 'bad.json'), JSON.stringify({ pairs: [{ a: 'a.mp4', b: 'missing.mp4' }] }));
    expect(() => videoPool(join(vdir, 'bad.json'))).toThrow(/missing\.mp4" does not exist/);
    writeFileSync(join(vdir, 'bad2.json'), '{"pairs": []}');
    expect(() => videoPool(join(vdir, 'bad2.json'))).toThrow(/at least one pair/);
  });
});

describe('pairs files', () => {
  it('label exactly the pairs a file names, checked against the run before anything is stored', () => {
    const f = join(dir, 'chosen.json');
    writeFileSync(f, JSON.stringify({ run: 'run', pairs: [['reach:0:0:20', 'reach:1:5:20'], ['reach:2:40:20', 'reach:0:0:20']], segments: ['reach:1:0:30'] }));
    const built = pairsFilePool(f);
    expect(built.pool).toMatchObject({ name: 'pairs-chosen', kind: 'pair' });
    expect(built.queries).toEqual([{ a: 'reach:0:0:20', b: 'reach:1:5:20' }, { a: 'reach:2:40:20', b: 'reach:0:0:20' }]);
    expect(pairsFilePool(f, { ratingClasses: 4 }).queries).toEqual([{ a: 'reach:1:0:30' }]);
    writeFileSync(f, JSON.stringify({ run: 'run', pairs: [['reach:0:0:20', 'reach:1:50:20']] }));
    expect(() => pairsFilePool(f)).toThrow(/pairs\[0\]\[1\]: window \[50, 70\) does not fit/);
    writeFileSync(f, JSON.stringify({ pairs: [] }));
    expect(() => pairsFilePool(f)).toThrow(/needs "run"/);
  });

  it('can carry the segments themselves (reward/segment-io JSON) with their geometry, no run needed', async () => {
    const src = runSegmentSource(run);
    const segs = ['reach:0:0:20', 'reach:1:5:20'].map((id) => segmentToJSON(src.get(id)!));
    const f = join(dir, 'embedded.json');
    writeFileSync(f, JSON.stringify({ geometry: run.geometry, segments: segs, pairs: [['reach:1:5:20', 'reach:0:0:20']] }));
    const built = pairsFilePool(f);
    expect(built.run).toBeNull();
    expect(built.queries).toEqual([{ a: 'reach:1:5:20', b: 'reach:0:0:20' }]);
    const estore = new LabelStore(join(dir, 'embedded.sqlite'));
    estore.ensurePool(built.pool, built.queries);
    const eapp = await buildServer({ labeling: { store: estore, pools: () => [built.pool.name], segments: built.source } });
    try {
      const seg = (await eapp.inject({ url: '/api/segments/reach:1:5:20' })).json();
      expect(seg).toMatchObject({ task: 'reach', frames: 21 });
      expect((await eapp.inject({ url: '/api/geometry/reach' })).statusCode).toBe(200);
    } finally {
      await eapp.close();
      estore.close();
    }
    expect(pairsFilePool(f, { ratingClasses: 2 }).queries).toEqual([{ a: 'reach:0:0:20' }, { a: 'reach:1:5:20' }]);
    writeFileSync(f, JSON.stringify({ segments: segs, pairs: [['reach:1:5:20', 'reach:0:0:20']] }));
    expect(() => pairsFilePool(f)).toThrow(/no scene geometry for task "reach"/);
    writeFileSync(f, JSON.stringify({ geometry: run.geometry, segments: segs, pairs: [['reach:1:5:20', 'reach:9:0:20']] }));
    expect(() => pairsFilePool(f)).toThrow(/no embedded segment "reach:9:0:20"/);
    writeFileSync(f, JSON.stringify({ geometry: run.geometry, segments: [{ ...segs[0], obs: 'AAAA' }], pairs: [] }));
    expect(() => pairsFilePool(f)).toThrow(/segments\[0\]/);
  });
});

describe('listening', () => {
  it('binds to 127.0.0.1 by default', async () => {
    const a = await buildServer({ run });
    try {
      const url = await listen(a);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((a.server.address() as { address: string }).address).toBe('127.0.0.1');
      const res = await fetch(`${url}/api/episodes`);
      expect(res.status).toBe(200);
    } finally {
      await a.close();
    }
  });
});
