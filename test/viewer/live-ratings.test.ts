// Live rating for online rating-based RL: requestRatings puts single segments on the labeling page,
// a person rates or skips them over HTTP, and the trainer gets exactly those ratings in segment
// order, with the fallback's for the unanswered ones (or none, with 'skip').
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Segment } from '../../core/types.js';
import { loadRun, runSegmentSource, type RunData } from '../../viewer/run-data.js';
import { startLabelServer, type LabelServer } from '../../viewer/live.js';
import { makeRun, tempDir } from './fixture.js';

let dir: string;
let run: RunData;
let live: LabelServer;
let segs: Segment[];

beforeAll(async () => {
  dir = tempDir('viewer-live-ratings');
  run = loadRun(await makeRun(dir, 3, 60));
  live = await startLabelServer({ dbPath: join(dir, 'live.sqlite'), teacherName: 'ana', geometry: run.geometry });
  const src = runSegmentSource(run);
  segs = ['reach:0:0:20', 'reach:1:0:20', 'reach:2:0:20', 'reach:0:20:20'].map((id) => src.get(id)!);
});
afterAll(async () => {
  await live.close();
});

const post = (body: unknown) =>
  fetch(`${live.baseUrl}/api/label/answer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** A person who rates what the page shows, one answer per entry (null = skip), then walks away; returns the segment ids shown. */
async function person(teacher: string, answers: (number | null)[], tryFirst?: number): Promise<string[]> {
  const shown: string[] = [];
  for (const rating of answers) {
    let next;
    for (;;) {
      next = await (await fetch(`${live.baseUrl}/api/label/next?teacher=${teacher}`)).json();
      if (next.query) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(next).toMatchObject({ kind: 'rating', classes: 3 });
    shown.push(next.query.segment.id);
    if (tryFirst !== undefined && shown.length === 1) {
      const bad = await post({ teacher, query: next.query.id, rating: tryFirst });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error).toMatch(/rating must be an integer in \[0, 2\]/);
    }
    const r = await post({ teacher, query: next.query.id, rating });
    expect(r.status).toBe(200);
  }
  return shown;
}

describe('requestRatings', () => {
  it('returns what the person rated, in segment order, and the fallback\'s rating for what nobody answered', async () => {
    const asked: string[] = [];
    const [labels, shown] = await Promise.all([
      live.requestRatings(segs, {
        classes: 3, levelNames: ['bad', 'ok', 'good'], timeoutMs: 1500, fallbackTeacher: 'fallback:scripted',
        fallback: (s) => (asked.push(s.id), 1),
      }),
      // Rates the first, skips the second, rates the third; a level 3 of 3 (0-based) is refused first.
      person('ana', [2, null, 0], 3),
    ]);
    expect(shown).toEqual(segs.slice(0, 3).map((s) => s.id));
    // The person's skip is an answer: the fallback is asked only about the segment nobody saw.
    expect(asked).toEqual([segs[3].id]);
    expect(labels.map((l) => [l.segment, l.rating, l.teacher])).toEqual([
      [segs[0].id, 2, 'ana'], [segs[2].id, 0, 'ana'], [segs[3].id, 1, 'fallback:scripted'],
    ]);
    expect(labels[0]).toMatchObject({ classes: 3, level: 'good', shownLevel: 3 });
    // Only the person's answers are in the database; the fallback's are the trainer's business.
    const pool = live.store.pools().at(-1)!;
    expect(pool).toMatchObject({ kind: 'rating', classes: 3, levelNames: ['bad', 'ok', 'good'] });
    expect(live.store.ratings(pool.name).map((r) => [r.segment, r.rating, r.level])).toEqual([[segs[0].id, 2, 'good'], [segs[2].id, 0, 'bad']]);
    expect(live.store.answers(pool.name).filter((a) => a.skipped).map((a) => a.a)).toEqual([segs[1].id]);
  });

  it("with fallback 'skip' leaves the unanswered out, and ratingSource gives one rating per answered segment", async () => {
    const [labels] = await Promise.all([live.requestRatings(segs, { classes: 3, timeoutMs: 800 }), person('ana', [1, 0])]);
    expect(labels.map((l) => [l.segment, l.rating])).toEqual([[segs[0].id, 1], [segs[1].id, 0]]);
    const source = live.ratingSource({ classes: 3, timeoutMs: 5000 });
    const [viaSource] = await Promise.all([source.rate(segs.slice(0, 2)), person('ana', [null, 2])]);
    expect(viaSource.map((l) => [l.segment, l.rating])).toEqual([[segs[1].id, 2]]);
  });

  it('refuses what the page cannot show or rate, and stops waiting when aborted', async () => {
    await expect(live.requestRatings(segs, { classes: 11 })).rejects.toThrow(/rating classes must be an integer in \[2, 10\], got 11/);
    await expect(live.requestRatings(segs, { classes: 1.5 })).rejects.toThrow(/got 1\.5/);
    const { poses: _p, ...bare } = segs[0];
    await expect(live.requestRatings([segs[1], bare], { classes: 3 })).rejects.toThrow(/segment 1: segment reach:0:0:20 has no recorded poses/);
    await expect(live.requestRatings(segs, { classes: 3, fallback: () => 3, timeoutMs: 0 })).rejects.toThrow(/rating fallback rated segment .* 3; expected an integer in \[0, 2\]/);
    const ac = new AbortController();
    const pending = live.requestRatings(segs, { classes: 3, signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toThrow(/requestRatings aborted/);
    // The aborted pool is retired: the page has nothing to offer.
    expect((await (await fetch(`${live.baseUrl}/api/label/next?teacher=ana`)).json()).query).toBeNull();
  });
});
