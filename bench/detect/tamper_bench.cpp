// TamperDetector cost: one judgement (the work done twice a second per camera) and the per-frame call
// between judgements, at the engine's detect sizes (hot loop: live is dearer, the cache being cold between
// frames; bench/harness/run.py measures the live engine).
#include <benchmark/benchmark.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "gray_scene.hpp"
#include "matthan/detect/tamper_detector.hpp"

namespace {

std::vector<matthan::Frame> make_frames(int width, int height, int count) {
  const matthan::bench::GrayScene scene{.seed = 11, .background_low = 40, .background_high = 200, .blur_sigma = 4};
  return matthan::bench::gray_scene(width, height, count, scene);
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
