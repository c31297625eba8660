// Labeling page: shows two segments (or two videos) side by side and records left / right / equal /
// both bad / can't tell / skip — or, in rating mode, one segment and a level 1..k — with an optional
// confidence. Each answer is stored by the server before the next query is shown.
//
// Playback: every clip has its own playhead (pause, scrub, frame step, restart). Playing clips share
// one loop whose period is the longest clip: a shorter clip plays to its own end and holds its last
// frame until the longer one ends, then both restart together, so the two stay frame-aligned.
//
// A pair counts as shown only once every clip of it has loaded; until then (and while the server is
// unreachable) no answer is accepted and nothing of the previous pair stays on screen.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { TaskScene, makeCamera, applyCamera, getJson, loadGeometry, toTrack, STEPS_PER_SECOND } from './scene.js';

const el = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// Exposed for tests: what is on screen and whether an answer is in flight.
const state = (window.pbrlLabel = {
  teacher: params.get('teacher')?.trim() || null,
  next: null,
  busy: false,
  ready: false,
  shownId: null,
  shownAt: 0,
  speed: 1,
  views: [],
  done: false,
  shownQueries: [],
  loadError: null,
  offline: false,
  confidence: null,
  history: [],
  cameraTask: undefined,
});

const W = 480, H = 360;
const camera = makeCamera(W / H);
state.cameraPosition = () => camera.position.toArray();
/** Seconds a video frame step moves (the manifests carry no frame rate; 25 fps is what clips writes). */
const VIDEO_STEP = 1 / 25;

// Two canvases with their renderers, made once and reused for every query: creating WebGL contexts
// per pair is slow and browsers cap how many can be alive.
const canvasPool = [];
function pooledCanvas(slot) {
  if (!canvasPool[slot]) {
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    renderer.setSize(W, H, false);
    // Both views share one camera, so orbiting either one turns both the same way.
    const controls = new OrbitControls(camera, canvas);
    applyCamera(camera, undefined, controls);
    controls.addEventListener('change', () => (cameraMoved = true));
    canvasPool[slot] = { canvas, renderer, controls };
  }
  return canvasPool[slot];
}

function clearStage() {
  for (const v of state.views) v.scene?.dispose();
  for (const v of state.views) if (v.video) { v.video.pause(); v.video.removeAttribute('src'); v.video.load(); }
  state.views = [];
  el('stage').innerHTML = '';
}

/** Loads one side without touching the page; the caller puts it on stage only when all sides loaded. */
async function loadSide(side, slot) {
  if (side.media) {
    const video = document.createElement('video');
    Object.assign(video, { src: side.media, loop: false, muted: true, autoplay: false, playsInline: true, preload: 'auto' });
    await new Promise((resolve, reject) => {
      video.addEventListener('loadeddata', resolve, { once: true });
      video.addEventListener('error', async () => {
        // The element's error says nothing useful; ask the server what is wrong with the file.
        let why = 'could not be played';
        try {
          const r = await fetch(side.media, { headers: { range: 'bytes=0-0' } });
          if (!r.ok) why = (await r.json().catch(() => ({}))).error || `${r.status} ${r.statusText}`;
        } catch (e) {
          why = `server unreachable (${e.message})`;
        }
        reject(new Error(`video for ${side.id}: ${why}`));
      }, { once: true });
    });
    video.playbackRate = state.speed;
    return { key: side.key, id: side.id, video, clock: { pos: 0, playing: true, len: video.duration, unit: 's' } };
  }
  const payload = await getJson(`/api/segments/${encodeURIComponent(side.id)}`);
  const track = toTrack(payload);
  const scene = new TaskScene(await loadGeometry(payload.task));
  const { canvas, renderer, controls } = pooledCanvas(slot);
  return { key: side.key, id: side.id, canvas, renderer, scene, track, controls, camera: payload.camera, task: payload.task, clock: { pos: 0, playing: true, len: track.frames, unit: 'frame' } };
}

function button(text, title, fn) {
  const b = document.createElement('button');
  b.type = 'button';
  b.innerHTML = text;
  if (title) b.title = title;
  // Blur after a mouse click so the answer keys keep working (a focused button would take space).
  b.addEventListener('click', (e) => { fn(e); b.blur(); });
  return b;
}

