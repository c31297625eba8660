// Shared by the replay viewer, the labeling page and the headless clip renderer: rebuilds a task's
// scene from its SceneGeometry JSON (envs/geometry.ts) and poses every body from a recorded frame.
// World frame is Meta-World's (z up, metres, table top at z = 0), so the camera's up is +z.
import * as THREE from 'three';

/** Default steps per second at speed 1: the env's control rate (2.5 ms physics x 5 substeps). */
export const STEPS_PER_SECOND = 80;

export function decodePoses(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

function shapeGeometry(shape) {
  switch (shape.kind) {
    case 'box': {
      const [x, y, z] = shape.halfExtents;
      return new THREE.BoxGeometry(2 * x, 2 * y, 2 * z);
    }
    // three's cylinders and capsules run along y; the geometry JSON's run along z.
    case 'cylinder':
      return new THREE.CylinderGeometry(shape.radius, shape.radius, 2 * shape.halfHeight, 24).rotateX(Math.PI / 2);
    case 'capsule':
      return new THREE.CapsuleGeometry(shape.radius, 2 * shape.halfHeight, 4, 12).rotateX(Math.PI / 2);
    case 'sphere':
      return new THREE.SphereGeometry(shape.radius, 20, 14);
    default:
      throw new Error(`unknown shape kind ${shape.kind}`);
  }
}

export class TaskScene {
  constructor(geometry) {
    this.geometry = geometry;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color('#e8ecef');
    this.scene.add(new THREE.AmbientLight(0xffffff, 0.9));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(0.6, -0.4, 1.5);
    this.scene.add(sun);
    // A floor under the table so the view has a horizon to read depth against.
    const floor = new THREE.Mesh(new THREE.PlaneGeometry(6, 6), new THREE.MeshStandardMaterial({ color: '#cfd6dc' }));
    floor.position.set(0, 0.6, -0.75);
    this.scene.add(floor);
    this.groups = new Map();
    for (const name of geometry.bodies) {
      const g = new THREE.Group();
      g.name = name;
      this.groups.set(name, g);
      this.scene.add(g);
    }
    for (const v of geometry.visuals) {
      const opacity = v.opacity ?? 1;
      const mat = new THREE.MeshStandardMaterial({ color: v.color, transparent: opacity < 1, opacity, roughness: 0.7 });
      const mesh = new THREE.Mesh(shapeGeometry(v.shape), mat);
      mesh.position.set(...v.position);
      mesh.quaternion.set(...v.quaternion);
      let g = this.groups.get(v.body);
      if (!g) {
        g = new THREE.Group();
        this.groups.set(v.body, g);
        this.scene.add(g);
      }
      g.add(mesh);
    }
  }

  /** Frees the GPU buffers of this scene's meshes (the renderer itself is reused). */
  dispose() {
    this.scene.traverse((o) => {
      if (o.isMesh) {
        o.geometry.dispose();
        o.material.dispose();
      }
    });
  }

  /** Poses every body from frame `f` of a track (bodyNames order may differ from the geometry's). */
  setFrame(track, f) {
    const n = track.bodyNames.length;
    const frame = Math.max(0, Math.min(track.frames - 1, f));
    const base = frame * n * 7;
    const d = track.data;
    for (let i = 0; i < n; i++) {
      const g = this.groups.get(track.bodyNames[i]);
      if (!g) continue;
      const k = base + i * 7;
      g.position.set(d[k], d[k + 1], d[k + 2]);
      g.quaternion.set(d[k + 3], d[k + 4], d[k + 5], d[k + 6]);
    }
  }
}

/**
 * The default view: from the front-right, looking at the middle of the table's working area. A
 * task's preset (viewer/task-presets.ts, sent with each segment as `camera`) replaces it.
 */
export function makeCamera(aspect, preset) {
  const cam = new THREE.PerspectiveCamera(40, aspect, 0.01, 20);
  cam.up.set(0, 0, 1);
  applyCamera(cam, preset);
  return cam;
}
export const CAMERA_TARGET = [0, 0.62, 0.08];
const DEFAULT_POSITION = [0.6, 0.1, 0.5];

export function applyCamera(cam, preset, controls) {
  const target = preset?.target ?? CAMERA_TARGET;
  cam.position.set(...(preset?.position ?? DEFAULT_POSITION));
  cam.lookAt(...target);
  if (controls) {
    controls.target.set(...target);
    controls.update();
  }
}

/** Fetches JSON and turns a non-2xx reply into an Error carrying the server's message. */
export async function getJson(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.error || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

const geometryCache = new Map();
export async function loadGeometry(task) {
  if (!geometryCache.has(task)) geometryCache.set(task, getJson(`/api/geometry/${encodeURIComponent(task)}`));
  return geometryCache.get(task);
}

/** A replay payload from the server with its poses decoded. */
export function toTrack(payload) {
  return { ...payload, data: decodePoses(payload.poses) };
}
