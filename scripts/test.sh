#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
MATTHAN_STYLE_FORMAT_ONLY=1 bash scripts/check-style.sh  # unformatted code fails at once, before the build
bash scripts/build.sh
bash scripts/check-style.sh  # again with the build's compile database: clang-tidy on the files the last change touched
# playwright-core for the browser test, pinned by tests/browser/package-lock.json (node_modules is not committed).
if command -v npm >/dev/null 2>&1; then (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error); fi
ctest --test-dir "${MATTHAN_BUILD_DIR:-build}" --output-on-failure -j "${MATTHAN_TEST_JOBS:-2}" --timeout 600