/** One clip's figure: caption, canvas or video, and its own playback controls with a loop indicator. */
function figure(view, caption) {
  const fig = document.createElement('figure');
  fig.id = view.key;
  fig.dataset.segment = view.id;
  const cap = document.createElement('figcaption');
  cap.textContent = caption;
  fig.appendChild(cap);
  fig.appendChild(view.video ?? view.canvas);
  const bar = document.createElement('div');
  bar.className = 'clipbar';
  const play = button('pause', 'pause / play this clip', () => setPlaying(view, !view.clock.playing));
  play.className = 'clip-play';
  const restart = button('restart', 'restart this clip', () => seek(view, 0));
  restart.className = 'clip-restart';
  const back = button('◀', 'one frame back (pauses)', () => step(view, -1));
  back.className = 'clip-back';
  const fwd = button('▶', 'one frame on (pauses)', () => step(view, 1));
  fwd.className = 'clip-fwd';
  const scrub = document.createElement('input');
  Object.assign(scrub, { type: 'range', min: '0', max: String(maxPos(view)), step: view.video ? String(VIDEO_STEP) : '1', value: '0', className: 'clip-scrub' });
  scrub.title = 'scrub this clip (pauses it)';
  scrub.addEventListener('input', () => { setPlaying(view, false); seek(view, Number(scrub.value)); });
  scrub.addEventListener('change', () => scrub.blur());
  const where = document.createElement('span');
  where.className = 'clip-where';
  // Where this clip is in the shared loop (the longest clip's length).
  const inLoop = document.createElement('progress');
  inLoop.className = 'clip-loop';
  inLoop.max = 1;
  inLoop.title = 'position in the shared loop';
  bar.append(play, restart, back, fwd, scrub, where);
  fig.append(bar, inLoop);
  Object.assign(view, { fig, playBtn: play, scrub, where, inLoop });
  el('stage').appendChild(fig);
}

const maxPos = (view) => (view.video ? view.clock.len : view.clock.len - 1);
function setPlaying(view, playing) {
  view.clock.playing = playing;
  view.playBtn.textContent = playing ? 'pause' : 'play';
  if (view.video && !playing) view.video.pause();
}
function seek(view, pos) {
  view.clock.pos = Math.max(0, Math.min(pos, loopLength() - (view.video ? 1e-3 : 1)));
  if (view.video) view.video.currentTime = Math.min(view.clock.pos, view.clock.len);
  cameraMoved = true;
}
function step(view, dir) {
  setPlaying(view, false);
  const unit = view.video ? VIDEO_STEP : 1;
  seek(view, Math.round(Math.min(view.clock.pos, maxPos(view)) / unit + dir) * unit);
}
/** The shared loop: the longest clip's length (frames for segments, seconds for videos). */
function loopLength() {
  return Math.max(...state.views.map((v) => v.clock.len));
}

function answerButtons(next) {
  const box = el('answers');
  box.innerHTML = '';
  const add = (text, key, what) => {
    const b = button(`${text} <kbd>${key}</kbd>`, null, () => answer(what));
    box.appendChild(b);
    return b;
  };
  if (next.kind === 'rating') {
    const names = next.levelNames;
    for (let r = 0; r < next.classes; r++) add(names ? `${r + 1} — ${names[r]}` : `Rating ${r + 1}`, String(r + 1), { rating: r }).dataset.rating = String(r);
    add('Skip', 'space', { choice: 'skip' }).dataset.choice = 'skip';
    el('rating-note').textContent = `Levels 1..${next.classes} from worst to best${names ? '' : ''}; exports store them as 0..${next.classes - 1} (level 1 = rating 0)${names ? ', with the level name' : ''}.`;
  } else {
    el('rating-note').textContent = '';
    add('Left is better', '1 / ←', { choice: 'left' }).dataset.choice = 'left';
    add('Equal', '3 / ↑↓', { choice: 'equal' }).dataset.choice = 'equal';
    add('Right is better', '2 / →', { choice: 'right' }).dataset.choice = 'right';
    add('Both bad', '4 / B', { choice: 'both-bad' }).dataset.choice = 'both-bad';
    add("Can't tell", '5 / C', { choice: 'cant-tell' }).dataset.choice = 'cant-tell';
    add('Skip', 'space', { choice: 'skip' }).dataset.choice = 'skip';
  }
}

