// TamperDetector cost: one judgement (the work done twice a second per camera) and the per-frame call
// between judgements, at the engine's detect sizes (hot loop: live is dearer, see NOTES.md).
#include <benchmark/benchmark.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "matthan/detect/tamper_detector.hpp"

namespace {

std::vector<matthan::Frame> make_frames(int width, int height, int count) {
  cv::Mat bg(height, width, CV_8UC1);
  cv::RNG rng(11);
  rng.fill(bg, cv::RNG::UNIFORM, 40, 200);
  cv::GaussianBlur(bg, bg, {0, 0}, 4);
  std::vector<matthan::Frame> frames;
  for (int i = 0; i < count; ++i) {
    matthan::Frame f = matthan::make_owned_frame(matthan::PixelFormat::kGray8, width, height);
    // Our own fresh buffer: writing into it is fine.
    cv::Mat img(height, width, CV_8UC1, const_cast<std::uint8_t*>(f.plane[0]), static_cast<std::size_t>(f.stride[0]));
    cv::Mat noise(height, width, CV_8UC1);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 4);
    cv::add(bg, noise, img);
    frames.push_back(std::move(f));
  }
  return frames;
}

// Every call is a judgement: interval 0 is below the config's bound, used here to measure one evaluation.
void BM_TamperJudgement(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  matthan::TamperConfig cfg;
  cfg.interval_s = 0;
  cfg.learn_s = 0.1;
  matthan::TamperDetector detector(cfg);
  std::vector<matthan::Frame> frames = make_frames(width, height, 20);
  matthan::MediaTimeNs pts = 0;
  for (auto& f : frames) {
    f.pts = (pts += 200'000'000);
    detector.process(f);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    frames[i].pts = (pts += 200'000'000);
    benchmark::DoNotOptimize(detector.process(frames[i]));
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());
}

// The engine's real pattern: 5 fps analysed, judged at 2 Hz; the figure is per analysed frame.
void BM_TamperPerFrameAt5Fps(benchmark::State& state) {
  matthan::TamperDetector detector(matthan::TamperConfig{});
  std::vector<matthan::Frame> frames = make_frames(640, 360, 20);
  matthan::MediaTimeNs pts = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    frames[i].pts = (pts += 200'000'000);
    benchmark::DoNotOptimize(detector.process(frames[i]));
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_TamperJudgement)->Args({320, 180})->Args({640, 360})->Args({1280, 720})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TamperPerFrameAt5Fps)->Unit(benchmark::kMicrosecond);
