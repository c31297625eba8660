// Drives the real pages in Debian's chromium (one browser for this file): the replay viewer draws,
// and a person's key presses on the labeling page become the stored labels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { launchChromium } from '../../viewer/browser.js';
import { buildServer, listen } from '../../viewer/server.js';
import { loadRun, runSegmentSource, type RunData } from '../../viewer/run-data.js';
import { LabelStore } from '../../viewer/label-store.js';
import { segmentPool, videoPool } from '../../viewer/pools.js';
import { startLabelServer } from '../../viewer/live.js';
import { samplePairs, segmentId } from '../../viewer/segments.js';
import { ARTIFACTS, makeRun, tempDir } from './fixture.js';

let browser: Browser;
let run: RunData;
let dir: string;
const servers: FastifyInstance[] = [];
const stores: LabelStore[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = tempDir('viewer-browser');
  [browser, run] = await Promise.all([launchChromium(), makeRun(dir, 3, 60).then(loadRun)]);
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  stores.forEach((s) => s.close());
});

async function serve(opts: Parameters<typeof buildServer>[0]): Promise<string> {
  const app = await buildServer(opts);
  servers.push(app);
  return listen(app);
}

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return { page, errors };
}

/** Variance of the canvas's grey levels: ~0 for a blank or single-colour canvas. */
function canvasVariance(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const src = document.querySelector(sel) as HTMLCanvasElement;
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(src, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let s = 0, s2 = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const g = (d[i] + d[i + 1] + d[i + 2]) / 3;
      s += g;
      s2 += g * g;
    }
    return s2 / n - (s / n) ** 2;
  }, selector);
}

describe('replay viewer', () => {
  it('draws the scene, plays, scrubs and shows reward and success', async () => {
    const url = await serve({ run });
    const { page, errors } = await newPage();
    await page.goto(`${url}/`);
    await page.waitForFunction(() => (window as any).pbrlViewer?.ready && (window as any).pbrlViewer.framesDrawn >= 1, undefined, { timeout: 30_000 });
    expect(await page.locator('#episodes li').count()).toBe(3);
    expect(await canvasVariance(page, '#view')).toBeGreaterThan(50);
    await page.selectOption('#speed', '0.25');
    await page.click('#play');
    await page.waitForFunction(() => (window as any).pbrlViewer.frame > 5, undefined, { timeout: 10_000 });
    // Pause (unless the short episode already played to its end and stopped by itself).
    await page.evaluate(() => (window as any).pbrlViewer.playing && document.getElementById('play')!.click());
    await page.locator('#scrub').fill('30');
    expect(await page.evaluate(() => (window as any).pbrlViewer.frame)).toBe(30);
    const reward = run.trajectories[0].rewards[29].toFixed(4);
    expect(await page.textContent('#stats')).toContain(`reward ${reward}`);
    expect(await canvasVariance(page, '#plot')).toBeGreaterThan(0);
    await page.click('#plot', { position: { x: 400, y: 40 } });
    expect(await page.evaluate(() => (window as any).pbrlViewer.frame)).toBe(30);
    await page.click('#episodes li[data-index="2"]');
    await page.waitForFunction(() => (window as any).pbrlViewer.episode === 2);
    await page.screenshot({ path: join(ARTIFACTS, 'viewer.png') });
    expect(errors).toEqual([]);
  });
});

