/**
 * Rapier loader. The compat build carries its WASM inline and must be initialised once per process
 * before any World is created; everything in envs/ goes through `initPhysics()` so callers cannot
 * forget, and a second call costs nothing.
 */
import RAPIER from '@dimforge/rapier3d-compat';

export type Rapier = typeof RAPIER;

let loading: Promise<Rapier> | null = null;
let loaded: Rapier | null = null;

export function initPhysics(): Promise<Rapier> {
  if (!loading) {
    loading = RAPIER.init().then(() => {
      loaded = RAPIER;
      return RAPIER;
    });
  }
  return loading;
}

/** The initialised module; throws a clear error when `initPhysics()` was not awaited first. */
export function rapier(): Rapier {
  if (!loaded) throw new Error('Rapier is not initialised: await initPhysics() (or use makeEnv) before creating an env');
  return loaded;
}

export function physicsVersion(): string {
  return rapier().version();
}
