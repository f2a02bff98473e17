#!/usr/bin/env bash
# Installs the Debian 12 packages Matthan needs to build, test and run. Idempotent: installs only what is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake make pkg-config ninja-build
  clang-format clang-tidy  # the style gate (scripts/check-style.sh)
  dpkg-dev  # dpkg-shlibdeps: the .deb's Depends (cpack -G DEB, tests/integration/install)
  # GStreamer 1.22: core, plugins, RTSP server (for the simulator)
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
  # OpenCV 4.6, only the modules we use (libopencv-dev pulls ~640 MiB)
  libopencv-core-dev libopencv-imgproc-dev libopencv-video-dev libopencv-dnn-dev
  libopencv-imgcodecs-dev libopencv-objdetect-dev opencv-doc
  # FFmpeg 5.1 (remux) and ffprobe (tests)
  libavformat-dev libavcodec-dev libavutil-dev ffmpeg
  # messaging, storage, config, logging, CLI, HTTP
  libzmq3-dev cppzmq-dev libsqlite3-dev sqlite3 libyaml-cpp-dev nlohmann-json3-dev
  libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev rapidjson-dev
  # SHA-256 of clips and exports (storage)
  libsodium-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3
  # the peer engine the benchmark harness measures side by side (bench/harness, docs/PERFORMANCE.md)
  motion
  # the review page's browser test (driven by npm playwright-core, see tests/browser)
  chromium
)
# node and npm for the browser test: the CI image has them (not from Debian); install Debian's only when missing.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "matthan: all build dependencies present"
  exit 0
fi

echo "matthan: installing ${#missing[@]} missing packages: ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "matthan: dependencies installed"
