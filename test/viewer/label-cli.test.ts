// `pbrl label` and `pbrl clips` as a user runs them (through test/viewer/cli.ts): export mode
// refuses a mistyped database or pool, a non-loopback host gets a token and a warning, and
// side-by-side clips come with a manifest of what is on each side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { networkInterfaces } from 'node:os';
import { LabelStore } from '../../viewer/label-store.js';
import { loadRun, runSegmentSource } from '../../viewer/run-data.js';
import { segmentPool } from '../../viewer/pools.js';
import { samplePairs, segmentId } from '../../viewer/segments.js';
import { makeRun, tempDir } from './fixture.js';

const CLI = join(process.cwd(), 'test', 'viewer', 'cli.ts');
let dir: string;
let runDir: string;
const children: ChildProcess[] = [];

function pbrl(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  dir = tempDir('viewer-cli');
  runDir = await makeRun(dir, 2, 30);
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('pbrl label --export', () => {
  it('refuses a database or pool that does not exist, creating nothing', () => {
    const missing = join(dir, 'typo', 'labels.sqlite');
    const r1 = pbrl(['label', '--db', missing, '--export', join(dir, 'out.jsonl')]);
    expect(r1.code).toBe(1);
    expect(r1.err).toContain(`--db ${missing}: no such label database`);
    expect(existsSync(join(dir, 'typo'))).toBe(false);
    expect(existsSync(join(dir, 'out.jsonl'))).toBe(false);

    const db = join(dir, 'labels.sqlite');
    const store = new LabelStore(db);
    const built = segmentPool(loadRun(runDir), { count: 2, length: 10, seed: 0 });
    store.ensurePool(built.pool, built.queries);
    store.answer({ query: store.queries(built.pool.name)[0].id, teacher: 'ola', answer: { kind: 'pair', choice: 'a' } });
    store.close();
    const r2 = pbrl(['label', '--db', db, '--pool', 'nope', '--export', join(dir, 'out.jsonl')]);
    expect(r2.code).toBe(1);
    expect(r2.err).toContain(`--pool nope: no such pool in ${db}; it has "${built.pool.name}"`);
    expect(existsSync(join(dir, 'out.jsonl'))).toBe(false);
    // (A real database and pool export: the --bundle test below, which writes --export too.)
  });
});

describe('pbrl label --bundle', () => {
  it('exports answers with observations, actions, labeller, time and answer as JSONL and .npz that NumPy reads (and the plain export beside)', () => {
    const db = join(dir, 'bundle.sqlite');
    const run = loadRun(runDir);
    const store = new LabelStore(db);
    const pairs = segmentPool(run, { count: 3, length: 8, seed: 1 });
    const rating = segmentPool(run, { count: 1, length: 8, seed: 1, ratingClasses: 3 });
    store.ensurePool(pairs.pool, pairs.queries);
    store.ensurePool({ ...rating.pool, levelNames: ['bad', 'ok', 'good'] }, rating.queries);
    const q = store.queries(pairs.pool.name);
    store.answer({ query: q[0].id, teacher: 'nia', answer: { kind: 'pair', choice: 'b', confidence: 'high' }, durationMs: 900, time: 1000 });
    store.answer({ query: q[1].id, teacher: 'nia', answer: { kind: 'pair', choice: 'both-bad' }, time: 2000 });
    store.answer({ query: q[2].id, teacher: 'ole', answer: { kind: 'pair', choice: 'skip' }, time: 3000 });
    store.answer({ query: store.queries(rating.pool.name)[0].id, teacher: 'ole', answer: { kind: 'rating', rating: 1 }, time: 4000 });
    store.close();
    const out = join(dir, 'bundle');
    const r = pbrl(['label', '--db', db, '--bundle', out, '--export', join(out, 'labels.jsonl')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`wrote 3 pair and 1 rating answers with observations and actions to ${out}`);
    expect(r.out).toContain(`wrote 4 labels to ${join(out, 'labels.jsonl')}`);
    const plain = readFileSync(join(out, 'labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(plain.map((l) => ('segment' in l ? l.rating : (l.answer ?? l.label)))).toEqual([0, 'both-bad', null, 1]);
    const lines = readFileSync(join(out, 'preferences.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const seg = (id: string) => runSegmentSource(run).get(id)!;
    expect(lines.map((l) => [l.a, l.b, l.answer, l.label, l.confidence, l.teacher, l.time])).toEqual([
      [q[0].a, q[0].b, 'b', 0, 'high', 'nia', 1000],
      [q[1].a, q[1].b, 'both-bad', null, null, 'nia', 2000],
      [q[2].a, q[2].b, 'skip', null, null, 'ole', 3000],
    ]);
    const a0 = seg(q[0].a);
    expect(lines[0].obs_a).toHaveLength(8);
    expect(lines[0].obs_a[3]).toEqual(Array.from(a0.obs.subarray(3 * a0.obsDim, 4 * a0.obsDim)));
    expect(lines[0].act_b[7]).toEqual(Array.from(seg(q[0].b!).actions.subarray(7 * a0.actDim, 8 * a0.actDim)));
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.notes.rating).toMatch(/0-based/);
    const py = spawnSync('python3', ['-c', `
import json, sys, numpy as np
p = np.load(sys.argv[1]); r = np.load(sys.argv[2])
print(json.dumps({
  'obs_a': list(p['obs_a'].shape), 'act_b': list(p['act_b'].shape), 'label': [None if np.isnan(x) else float(x) for x in p['label']],
  'answer': p['answer'].tolist(), 'teacher': p['teacher'].tolist(), 'time': p['time_ms'].tolist(), 'seg_a': p['seg_a'].tolist(),
  'obs_a_0_3': p['obs_a'][0, 3].tolist(), 'conf': p['confidence'].tolist(), 'dur0': float(p['duration_ms'][0]),
  'rating': r['rating'].tolist(), 'level': r['level'].tolist(), 'robs': list(r['obs'].shape)}))
`, join(out, 'preferences.npz'), join(out, 'ratings.npz')], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const n = JSON.parse(py.stdout);
    expect(n).toMatchObject({
      obs_a: [3, 8, a0.obsDim],
      act_b: [3, 8, a0.actDim],
      label: [0, null, null],
      answer: ['b', 'both-bad', 'skip'],
      teacher: ['nia', 'nia', 'ole'],
      time: [1000, 2000, 3000],
      seg_a: q.map((x) => x.a),
      conf: ['high', '', ''],
      dur0: 900,
      rating: [1],
      level: ['ok'],
      robs: [1, 8, a0.obsDim],
    });
    expect(n.obs_a_0_3).toEqual(Array.from(a0.obs.subarray(3 * a0.obsDim, 4 * a0.obsDim)));
  });
});

describe('pbrl label --host', () => {
  it('off loopback: warns, requires the token it prints once, and prints reachable URLs', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'label', '--segments', runDir, '--pairs', '2', '--length', '10', '--host', '0.0.0.0', '--port', '0', '--teacher-name', 'pia', '--db', join(dir, 'host.sqlite')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const t0 = Date.now();
    while (!/token is printed only here/.test(out)) {
      if (child.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`label server did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out).toMatch(/WARNING: listening on 0\.0\.0\.0: anyone who can reach this machine can open the page/);
    const urls = [...out.matchAll(/^open (http:\/\/\S+)$/gm)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    const token = new URL(urls[0]).searchParams.get('token')!;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(out.split(token).length - 1).toBe(urls.length); // only in the printed URLs
    const port = new URL(urls[0]).port;
    // Every address others can use (this machine's non-loopback IPv4 ones), not 127.0.0.1.
    const lan = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4');
    if (lan.length) expect(urls.map((u) => new URL(u).hostname).sort()).toEqual(lan.map((a) => a!.address).sort());
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/api/label/next?teacher=pia`)).status).toBe(401);
    expect((await fetch(`${base}/label?teacher=pia`)).status).toBe(401);
    const ok = await fetch(`${base}/label?teacher=pia&token=${token}`);
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0];
    const next = await fetch(`${base}/api/label/next?teacher=pia`, { headers: { cookie } });
    expect(next.status).toBe(200);
    expect((await next.json()).query).not.toBeNull();
    child.kill('SIGTERM');
  });
});

describe('pbrl view --host', () => {
  it('off loopback: warns and serves the episodes only with the token it prints', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'view', runDir, '--host', '0.0.0.0', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const t0 = Date.now();
    while (!/Ctrl-C to stop/.test(out)) {
      if (child.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`viewer did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out).toMatch(/WARNING: listening on 0\.0\.0\.0/);
    const url = new URL(out.match(/episodes\): (http:\/\/\S+)/)![1]);
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const base = `http://127.0.0.1:${url.port}`;
    expect((await fetch(`${base}/api/episodes`)).status).toBe(401);
    expect((await fetch(`${base}/api/episodes?token=${token}`)).status).toBe(200);
    child.kill('SIGTERM');
  });
});

describe('pbrl clips --side-by-side', () => {
  it('writes side-by-side.json naming the segments on each side of every pair clip', () => {
    const out = join(dir, 'clips');
    const r = pbrl(['clips', '--segments', runDir, '--out', out, '--pairs', '2', '--length', '4', '--side-by-side', '--format', 'webm', '--width', '64', '--height', '64']);
    expect(r.code, r.err).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'side-by-side.json'), 'utf8'));
    const T = loadRun(runDir).trajectories;
    const pairs = samplePairs(T, { count: 2, length: 4, seed: 0 }).map(([a, b]) => [segmentId(T, a), segmentId(T, b)]);
    expect(m).toMatchObject({ format: 'pbrl-side-by-side', version: 1, width: 64, height: 64, fps: 25 });
    expect(m.clips).toEqual(pairs.map(([a, b], k) => ({ file: `pair-${k}.webm`, left: a, right: b, frames: 5, leftFrames: 5, rightFrames: 5 })));
    for (const c of m.clips) expect(existsSync(join(out, c.file))).toBe(true);
  });
});
