// Replay page: pick an episode, play / pause / scrub / change speed, orbit the camera; the step's
// reward and success are shown beside the scene.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { TaskScene, makeCamera, applyCamera, CAMERA_TARGET, getJson, loadGeometry, toTrack, STEPS_PER_SECOND } from './scene.js';

const canvas = document.getElementById('view');
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.setSize(canvas.width, canvas.height, false);
const camera = makeCamera(canvas.width / canvas.height);
const controls = new OrbitControls(camera, canvas);
controls.target.set(...CAMERA_TARGET);
controls.update();

const el = (id) => document.getElementById(id);
// Exposed for tests and for poking at from the devtools console.
const state = (window.pbrlViewer = { ready: false, episode: null, frame: 0, playing: false, speed: 1, track: null, scene: null, framesDrawn: 0 });
let clock = 0; // fractional frame position while playing
let dirty = true;
let drawnFrame = -1;
controls.addEventListener('change', () => (dirty = true));

// Reward over the whole episode, success steps shaded, a line at the current step.
function drawPlot() {
  const t = state.track;
  const c = el('plot');
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  if (!t || t.length === 0) return;
  let lo = Math.min(0, ...t.rewards);
  let hi = Math.max(...t.rewards);
  if (hi - lo < 1e-9) hi = lo + 1;
  const x = (i) => (i / t.length) * c.width;
  const y = (r) => c.height - 4 - ((r - lo) / (hi - lo)) * (c.height - 8);
  g.fillStyle = 'rgba(39, 174, 96, 0.18)';
  for (let i = 0; i < t.length; i++) if (t.success[i]) g.fillRect(Math.floor(x(i)), 0, Math.ceil(x(i + 1)) - Math.floor(x(i)), c.height);
  g.strokeStyle = '#2c3e50';
  g.beginPath();
  t.rewards.forEach((r, i) => (i ? g.lineTo(x(i + 1), y(r)) : g.moveTo(x(1), y(r))));
  g.stroke();
  g.strokeStyle = '#c0392b';
  g.beginPath();
  g.moveTo(x(state.frame), 0);
  g.lineTo(x(state.frame), c.height);
  g.stroke();
  g.fillStyle = '#555';
  g.fillText(`reward ${lo.toFixed(2)}..${hi.toFixed(2)}`, 4, 12);
}

function showStep() {
  const t = state.track;
  if (!t) return;
  drawPlot();
  const f = state.frame;
  // Frame f is the state after f actions; the reward shown is the one the last action earned.
  const step = Math.max(0, f - 1);
  const r = f > 0 ? t.rewards[step] : null;
  const s = f > 0 ? t.success[step] === 1 : false;
  el('scrub').value = String(f);
  el('stats').innerHTML =
    `step <b>${f}</b> / ${t.length} &nbsp; reward <b>${r === null ? '–' : r.toFixed(4)}</b> &nbsp; ` +
    `success <b class="${s ? 'success' : ''}">${f > 0 ? (s ? 'yes' : 'no') : '–'}</b>`;
}

async function openEpisode(index) {
  el('error').textContent = '';
  try {
    const payload = await getJson(`/api/episodes/${index}`);
    const geometry = await loadGeometry(payload.task);
    state.track = toTrack(payload);
    // The task's camera preset when the task changes (viewer/task-presets.ts); same task: keep the view.
    if (payload.task !== state.cameraTask) {
      applyCamera(camera, payload.camera, controls);
      state.cameraTask = payload.task;
    }
    state.cameraPreset = payload.camera;
    state.scene?.dispose();
    state.scene = new TaskScene(geometry);
    state.episode = index;
    state.frame = 0;
    dirty = true;
    clock = 0;
    el('scrub').max = String(state.track.frames - 1);
    for (const li of document.querySelectorAll('#episodes li')) li.classList.toggle('active', Number(li.dataset.index) === index);
    showStep();
    state.ready = true;
  } catch (e) {
    el('error').textContent = `could not load episode ${index}: ${e.message}`;
  }
}

function setPlaying(on) {
  state.playing = on;
  el('play').textContent = on ? 'Pause' : 'Play';
  if (on && state.track && state.frame >= state.track.frames - 1) {
    state.frame = 0;
    clock = 0;
  }
}

el('play').addEventListener('click', () => setPlaying(!state.playing));
el('scrub').addEventListener('input', (e) => {
  state.frame = Number(e.target.value);
  clock = state.frame;
  showStep();
});
el('plot').addEventListener('click', (e) => {
  if (!state.track) return;
  const r = e.target.getBoundingClientRect();
  state.frame = Math.max(0, Math.min(state.track.frames - 1, Math.round(((e.clientX - r.left) / r.width) * state.track.length)));
  clock = state.frame;
  showStep();
});
el('speed').addEventListener('change', (e) => {
  state.speed = Number(e.target.value);
  // Give space and the arrows back to the player (a focused menu would take them).
  e.target.blur();
});
el('reset-camera').addEventListener('click', (e) => {
  applyCamera(camera, state.cameraPreset, controls);
  e.currentTarget.blur();
});
window.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
  if (e.key === ' ') { e.preventDefault(); setPlaying(!state.playing); }
  if (e.key === 'ArrowRight' && state.track) { state.frame = Math.min(state.track.frames - 1, state.frame + 1); clock = state.frame; showStep(); }
  if (e.key === 'ArrowLeft' && state.track) { state.frame = Math.max(0, state.frame - 1); clock = state.frame; showStep(); }
});

let last = performance.now();
function loop(now) {
  const dt = (now - last) / 1000;
  last = now;
  if (state.track && state.playing) {
    clock += dt * STEPS_PER_SECOND * state.speed;
    const f = Math.min(state.track.frames - 1, Math.floor(clock));
    if (f !== state.frame) { state.frame = f; showStep(); }
    if (f >= state.track.frames - 1) setPlaying(false);
  }
  // Redraw only when something changed: a new step, a camera move or a new episode. An idle page
  // then costs nothing, which matters where WebGL runs in software.
  if (state.scene && (dirty || state.frame !== drawnFrame)) {
    state.scene.setFrame(state.track, state.frame);
    renderer.render(state.scene.scene, camera);
    drawnFrame = state.frame;
    dirty = false;
    state.framesDrawn++;
  }
  requestAnimationFrame(loop);
}

async function main() {
  const { run, episodes } = await getJson('/api/episodes');
  el('run').textContent = `${run} — ${episodes.length} episodes`;
  const ul = el('episodes');
  for (const ep of episodes) {
    const li = document.createElement('li');
    li.dataset.index = String(ep.index);
    li.innerHTML = `#${ep.index} ${ep.task} seed ${ep.seed}<br><small>${ep.length} steps, return ${ep.return}${ep.success ? ' <span class="ok">success</span>' : ''}</small>`;
    li.addEventListener('click', () => openEpisode(ep.index));
    ul.appendChild(li);
  }
  requestAnimationFrame(loop);
  const first = episodes.find((e) => e.poses);
  if (first) await openEpisode(first.index);
  else el('error').textContent = 'no episode in this run has recorded poses';
}
main().catch((e) => (el('error').textContent = e.message));
