// Object detection cost: DnnDetector milliseconds per crop (batched and not), and forward calls per
// minute of video through the engine's per-camera pipeline on an empty scene (must be 0) and a busy one.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "matthan/analysis/camera_analysis.hpp"
#include "matthan/app/config.hpp"
#include "matthan/detect/object_detector.hpp"
#include "matthan/test/frame_helpers.hpp"

namespace {

using namespace matthan;
namespace fs = std::filesystem;

constexpr int kFps = 5;

fs::path model_dir() {
  const char* env = std::getenv("MATTHAN_SHARED_DIR");
  return fs::path(env ? env : MATTHAN_SHARED_DIR_DEFAULT) / "models" / "yolo-fastest-1.1";
}

cv::Mat textured(int w, int h) {
  cv::Mat bg(h, w, CV_8UC1);
  cv::RNG rng(3);
  rng.fill(bg, cv::RNG::UNIFORM, 40, 200);
  cv::GaussianBlur(bg, bg, {5, 5}, 0);
  return bg;
}

Frame frame_of(const cv::Mat& luma, int i) {
  Frame f = test::luma_to_frame(luma, PixelFormat::kI420);
  f.pts = static_cast<MediaTimeNs>(i) * kNsPerSecond / kFps;
  f.camera = "bench";
  return f;
}

void BM_DnnCrops(benchmark::State& state) {
  DnnModelConfig c;
  c.cfg = model_dir() / "yolo-fastest-1.1.cfg";
  c.weights = model_dir() / "yolo-fastest-1.1.weights";
  auto det = make_dnn_detector(c);
  if (!det.ok()) {
    state.SkipWithError(det.error().message.c_str());
    return;
  }
  const Frame f = frame_of(textured(640, 360), 0);
  const std::vector<CropRequest> crops(static_cast<std::size_t>(state.range(0)),
                                       CropRequest{&f, Box{0.1, 0.0, 0.5, 0.9}});
  for (auto _ : state) benchmark::DoNotOptimize((*det)->detect(crops));
  // Rate inverted: seconds of wall time per crop (the table prints it with an SI prefix, e.g. 11m = 11 ms).
  state.counters["s_per_crop"] = benchmark::Counter(static_cast<double>(state.iterations() * crops.size()),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_DnnCrops)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

// One forward call as the engine makes it on a busy 720p camera: the whole frame (motion crops covering more
// than 60 % of it become the whole frame) or one 320 px crop, with OpenCV's thread pool at its default (0) or
// at one thread. The time is the process's CPU time (TBB's workers included, MeasureProcessCPUTime): what a
// camera pays per call. Args: OpenCV threads (0 = default), crop side in frame pixels (0 = whole frame),
// the model's input side (detect.objects.model.input).
void BM_DnnForward(benchmark::State& state) {
  DnnModelConfig c;
  c.cfg = model_dir() / "yolo-fastest-1.1.cfg";
  c.weights = model_dir() / "yolo-fastest-1.1.weights";
  c.input = static_cast<int>(state.range(2));
  auto det = make_dnn_detector(c);
  if (!det.ok()) {
    state.SkipWithError(det.error().message.c_str());
    return;
  }
  const int threads_before = cv::getNumThreads();
  if (state.range(0) > 0) cv::setNumThreads(static_cast<int>(state.range(0)));
  const Frame f = frame_of(textured(1280, 720), 0);
  const double side = static_cast<double>(state.range(1));
  const Box region = side > 0 ? Box{0.3, 0.2, side / 1280, side / 720} : Box{0, 0, 1, 1};
  const std::vector<CropRequest> crops{CropRequest{&f, region}};
  for (auto _ : state) benchmark::DoNotOptimize((*det)->detect(crops));
  cv::setNumThreads(threads_before);
}
BENCHMARK(BM_DnnForward)
    ->ArgsProduct({{0, 1}, {0, 320}, {320}})
    ->Args({1, 0, 256})
    ->Args({1, 0, 224})
    ->ArgNames({"threads", "crop", "input"})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// One simulated minute at 5 fps through CameraAnalysis with the DNN; counters: forward calls per minute.
void run_scene(benchmark::State& state, bool busy) {
  CameraConfig cam;
  cam.id = "bench";
  cam.detect.objects.enabled = true;
  cam.detect.objects.model = ObjectModelSettings{
      model_dir() / "yolo-fastest-1.1.cfg", model_dir() / "yolo-fastest-1.1.weights", model_dir() / "coco.names", 320};
  const cv::Mat bg = textured(640, 360);
  double calls = 0;
  for (auto _ : state) {
    auto a = CameraAnalysis::create(cam.analysis());
    if (!a.ok()) {
      state.SkipWithError(a.error().message.c_str());
      return;
    }
    for (int i = 0; i < 60 * kFps; ++i) {
      cv::Mat img = bg;
      if (busy) {
        img = bg.clone();
        // Three blobs crossing the frame all the time.
        for (int k = 0; k < 3; ++k)
          cv::rectangle(img, cv::Rect((i * 7 + k * 200) % 600, 60 + 100 * k, 40, 90), cv::Scalar(250), cv::FILLED);
      }
      (*a)->process(frame_of(img, i));
    }
    calls = static_cast<double>((*a)->detector()->forward_calls());
  }
  state.counters["forward_calls_per_min"] = calls;
}

void BM_ForwardCallsEmptyScene(benchmark::State& state) {
  run_scene(state, false);
}
void BM_ForwardCallsBusyScene(benchmark::State& state) {
  run_scene(state, true);
}
BENCHMARK(BM_ForwardCallsEmptyScene)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ForwardCallsBusyScene)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
