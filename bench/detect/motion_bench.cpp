// MotionDetector cost per frame for the analysis sizes the engine uses (hot loop: live is 1.5-2x dearer because
// the cache is cold between frames; bench/harness/run.py measures the live engine).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "gray_scene.hpp"
#include "matthan/detect/motion_detector.hpp"
#include "matthan/detect/motion_gate.hpp"

namespace {

// A textured background with a square walking across it and a little sensor noise, as GRAY8 frames.
std::vector<matthan::Frame> make_scene(int width, int height, int count) {
  const matthan::bench::GrayScene scene{
      .seed = 7, .background_low = 60, .background_high = 110, .blur_kernel = {7, 7}, .blur_sigma = 0};
  return matthan::bench::gray_scene(width, height, count, scene, [&](cv::Mat& img, int i) {
    const int side = height / 5;
    cv::rectangle(img, cv::Rect((i * width / count) % (width - side), height / 3, side, side), cv::Scalar(230),
                  cv::FILLED);
  });
}

void BM_MotionPerFrame(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  matthan::MotionConfig cfg;
  cfg.analysis_width = static_cast<int>(state.range(2));
  matthan::MotionDetector detector(cfg);
  const std::vector<matthan::Frame> frames = make_scene(width, height, 100);
  for (int i = 0; i < 20; ++i) detector.process(frames[static_cast<std::size_t>(i)]);  // past the warm-up
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(detector.process(frames[i]));
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());
}

// The still-frame gate on a still 1280x720 colour scene (I420, ±1 level of noise): per frame with the gate on
// (mostly thumbnails and a skip; a full update every 2 s of 5 fps frames) and off (conversion + KNN + morphology
// every frame).
std::vector<matthan::Frame> make_still_i420(int width, int height, int count) {
  cv::Mat bg(height, width, CV_8UC3);
  cv::RNG rng(11);
  rng.fill(bg, cv::RNG::UNIFORM, 50, 140);
  cv::GaussianBlur(bg, bg, {9, 9}, 0);
  std::vector<matthan::Frame> frames;
  for (int i = 0; i < count; ++i) {
    cv::Mat noise(height, width, CV_8UC3), img, i420;
    rng.fill(noise, cv::RNG::UNIFORM, 0, 3);
    cv::add(bg, noise, img);
    cv::cvtColor(img, i420, cv::COLOR_BGR2YUV_I420);
    matthan::Frame f = matthan::make_owned_frame(matthan::PixelFormat::kI420, width, height);
    // Our own fresh buffer, laid out as Y, U, V tightly packed: writing into it is its initialisation.
    std::memcpy(const_cast<std::uint8_t*>(f.plane[0]), i420.data, i420.total());
    f.pts = static_cast<matthan::MediaTimeNs>(i) * 200'000'000;
    frames.push_back(std::move(f));
  }
  return frames;
}

void BM_MotionStillScene(benchmark::State& state) {
  matthan::MotionConfig cfg;
  cfg.still_level = static_cast<double>(state.range(0));
  matthan::MotionDetector detector(cfg);
  std::vector<matthan::Frame> frames = make_still_i420(1280, 720, 20);
  matthan::MediaTimeNs pts = 0;
  std::size_t i = 0;
  auto next = [&]() -> matthan::Frame& {
    matthan::Frame& f = frames[i];
    f.pts = pts;
    pts += 200'000'000;
    i = (i + 1) % frames.size();
    return f;
  };
  for (int n = 0; n < 20; ++n) detector.process(next());  // past the warm-up
  // {still_level, held}: held is an open incident on the camera (no frame may be skipped, so no thumbnail is
  // needed before processing).
  detector.hold_still_gate(state.range(1) != 0);
  for (auto _ : state) benchmark::DoNotOptimize(detector.process(next()));
  state.SetItemsProcessed(state.iterations());
  state.counters["skipped"] = static_cast<double>(detector.still_skipped());
}

// MotionGate::update on the empty 320x180 mask of a still scene (after its 2 s of learning), the engine's
// per-frame call on every still frame, skipped or not.
void BM_MotionGateEmptyMask(benchmark::State& state) {
  matthan::MotionGate gate{matthan::MotionGateConfig{}};
  const std::vector<std::uint8_t> mask(320 * 180, 0);
  matthan::MediaTimeNs pts = 0;
  for (int n = 0; n < 20; ++n, pts += 200'000'000) gate.update(mask, 320, 180, pts);
  for (auto _ : state) {
    benchmark::DoNotOptimize(gate.update(mask, 320, 180, pts));
    pts += 200'000'000;
  }
  state.SetItemsProcessed(state.iterations());
}

