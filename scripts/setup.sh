#!/usr/bin/env bash
# One-time (idempotent) set-up on a fresh Debian/Ubuntu machine: system packages, then npm packages
# from the lockfile, which also builds the native GEMM addon. Safe to rerun; skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

# libopenblas-dev: native GEMM. python3-zmq/numpy: the Python client and its tests. chromium + ffmpeg:
# the headless viewer tests and clip export. redis-server: the queue executor's test (pbrl bench --queue).
APT_PACKAGES=(libopenblas-dev python3-zmq python3-numpy chromium ffmpeg redis-server)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "setup: installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup: no apt-get; install OpenBLAS (headers + library) yourself for the native GEMM path" >&2
  fi
fi

# Reinstall npm packages only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  node scripts/build-native.mjs
fi