function setConfidence(level) {
  state.confidence = state.confidence === level ? null : level;
  for (const b of document.querySelectorAll('#confidence button')) b.classList.toggle('on', b.dataset.level === state.confidence);
}

let pollTimer = null;
let retryTimer = null;
let retryDelay = 1000;
let showSeq = 0;

async function show(next) {
  const seq = ++showSeq;
  state.next = next;
  state.ready = false;
  state.shownId = null;
  clearTimeout(pollTimer);
  clearTimeout(retryTimer);
  const p = next.progress;
  el('progress').textContent = next.pool ? `${Math.min(p.done + 1, p.total)} of ${p.total}` : '';
  el('progress').dataset.done = String(p.done);
  el('progress').dataset.total = String(p.total);
  // Take the previous pair off screen before anything else, so nothing stale is ever judged.
  clearStage();
  el('answers').innerHTML = '';
  el('load-error').hidden = true;
  el('similar-note').hidden = true;
  if (!next.query) {
    state.done = !next.waiting;
    el('instructions').textContent = state.instructions ?? '';
    el('status').textContent = next.waiting
      ? 'Waiting for the trainer to ask for more labels…'
      : `All ${p.total} answered — thank you. Labels are saved; export them with: ${next.exportCommand}`;
    if (next.waiting) pollTimer = setTimeout(refresh, 1500);
    return;
  }
  state.done = false;
  el('status').textContent = 'loading…';
  const q = next.query;
  el('instructions').textContent = state.instructions ?? q.question ?? '';
  let views;
  try {
    const sides = q.segment ? [[{ ...q.segment, key: 'single' }, 'Segment']] : [[{ ...q.left, key: 'left' }, 'Left'], [{ ...q.right, key: 'right' }, 'Right']];
    views = await Promise.all(sides.map(([side], i) => loadSide(side, i)));
    if (seq !== showSeq) return;
    views.forEach((v, i) => (v.caption = sides[i][1]));
  } catch (e) {
    if (seq !== showSeq) return;
    loadFailed(e);
    return;
  }
  state.loadError = null;
  retryDelay = 1000;
  state.views = views;
  state.shownQueries.push(q.id);
  // A new task gets its camera preset; the same task keeps where the person turned the camera.
  const seg = views.find((v) => v.scene);
  if (seg && seg.task !== state.cameraTask) {
    applyCamera(camera, seg.camera, seg.controls);
    for (const v of views) v.controls?.target.copy(seg.controls.target);
    state.cameraTask = seg.task;
  }
  for (const v of views) figure(v, v.caption);
  // Flagged by the server: the two segments hardly differ (e.g. two still scenes).
  el('similar-note').hidden = !q.similar;
  if (q.similar) el('similar-note').textContent = `These two clips differ by only ${(q.similar.metres * 1000).toFixed(1)} mm on average and may look the same: "Equal" or "Can't tell" are fine answers.`;
  drawAll(0);
  answerButtons(next);
  setConfidence(null);
  el('status').textContent = '';
  el('error').textContent = '';
  state.shownAt = performance.now();
  state.shownId = q.id;
  state.ready = true;
}

/** A query that did not load: say so, show nothing of it, accept no answer, retry by itself and on a click. */
function loadFailed(e) {
  clearStage();
  state.loadError = e.message;
  el('status').textContent = '';
  el('answers').innerHTML = '';
  el('load-error').hidden = false;
  el('load-error-text').textContent = `Could not load this pair: ${e.message}. No answer can be given until it shows. Retrying in ${Math.round(retryDelay / 1000)} s…`;
  retryTimer = setTimeout(retryNow, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 8000);
}

function retryNow() {
  clearTimeout(retryTimer);
  el('load-error-text').textContent = 'Retrying…';
  refresh();
}

async function refresh() {
  try {
    await show(await getJson(`/api/label/next?teacher=${encodeURIComponent(state.teacher)}`));
    state.offline = false;
    loadHistory();
  } catch (e) {
    loadFailed(e);
  }
}

