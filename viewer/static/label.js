// Labeling page: shows two segments (or two videos) side by side, looping in sync, and records
// left / right / equal / skip — or, in rating mode, one segment and a class 1..k. Each answer is
// stored by the server before the next query is shown; keys: 1 / ArrowLeft = left, 2 / ArrowRight
// = right, 3 / ArrowUp / ArrowDown = equal, space = skip, U / Backspace = undo.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { TaskScene, makeCamera, CAMERA_TARGET, getJson, loadGeometry, toTrack, STEPS_PER_SECOND } from './scene.js';

const el = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// Exposed for tests: what is on screen and whether an answer is in flight.
const state = (window.pbrlLabel = { teacher: params.get('teacher'), next: null, busy: false, ready: false, shownAt: 0, speed: 1, views: [], done: false, shownQueries: [] });

const W = 480, H = 360;
const camera = makeCamera(W / H);
let loopStart = performance.now();

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
    controls.target.set(...CAMERA_TARGET);
    controls.update();
    controls.addEventListener('change', () => (cameraMoved = true));
    canvasPool[slot] = { canvas, renderer, controls };
  }
  return canvasPool[slot];
}

function clearStage() {
  for (const v of state.views) v.scene?.dispose();
  state.views = [];
  el('stage').innerHTML = '';
}

function figure(caption) {
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = caption;
  fig.appendChild(cap);
  el('stage').appendChild(fig);
  return fig;
}

async function segmentView(side, caption, slot) {
  const fig = figure(caption);
  fig.id = side.key;
  fig.dataset.segment = side.id;
  if (side.media) {
    const video = document.createElement('video');
    Object.assign(video, { src: side.media, loop: true, muted: true, autoplay: true, playsInline: true });
    fig.appendChild(video);
    await new Promise((resolve, reject) => {
      video.addEventListener('loadeddata', resolve, { once: true });
      video.addEventListener('error', () => reject(new Error(`video for ${side.id} failed to load`)), { once: true });
    });
    return { video };
  }
  const { canvas, renderer, controls } = pooledCanvas(slot);
  fig.appendChild(canvas);
  const payload = await getJson(`/api/segments/${encodeURIComponent(side.id)}`);
  const track = toTrack(payload);
  const scene = new TaskScene(await loadGeometry(payload.task));
  return { renderer, scene, track, controls };
}

function answerButtons(next) {
  const box = el('answers');
  box.innerHTML = '';
  const add = (text, key, fn) => {
    const b = document.createElement('button');
    b.innerHTML = `${text} <kbd>${key}</kbd>`;
    b.addEventListener('click', fn);
    box.appendChild(b);
    return b;
  };
  if (next.kind === 'rating') {
    for (let r = 0; r < next.classes; r++) add(`Rating ${r + 1}`, String(r + 1), () => answer({ rating: r })).dataset.rating = String(r);
    add('Skip', 'space', () => answer({ choice: 'skip' }));
  } else {
    add('Left is better', '1 / ←', () => answer({ choice: 'left' }));
    add('Equal', '3 / ↑↓', () => answer({ choice: 'equal' }));
    add('Right is better', '2 / →', () => answer({ choice: 'right' }));
    add('Skip', 'space', () => answer({ choice: 'skip' }));
  }
}

let pollTimer = null;
async function show(next) {
  state.next = next;
  state.ready = false;
  clearTimeout(pollTimer);
  const p = next.progress;
  el('progress').textContent = next.pool ? `${Math.min(p.done + 1, p.total)} of ${p.total}` : '';
  el('progress').dataset.done = String(p.done);
  el('progress').dataset.total = String(p.total);
  clearStage();
  el('answers').innerHTML = '';
  if (!next.query) {
    state.done = !next.waiting;
    el('status').textContent = next.waiting
      ? 'Waiting for the trainer to ask for more labels…'
      : `All ${p.total} answered — thank you. Labels are saved; export with \`pbrl label --export\`.`;
    if (next.waiting) pollTimer = setTimeout(refresh, 1500);
    return;
  }
  state.done = false;
  el('status').textContent = 'loading…';
  const q = next.query;
  state.shownQueries.push(q.id);
  try {
    if (q.segment) {
      state.views = [await segmentView({ ...q.segment, key: 'single' }, 'Segment', 0)];
    } else {
      state.views = await Promise.all([segmentView({ ...q.left, key: 'left' }, 'Left', 0), segmentView({ ...q.right, key: 'right' }, 'Right', 1)]);
    }
    state.loadFailed = false;
  } catch (e) {
    // Nobody should judge what they could not see: only skip (or undo) is accepted for this query.
    state.loadFailed = true;
    el('error').textContent = `could not load this query: ${e.message} — press space to skip it`;
  }
  answerButtons(next);
  // Restart both loops together so the two clips stay frame-aligned.
  loopStart = performance.now();
  for (const v of state.views) if (v.video) { v.video.currentTime = 0; v.video.play().catch(() => {}); }
  el('status').textContent = '';
  state.shownAt = performance.now();
  state.ready = true;
}

