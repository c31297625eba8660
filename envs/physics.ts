/**
 * Rapier loader. The compat builds carry their WASM inline and must be initialised once per process
 * before any World is created; everything in envs/ goes through `initPhysics()` so callers cannot
 * forget, and a second call costs nothing.
 *
 * Two builds: `@dimforge/rapier3d-simd-compat` 0.20 (WASM SIMD; ~1.5-2x the env steps/s of the
 * plain build here) and `@dimforge/rapier3d-compat` 0.21. PBRL_PHYSICS=simd|compat picks one; the
 * default is simd, falling back to compat when the simd package is not installed. Each build reruns
 * bit-identically, but their bits differ from each other, so a run records which one it used
 * (`physicsInfo()`); replays that must match bit for bit need the same build.
 */
import COMPAT from '@dimforge/rapier3d-compat';

export type Rapier = typeof COMPAT;
export type PhysicsBuild = 'simd' | 'compat';

const SIMD_PACKAGE = '@dimforge/rapier3d-simd-compat';

let loading: Promise<Rapier> | null = null;
let loaded: Rapier | null = null;
let loadedBuild: PhysicsBuild | null = null;

export function initPhysics(): Promise<Rapier> {
  if (!loading) {
    loading = (async () => {
      const want = process.env.PBRL_PHYSICS ?? 'simd';
      if (want !== 'simd' && want !== 'compat') {
        throw new Error(`PBRL_PHYSICS must be "simd" or "compat", got "${want}"`);
      }
      let mod: Rapier = COMPAT;
      let build: PhysicsBuild = 'compat';
      if (want === 'simd') {
        try {
          // A variable specifier: the simd package is optional at type-check time.
          const name = SIMD_PACKAGE;
          mod = ((await import(name)) as { default: Rapier }).default;
          build = 'simd';
        } catch {
          mod = COMPAT;
        }
      }
      await mod.init();
      loaded = mod;
      loadedBuild = build;
      return mod;
    })();
  }
  return loading;
}

/** The initialised module; throws a clear error when `initPhysics()` was not awaited first. */
export function rapier(): Rapier {
  if (!loaded) throw new Error('Rapier is not initialised: await initPhysics() (or use makeEnv) before creating an env');
  return loaded;
}

/** Which Rapier build and version this process simulates with (valid after initPhysics). */
export function physicsInfo(): { build: PhysicsBuild; version: string } {
  return { build: loadedBuild ?? 'compat', version: rapier().version() };
}