async function post(url, body) {
  return getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** The server did not answer (killed, restarting, network): nothing was confirmed, so reload what it has when it is back. */
function lostServer(what, e) {
  state.ready = false;
  state.offline = true;
  el('error').textContent = `${what} not confirmed: the server did not answer (${e.message}). Reconnecting…`;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(reconnect, retryDelay);
}
async function reconnect() {
  try {
    await getJson('/api/info');
  } catch {
    retryDelay = Math.min(retryDelay * 2, 4000);
    retryTimer = setTimeout(reconnect, retryDelay);
    return;
  }
  retryDelay = 1000;
  el('error').textContent = 'Reconnected; showing the first pair the server has open for you (an answer it stored is not asked again).';
  await refresh();
}

async function answer(what) {
  const q = state.next?.query;
  // Only the pair on screen, fully loaded, can be answered.
  if (state.busy || !q || !state.ready || state.shownId !== q.id) return;
  state.busy = true;
  el('error').textContent = '';
  const body = { teacher: state.teacher, query: q.id, durationMs: Math.round(performance.now() - state.shownAt), ...what };
  if (state.confidence && what.choice !== 'skip') body.confidence = state.confidence;
  try {
    const res = await post('/api/label/answer', body);
    el('status').textContent = '';
    await show(res.next);
    loadHistory();
  } catch (e) {
    // 409: answered already (another tab, or before the server went down) or handed to someone else: move on.
    if (e.status === 409) {
      el('error').textContent = e.message;
      await refresh();
    } else if (e.status === undefined || e.status >= 500) lostServer('answer', e);
    else el('error').textContent = `answer not saved: ${e.message}`;
  } finally {
    state.busy = false;
  }
}

async function undo(query) {
  if (state.busy) return;
  state.busy = true;
  try {
    const res = await post('/api/label/undo', { teacher: state.teacher, ...(query !== undefined ? { query } : {}) });
    await show(res.next);
    el('status').textContent = res.undone ? `${query !== undefined ? 'Changing' : 'Undid'} your answer to this pair (you had answered: ${res.previous}). Answer it again.` : 'nothing to undo';
    state.lastPrevious = res.previous;
    loadHistory();
  } catch (e) {
    if (e.status === undefined || e.status >= 500) lostServer('undo', e);
    else el('error').textContent = `undo failed: ${e.message}`;
  } finally {
    state.busy = false;
  }
}

async function loadHistory() {
  try {
    const h = await getJson(`/api/label/history?teacher=${encodeURIComponent(state.teacher)}`);
    state.history = h.answers;
    const list = el('history-list');
    list.innerHTML = '';
    el('history-count').textContent = String(h.answers.length);
    for (const a of h.answers) {
      const li = document.createElement('li');
      li.dataset.query = String(a.query);
      const t = new Date(a.time).toLocaleTimeString();
      li.append(`#${a.query} · ${a.answer} · ${t} `);
      li.appendChild(button('change', 'show this pair again and answer it anew (the old answer is kept on record as undone)', () => undo(a.query)));
      list.appendChild(li);
    }
  } catch {
    // The review list is a convenience; the next successful call fills it.
  }
}

window.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement && e.target.type === 'text') return;
  if (e.target instanceof HTMLSelectElement || e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
  const next = state.next;
  if (e.key === 'u' || e.key === 'U' || e.key === 'Backspace') { e.preventDefault(); undo(); return; }
  if (!next?.query) return;
  if (e.key === 'l' || e.key === 'm' || e.key === 'h') { setConfidence({ l: 'low', m: 'medium', h: 'high' }[e.key]); return; }
  if (e.key === ' ') { e.preventDefault(); answer({ choice: 'skip' }); return; }
  if (next.kind === 'rating') {
    const r = Number(e.key) - 1;
    if (Number.isInteger(r) && r >= 0 && r < next.classes) answer({ rating: r });
    return;
  }
  if (e.key === '1' || e.key === 'ArrowLeft') { e.preventDefault(); answer({ choice: 'left' }); }
  else if (e.key === '2' || e.key === 'ArrowRight') { e.preventDefault(); answer({ choice: 'right' }); }
  else if (e.key === '3' || e.key === 'ArrowUp' || e.key === 'ArrowDown') { e.preventDefault(); answer({ choice: 'equal' }); }
  else if (e.key === '4' || e.key === 'b' || e.key === 'B') answer({ choice: 'both-bad' });
  else if (e.key === '5' || e.key === 'c' || e.key === 'C') answer({ choice: 'cant-tell' });
});
el('undo').addEventListener('click', (e) => { e.currentTarget.blur(); undo(); });
el('retry').addEventListener('click', (e) => { e.currentTarget.blur(); retryNow(); });
for (const b of document.querySelectorAll('#confidence button')) b.addEventListener('click', () => { setConfidence(b.dataset.level); b.blur(); });
el('restart-all').addEventListener('click', (e) => {
  e.currentTarget.blur();
  for (const v of state.views) { seek(v, 0); setPlaying(v, true); }
});
el('speed').addEventListener('change', (e) => {
  state.speed = Number(e.target.value);
  for (const v of state.views) if (v.video) v.video.playbackRate = state.speed;
  // Give the keys back to labelling: a focused menu would turn 1/2 and the arrows into menu picks.
  e.target.blur();
});