describe('labeling page', () => {
  it('turns key presses into stored labels, undoes, and never shows a pair twice', async () => {
    const store = new LabelStore(join(dir, 'labels.sqlite'));
    stores.push(store);
    const pairs = segmentPool(run, { count: 4, length: 20, seed: 5 });
    const rating = segmentPool(run, { count: 1, length: 20, seed: 5, ratingClasses: 3 });
    store.ensurePool(pairs.pool, pairs.queries);
    store.ensurePool(rating.pool, rating.queries);
    const url = await serve({ labeling: { store, pools: () => [pairs.pool.name, rating.pool.name], segments: runSegmentSource(run), instructions: 'Which arm reaches the goal better?' } });
    const { page, errors } = await newPage();
    await page.goto(`${url}/label?teacher=erin`);
    const waitReady = (prev: number | null) =>
      page.waitForFunction((p) => { const s = (window as any).pbrlLabel; return s.ready && !s.busy && (s.next.query?.id ?? -1) !== p; }, prev, { timeout: 30_000 });
    await waitReady(null);
    expect(await page.textContent('#progress')).toBe('1 of 4');
    expect(await canvasVariance(page, '#left canvas')).toBeGreaterThan(50);
    expect(await canvasVariance(page, '#right canvas')).toBeGreaterThan(50);
    await page.screenshot({ path: join(ARTIFACTS, 'label-pair.png') });

    const expected = new Map<number, number | null>();
    const press = async (key: string, value: (leftIsA: boolean) => number | null) => {
      const q = await page.evaluate(() => (window as any).pbrlLabel.next.query);
      const row = store.query(q.id)!;
      const leftIsA = (await page.getAttribute('#left', 'data-segment')) === row.a;
      expect(await page.getAttribute(leftIsA ? '#right' : '#left', 'data-segment')).toBe(row.b);
      expected.set(q.id, value(leftIsA));
      await page.keyboard.press(key);
      await waitReady(q.id);
      return q.id as number;
    };
    await press('1', (leftIsA) => (leftIsA ? 1 : 0));
    await press('ArrowRight', (leftIsA) => (leftIsA ? 0 : 1));
    const third = await press('3', () => 0.5);
    const fourth: number = await page.evaluate(() => (window as any).pbrlLabel.next.query.id);
    expect(store.preferences(pairs.pool.name)).toHaveLength(3);

    // Undo: the third answer is withdrawn and its pair comes back.
    await page.keyboard.press('u');
    await page.waitForFunction((id) => { const s = (window as any).pbrlLabel; return s.ready && !s.busy && s.next.query?.id === id; }, third);
    expect(store.preferences(pairs.pool.name)).toHaveLength(2);
    expect(await page.textContent('#progress')).toBe('3 of 4');
    await press(' ', () => null);
    await press('2', (leftIsA) => (leftIsA ? 0 : 1));

    const stored = store.answers(pairs.pool.name);
    expect(new Map(stored.map((a) => [a.query, a.label]))).toEqual(expected);
    expect(stored.every((a) => a.teacher === 'erin' && a.durationMs! > 0 && a.time > 0)).toBe(true);
    expect(store.preferences(pairs.pool.name).find((l) => l.label === null)).toBeDefined();

    // Rating mode comes next: one segment, classes 1..3 on the keys.
    expect(await page.evaluate(() => (window as any).pbrlLabel.next.kind)).toBe('rating');
    expect(await page.locator('#answers button[data-rating]').count()).toBe(3);
    await page.screenshot({ path: join(ARTIFACTS, 'label-rating.png') });
    await page.keyboard.press('2');
    await page.waitForFunction(() => (window as any).pbrlLabel.done);
    expect(store.ratings(rating.pool.name)).toEqual([expect.objectContaining({ rating: 1, classes: 3, teacher: 'erin' })]);

    // Each pair was shown once, except the one brought back by undo and the one that was on screen
    // (still unanswered) when undo was pressed.
    const shown: number[] = await page.evaluate(() => (window as any).pbrlLabel.shownQueries);
    const counts = new Map<number, number>();
    for (const id of shown) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n > 1).sort()).toEqual([[third, 2], [fourth, 2]].sort());
    expect(shown).toHaveLength(7);
    // A reload (or server restart) offers nothing already answered.
    await page.reload();
    await page.waitForFunction(() => (window as any).pbrlLabel.done);
    expect(await page.textContent('#status')).toMatch(/All 1 answered/);

    // A second person gets every pair, on their own.
    const other = await newPage();
    await other.page.goto(`${url}/label?teacher=finn`);
    await other.page.waitForFunction(() => (window as any).pbrlLabel.ready);
    expect(await other.page.textContent('#progress')).toBe('1 of 4');
    await other.page.close();
    expect(errors).toEqual([]);
  });

  it('labels pairs of video files with the same keys', async () => {
    const vdir = tempDir('viewer-browser-videos');
    for (const [name, pattern] of [['left', 'testsrc'], ['right', 'smptebars']]) {
      const r = spawnSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `${pattern}=size=320x240:rate=25:duration=2`, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', join(vdir, `${name}.mp4`)]);
      expect(r.status, String(r.stderr)).toBe(0);
    }
    writeFileSync(join(vdir, 'pairs.json'), JSON.stringify({ pairs: [['left.mp4', 'right.mp4']] }));
    const store = new LabelStore(join(vdir, 'labels.sqlite'));
    stores.push(store);
    const built = videoPool(join(vdir, 'pairs.json'));
    store.ensurePool(built.pool, built.queries);
    const url = await serve({ labeling: { store, pools: () => [built.pool.name] } });
    const { page, errors } = await newPage();
    await page.goto(`${url}/label?teacher=gus`);
    await page.waitForFunction(() => (window as any).pbrlLabel.ready, undefined, { timeout: 30_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('video')].every((v) => v.currentTime > 0.1), undefined, { timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'label-videos.png') });
    const leftId = await page.getAttribute('#left', 'data-segment');
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => (window as any).pbrlLabel.done);
    expect(store.preferences()).toEqual([expect.objectContaining({ a: 'left.mp4', b: 'right.mp4', label: leftId === 'left.mp4' ? 1 : 0, teacher: 'gus' })]);
    expect(errors).toEqual([]);
  });

  it('live mode: the page waits for the trainer, then a key press resolves requestLabels', async () => {
    const server = await startLabelServer({ dbPath: join(dir, 'live.sqlite'), teacherName: 'hana', geometry: run.geometry });
    try {
      const { page, errors } = await newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => /Waiting for the trainer/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 30_000 });
      const src = runSegmentSource(run);
      const [[a, b]] = samplePairs(run.trajectories, { count: 1, length: 20, seed: 9 });
      const pair = { a: src.get(segmentId(run.trajectories, a))!, b: src.get(segmentId(run.trajectories, b))! };
      const pending = server.requestLabels([pair], { timeoutMs: 60_000, fallback: 'skip' });
      // The page polls while idle, so the pair shows up without a reload.
      await page.waitForFunction(() => (window as any).pbrlLabel.ready && (window as any).pbrlLabel.next.query, undefined, { timeout: 30_000 });
      const leftIsA = (await page.getAttribute('#left', 'data-segment')) === pair.a.id;
      await page.keyboard.press('1');
      const labels = await pending;
      expect(labels).toEqual([expect.objectContaining({ a: pair.a.id, b: pair.b.id, label: leftIsA ? 1 : 0, teacher: 'hana' })]);
      await page.waitForFunction(() => /Waiting for the trainer/.test(document.getElementById('status')!.textContent!));
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