async function refresh() {
  try {
    await show(await getJson(`/api/label/next?teacher=${encodeURIComponent(state.teacher)}`));
  } catch (e) {
    el('error').textContent = e.message;
  }
}

async function post(url, body) {
  return getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function answer(what) {
  const q = state.next?.query;
  if (state.busy || !q || !state.ready) return;
  if (state.loadFailed && what.choice !== 'skip') return;
  state.busy = true;
  el('error').textContent = '';
  try {
    const res = await post('/api/label/answer', { teacher: state.teacher, query: q.id, durationMs: Math.round(performance.now() - state.shownAt), ...what });
    await show(res.next);
  } catch (e) {
    // 409: this person already answered it (another tab): move on instead of stalling.
    if (e.status === 409) await refresh();
    else el('error').textContent = `answer not saved: ${e.message}`;
  } finally {
    state.busy = false;
  }
}

async function undo() {
  if (state.busy) return;
  state.busy = true;
  try {
    const res = await post('/api/label/undo', { teacher: state.teacher });
    el('status').textContent = res.undone ? '' : 'nothing to undo';
    await show(res.next);
  } catch (e) {
    el('error').textContent = `undo failed: ${e.message}`;
  } finally {
    state.busy = false;
  }
}

window.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.repeat) return;
  const next = state.next;
  if (e.key === 'u' || e.key === 'U' || e.key === 'Backspace') { e.preventDefault(); undo(); return; }
  if (!next?.query) return;
  if (e.key === ' ') { e.preventDefault(); answer({ choice: 'skip' }); return; }
  if (next.kind === 'rating') {
    const r = Number(e.key) - 1;
    if (Number.isInteger(r) && r >= 0 && r < next.classes) answer({ rating: r });
    return;
  }
  if (e.key === '1' || e.key === 'ArrowLeft') answer({ choice: 'left' });
  else if (e.key === '2' || e.key === 'ArrowRight') answer({ choice: 'right' });
  else if (e.key === '3' || e.key === 'ArrowUp' || e.key === 'ArrowDown') { e.preventDefault(); answer({ choice: 'equal' }); }
});
el('undo').addEventListener('click', undo);
el('speed').addEventListener('change', (e) => {
  state.speed = Number(e.target.value);
  for (const v of state.views) if (v.video) v.video.playbackRate = state.speed;
  loopStart = performance.now();
});

// At most 30 redraws a second (plus any camera move): plenty to judge motion, and it halves the CPU
// cost on machines that render WebGL in software.
const MIN_FRAME_MS = 1000 / 30;
let lastDraw = 0;
let cameraMoved = false;
function loop(now) {
  const t = ((now - loopStart) / 1000) * STEPS_PER_SECOND * state.speed;
  if (now - lastDraw >= MIN_FRAME_MS || cameraMoved) {
    lastDraw = now;
    cameraMoved = false;
    for (const v of state.views) {
      if (v.scene) {
        v.scene.setFrame(v.track, Math.floor(t) % v.track.frames);
        v.renderer.render(v.scene.scene, camera);
      }
    }
  }
  // Keep the right video on the left one's clock (looping videos drift apart otherwise).
  const vids = state.views.filter((v) => v.video).map((v) => v.video);
  if (vids.length === 2 && Math.abs(vids[0].currentTime - vids[1].currentTime) > 0.15) vids[1].currentTime = vids[0].currentTime;
  requestAnimationFrame(loop);
}

async function main() {
  const info = await getJson('/api/info');
  if (info.labeling?.instructions) el('instructions').textContent = info.labeling.instructions;
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
  requestAnimationFrame(loop);
  await refresh();
}
main().catch((e) => (el('error').textContent = e.message));
