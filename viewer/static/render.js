// Headless clip renderer, driven by viewer/clips.ts through playwright: renders on demand (no
// animation loop) and hands frames back as PNG data URLs, a batch per call, which the recipe in
// reference/headless-clips.md measured as the fastest way out of headless chromium.
import * as THREE from 'three';
import { TaskScene, makeCamera, getJson, loadGeometry, toTrack } from './scene.js';

const canvas = document.getElementById('clip');
// antialias off: it cost ~25 % of the frame rate in the measurements, and clips are small anyway.
const renderer = new THREE.WebGLRenderer({ canvas, antialias: false, preserveDrawingBuffer: true });
renderer.setScissorTest(true);
let views = [];
let size = { width: 640, height: 480 };

window.pbrlRender = {
  /** Loads one segment (or two, side by side); returns the number of frames the clip will have. */
  async load(ids, width, height) {
    size = { width, height };
    renderer.setSize(width * ids.length, height, false);
    views = [];
    for (const id of ids) {
      const payload = await getJson(`/api/segments/${encodeURIComponent(id)}`);
      // Each view from its task's camera preset (the same one the labeling page uses).
      views.push({ track: toTrack(payload), scene: new TaskScene(await loadGeometry(payload.task)), camera: makeCamera(width / height, payload.camera) });
    }
    return Math.max(...views.map((v) => v.track.frames));
  },
  /** Renders frames [start, start + count); a shorter segment holds its last frame. */
  frames(start, count) {
    const out = [];
    for (let f = start; f < start + count; f++) {
      views.forEach((v, i) => {
        renderer.setViewport(i * size.width, 0, size.width, size.height);
        renderer.setScissor(i * size.width, 0, size.width, size.height);
        v.scene.setFrame(v.track, f);
        renderer.render(v.scene.scene, v.camera);
      });
      // A dark 2-pixel divider between the two views of a pair.
      for (let i = 1; i < views.length; i++) {
        renderer.setScissor(i * size.width - 1, 0, 2, size.height);
        renderer.setClearColor(0x222222, 1);
        renderer.clear();
      }
      out.push(canvas.toDataURL('image/png'));
    }
    return out;
  },
  info() {
    const gl = renderer.getContext();
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return { renderer: ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER) };
  },
};
window.pbrlRenderReady = true;
