#!/usr/bin/env bash
# The demo: installs what is missing, builds, then serves Debian's vtest.avi as a simulated RTSP camera on
# 127.0.0.1 and runs the engine on it for about a minute (Ctrl-C stops it earlier).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/tools/matthan demo --for "${MATTHAN_DEMO_SECONDS:-60}" --data "${MATTHAN_DEMO_DATA:-./demo-data}"
