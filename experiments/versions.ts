/** Versions of the libraries a run depends on, recorded beside results and printed by `pbrl doctor`. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const TRACKED_PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@dimforge/rapier3d-compat',
  'three',
  'zeromq',
] as const;

export function packageVersion(name: string): string | null {
  const p = join(PROJECT_ROOT, 'node_modules', name, 'package.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')).version ?? null;
  } catch {
    return null;
  }
}

export function versions(): Record<string, string | null> {
  const out: Record<string, string | null> = {
    pbrl: JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version,
    node: process.versions.node,
  };
  for (const p of TRACKED_PACKAGES) out[p] = packageVersion(p);
  return out;
}
