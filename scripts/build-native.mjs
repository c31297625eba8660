#!/usr/bin/env node
/**
 * Builds the optional native GEMM addon (native/) against the system OpenBLAS.
 *
 * Optional on purpose: without libopenblas-dev the install still succeeds and pbrl runs on pure wasm.
 * PBRL_REQUIRE_NATIVE=1 (set by .ci/run) turns a failed build into a failed install, so CI always
 * builds and tests the native path. `--force` rebuilds even if a build exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const built = join(nativeDir, 'build', 'Release', 'pbrl_gemm.node');
const require = createRequire(import.meta.url);
const strict = process.env.PBRL_REQUIRE_NATIVE === '1';

function fail(msg) {
  if (strict) {
    console.error(`pbrl: native GEMM build failed (PBRL_REQUIRE_NATIVE=1): ${msg}`);
    process.exit(1);
  }
  console.warn(`pbrl: native GEMM not built (${msg}); the pure-wasm path will be used.`);
  console.warn('pbrl: to enable it: apt-get install libopenblas-dev && npm run build:native');
  process.exit(0);
}

if (process.env.PBRL_NATIVE_GEMM === '0' && !strict) {
  console.log('pbrl: PBRL_NATIVE_GEMM=0, skipping the native GEMM build');
  process.exit(0);
}
if (existsSync(built) && !process.argv.includes('--force')) process.exit(0);

const headers = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h'];
if (!headers.some((h) => existsSync(h))) fail('no cblas.h found (Debian: apt-get install libopenblas-dev)');

let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  // npm ships its own node-gyp; npm sets npm_config_node_gyp to it during install scripts.
  gyp = process.env.npm_config_node_gyp;
}
if (!gyp || !existsSync(gyp)) fail('node-gyp not found');

// Build against the headers of the running Node when they are on disk, so node-gyp never tries to
// download them (machines without general internet fail there).
const args = [gyp, 'rebuild', '--loglevel=warn'];
const localNodeDir = process.env.npm_config_nodedir || join(dirname(process.execPath), '..');
if (existsSync(join(localNodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${localNodeDir}`);
const res = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: 'inherit' });
if (res.status !== 0 || !existsSync(built)) fail(`node-gyp exited with ${res.status}`);
console.log(`pbrl: built native GEMM addon at ${built}`);
