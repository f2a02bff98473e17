#!/usr/bin/env bash
# Configures and builds Matthan into ./build (Ninja, RelWithDebInfo). Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${MATTHAN_BUILD_DIR:-build}
JOBS=${MATTHAN_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