// At most 30 redraws a second (plus any camera move): plenty to judge motion, and it halves the CPU
// cost on machines that render WebGL in software.
const MIN_FRAME_MS = 1000 / 30;
let lastDraw = 0;
let lastTick = performance.now();
let cameraMoved = false;

/** Advances every playing clip on the shared loop; all playing clips wrap together at its end. */
function tick(now) {
  const dt = Math.min(0.25, (now - lastTick) / 1000) * state.speed;
  lastTick = now;
  if (state.views.length === 0) return;
  const L = loopLength();
  const playing = state.views.filter((v) => v.clock.playing);
  for (const v of playing) v.clock.pos += dt * (v.video ? 1 : STEPS_PER_SECOND);
  // Wrap when the playing clip furthest along reaches the loop's end, all at once, so clips that
  // started together stay together; each keeps its own offset (a restarted or scrubbed one).
  const over = playing.filter((v) => v.clock.pos >= L);
  if (over.length) for (const v of playing) v.clock.pos = v.clock.pos >= L ? v.clock.pos - L : v.clock.pos;
  for (const v of state.views) if (v.video) syncVideo(v, over.includes(v));
}

function syncVideo(v, wrapped) {
  const { video, clock } = v;
  const end = clock.len;
  if (wrapped) video.currentTime = clock.pos;
  if (!clock.playing) return;
  if (clock.pos >= end - 0.02) {
    // Its own end came first: hold the last frame until the shared loop wraps.
    if (!video.paused) video.pause();
    return;
  }
  if (Math.abs(video.currentTime - clock.pos) > 0.2) video.currentTime = clock.pos;
  if (video.paused) video.play().catch(() => {});
}

function drawAll(now) {
  for (const v of state.views) {
    const shown = v.video ? Math.min(v.clock.pos, v.clock.len) : Math.min(Math.floor(v.clock.pos), v.clock.len - 1);
    v.shown = shown;
    if (v.scene) {
      v.scene.setFrame(v.track, shown);
      v.renderer.render(v.scene.scene, camera);
    }
    if (v.where) {
      const held = v.clock.pos >= (v.video ? v.clock.len - 0.02 : v.clock.len - 1) && v.clock.playing && loopLength() > (v.video ? v.clock.len + 0.05 : v.clock.len);
      v.where.textContent = v.video
        ? `${shown.toFixed(2)} / ${v.clock.len.toFixed(2)} s${held ? ' (end, holding)' : ''}`
        : `frame ${shown + 1} / ${v.clock.len}${held ? ' (end, holding)' : ''}`;
      if (document.activeElement !== v.scrub) v.scrub.value = String(shown);
      v.inLoop.value = v.clock.pos / loopLength();
    }
  }
  lastDraw = now;
}

function loop(now) {
  tick(now);
  if (now - lastDraw >= MIN_FRAME_MS || cameraMoved) {
    cameraMoved = false;
    drawAll(now);
  }
  requestAnimationFrame(loop);
}

async function main() {
  const info = await getJson('/api/info');
  if (info.labeling?.instructions) state.instructions = info.labeling.instructions;
  if (!state.teacher) {
    el('name-form').hidden = false;
    await new Promise((resolve) =>
      el('name-form').addEventListener('submit', (e) => {
        e.preventDefault();
        state.teacher = el('name').value.trim();
        if (!state.teacher) return;
        history.replaceState(null, '', `?teacher=${encodeURIComponent(state.teacher)}`);
        el('name-form').hidden = true;
        resolve();
      }),
    );
  }
  el('who').textContent = `labeller: ${state.teacher}`;
  el('progress-link').href = '/progress';
  requestAnimationFrame(loop);
  await refresh();
}
main().catch((e) => (el('error').textContent = e.message));
