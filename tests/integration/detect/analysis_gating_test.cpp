// CameraAnalysis (the engine's per-camera pipeline) on synthetic scenes: the object detector is never
// called on a frame without motion, and is called once something moves; a camera without an objects
// block raises motion incidents, one with it does not.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "matthan/analysis/camera_analysis.hpp"
#include "matthan/app/config.hpp"
#include "matthan/test/frame_helpers.hpp"

namespace matthan {
namespace {

constexpr MediaTimeNs kFrame = kNsPerSecond / 5;

cv::Mat background() {
  cv::Mat bg(360, 640, CV_8UC1);
  cv::RNG rng(7);
  rng.fill(bg, cv::RNG::UNIFORM, 60, 110);
  cv::GaussianBlur(bg, bg, {7, 7}, 0);
  return bg;
}

Frame frame_of(const cv::Mat& luma, int i) {
  Frame f = test::luma_to_frame(luma, PixelFormat::kI420);
  f.pts = i * kFrame;
  f.wall = WallTime{} + std::chrono::nanoseconds(f.pts);
  f.camera = "synthetic";
  return f;
}

CameraConfig camera(bool objects) {
  CameraConfig c;
  c.id = "synthetic";
  c.detect.objects.enabled = objects;  // no model: the HOG people detector
  return c;
}

TEST(AnalysisGating, NoForwardCallWithoutMotionAndCallsOnceSomethingMoves) {
  auto a = CameraAnalysis::create(camera(true).analysis());
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_NE((*a)->detector(), nullptr);
  const cv::Mat bg = background();
  int i = 0;
  for (; i < 60; ++i) {
    const AnalysisOutput out = (*a)->process(frame_of(bg, i));
    EXPECT_FALSE(out.detector_ran) << "frame " << i;
  }
  EXPECT_EQ((*a)->detector()->forward_calls(), 0u) << "a still scene must cost no forward call";
  for (int k = 0; k < 10; ++k, ++i) {
    cv::Mat img = bg.clone();
    cv::rectangle(img, cv::Rect(100 + 20 * k, 150, 40, 100), cv::Scalar(230), cv::FILLED);
    (*a)->process(frame_of(img, i));
  }
  EXPECT_GT((*a)->detector()->forward_calls(), 0u) << "motion must reach the detector";
  const std::uint64_t calls = (*a)->detector()->forward_calls();
  for (int k = 0; k < 40; ++k, ++i) (*a)->process(frame_of(bg, i));
  // The background re-learns the emptied spot within a few frames; after that no more calls.
  const std::uint64_t settled = (*a)->detector()->forward_calls();
  for (int k = 0; k < 20; ++k, ++i) (*a)->process(frame_of(bg, i));
  EXPECT_EQ((*a)->detector()->forward_calls(), settled);
  EXPECT_GE(settled, calls);
}

TEST(AnalysisGating, WithoutObjectsBlockMotionIncidentsWithItNone) {
  const cv::Mat bg = background();
  for (bool objects : {false, true}) {
    auto a = CameraAnalysis::create(camera(objects).analysis());
    ASSERT_TRUE(a.ok());
    int starts = 0;
    for (int i = 0; i < 40; ++i) {
      cv::Mat img = bg.clone();
      // A square is no person for HOG; it is motion.
      if (i >= 20) cv::rectangle(img, cv::Rect(100 + 10 * (i - 20), 150, 60, 60), cv::Scalar(230), cv::FILLED);
      for (const auto& [phase, inc] : (*a)->process(frame_of(img, i)).events) {
        if (phase != IncidentPhase::kStart) continue;
        ++starts;
        EXPECT_EQ(to_string(inc.kind), "motion");
      }
    }
    EXPECT_EQ(starts, objects ? 0 : 1) << (objects ? "objects" : "motion");
  }
}

}  // namespace
}  // namespace matthan