// A real clip, replayed through the motion detector and the persistence gate as the engine runs them on every
// analysed frame: raw I420 frames from the file named by MATTHAN_MOTION_CLIP (`ffmpeg -i CLIP -f rawvideo
// -pix_fmt yuv420p FILE`), of the size in MATTHAN_MOTION_CLIP_SIZE (default 1280x720), 10 fps. One iteration is
// the whole clip with a fresh detector and gate, so `valgrind --tool=callgrind` gives instructions per frame
// (MotionDetector::process and MotionGate::update, inclusive, over their calls) on real footage
// (docs/PERFORMANCE.md). Skipped when the variable is not set.
std::vector<matthan::Frame> load_i420_clip(const char* path, int width, int height) {
  std::vector<matthan::Frame> frames;
  std::ifstream in(path, std::ios::binary);
  const std::size_t bytes = static_cast<std::size_t>(width) * height * 3 / 2;
  for (matthan::MediaTimeNs pts = 0; in; pts += 100'000'000) {
    matthan::Frame f = matthan::make_owned_frame(matthan::PixelFormat::kI420, width, height);
    // Our own fresh buffer, Y, U and V tightly packed: reading the file into it is its initialisation.
    if (!in.read(reinterpret_cast<char*>(const_cast<std::uint8_t*>(f.plane[0])), static_cast<std::streamsize>(bytes)))
      break;
    f.pts = pts;
    frames.push_back(std::move(f));
  }
  return frames;
}

void BM_MotionClip(benchmark::State& state) {
  const char* path = std::getenv("MATTHAN_MOTION_CLIP");
  if (path == nullptr || *path == '\0') {
    state.SkipWithError("MATTHAN_MOTION_CLIP is not set (raw I420 frames of a clip)");
    return;
  }
  int width = 1280, height = 720;
  if (const char* size = std::getenv("MATTHAN_MOTION_CLIP_SIZE"); size != nullptr) {
    const std::string s(size);
    const std::size_t x = s.find('x');
    if (x != std::string::npos) {
      width = std::atoi(s.substr(0, x).c_str());
      height = std::atoi(s.substr(x + 1).c_str());
    }
  }
  const std::vector<matthan::Frame> frames = load_i420_clip(path, width, height);
  if (frames.empty()) {
    state.SkipWithError("MATTHAN_MOTION_CLIP holds no whole frame of MATTHAN_MOTION_CLIP_SIZE");
    return;
  }
  double with_motion = 0, fraction = 0;
  for (auto _ : state) {
    matthan::MotionDetector detector{matthan::MotionConfig{}};
    matthan::MotionGate gate{matthan::MotionGateConfig{}};
    with_motion = fraction = 0;
    for (const matthan::Frame& f : frames) {
      const matthan::MotionResult r = detector.process(f);
      int w = 0, h = 0;
      const std::vector<std::uint8_t> mask = detector.last_mask(w, h);
      const matthan::GateResult g =
          gate.update(mask, w, h, f.pts, [&](const matthan::Box& b) { return detector.background_match(b); });
      with_motion += g.motion ? 1 : 0;
      fraction += r.foreground_fraction;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames.size()));
  state.counters["frames"] = static_cast<double>(frames.size());
  state.counters["gated_motion"] = with_motion;
  state.counters["mean_fg"] = fraction / static_cast<double>(frames.size());
}

}  // namespace

// {frame width, frame height, analysis width}
BENCHMARK(BM_MotionPerFrame)
    ->Args({320, 180, 320})
    ->Args({640, 360, 320})
    ->Args({640, 360, 640})
    ->Unit(benchmark::kMicrosecond);

// {still_level, held}: 0 is the gate off
BENCHMARK(BM_MotionStillScene)->Args({0, 0})->Args({3, 0})->Args({3, 1})->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_MotionGateEmptyMask)->Unit(benchmark::kMicrosecond);

// One pass over the clip per iteration (a fresh detector each time).
BENCHMARK(BM_MotionClip)->Iterations(1)->Unit(benchmark::kMillisecond);
