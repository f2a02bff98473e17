#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir "${MATTHAN_BUILD_DIR:-build}" --output-on-failure -j "${MATTHAN_TEST_JOBS:-2}" --timeout 600
