// CameraAnalysis's motion path on synthetic scenes: a lighting step or flicker raises no incident (and is
// counted), a walker crossing the frame raises one within a second.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "matthan/analysis/camera_analysis.hpp"
#include "matthan/app/config.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/events/node_events.hpp"

namespace matthan {
namespace {

constexpr int kW = 320, kH = 180;
constexpr MediaTimeNs kFrame = kNsPerSecond / 10;  // 10 fps

cv::Mat scene() {
  cv::Mat bg(kH, kW, CV_8UC1);
  cv::RNG rng(42);
  rng.fill(bg, cv::RNG::UNIFORM, 60, 110);
  cv::GaussianBlur(bg, bg, {7, 7}, 0);
  return bg;
}

Frame frame_of(const cv::Mat& luma, int i) {
  Frame f = make_owned_frame(PixelFormat::kI420, luma.cols, luma.rows);
  cv::Mat dst(luma.rows, luma.cols, CV_8UC1, const_cast<std::uint8_t*>(f.plane[0]),
              static_cast<std::size_t>(f.stride[0]));
  luma.copyTo(dst);
  f.pts = i * kFrame;
  return f;
}

std::unique_ptr<CameraAnalysis> motion_only(double still_level = MotionSettings{}.still_level) {
  CameraConfig c;
  c.id = "cam";
  c.motion.still_level = still_level;
  auto a = CameraAnalysis::create(c.analysis());
  EXPECT_TRUE(a.ok());
  return std::move(a.value());
}

int starts(const AnalysisOutput& out) {
  int n = 0;
  for (const auto& [phase, inc] : out.events) n += phase == IncidentPhase::kStart ? 1 : 0;
  return n;
}

cv::Mat other_scene() {
  cv::Mat bg(kH, kW, CV_8UC1);
  cv::RNG rng(7);
  rng.fill(bg, cv::RNG::UNIFORM, 120, 220);
  cv::GaussianBlur(bg, bg, {5, 5}, 0);
  return bg;
}

// The camera's own size rides on each frame; the analysed frame stays kW x kH (a fixed detect size).
Frame camera_frame(const cv::Mat& luma, int i, int source_w, int source_h) {
  Frame f = frame_of(luma, i);
  f.source_width = source_w;
  f.source_height = source_h;
  return f;
}

TEST(StreamSizeWatch, CountsOnlyChangesBetweenKnownSizes) {
  StreamSizeWatch w;
  EXPECT_FALSE(w.changed(camera_frame(scene(), 0, 0, 0)));      // unknown yet
  EXPECT_FALSE(w.changed(camera_frame(scene(), 1, 768, 576)));  // the first size is no change
  EXPECT_FALSE(w.changed(camera_frame(scene(), 2, 768, 576)));
  EXPECT_FALSE(w.changed(camera_frame(scene(), 3, 0, 0)));  // unknown again: ignored
  EXPECT_TRUE(w.changed(camera_frame(scene(), 4, 512, 288)));
  EXPECT_FALSE(w.changed(camera_frame(scene(), 5, 512, 288)));
  EXPECT_TRUE(w.changed(camera_frame(scene(), 6, 768, 576)));
  EXPECT_EQ(w.changes(), 2u);
}

// A camera reconfigured to another size shows another picture at once. The analysis restarts its model
// for it instead of reporting the whole new picture as motion; the same cut without a size change (a
// control) is motion, so the restart is what makes the difference.
TEST(MotionIncidents, ResolutionChangeRestartsTheModelInsteadOfRaisingAnIncident) {
  const cv::Mat before = scene(), after = other_scene();
  auto run = [&](bool size_changes) {
    // The control runs without the still-frame gate. With it, KNN learns the noiseless still scene from 12
    // frames instead of 50, and after the cut it keeps the whole frame foreground (a static full-frame blob
    // that the persistence gate does not count) instead of absorbing it piece by piece (pieces that do count).
    // bench/journal/2026-11-29-still-frame-gate.md.
    auto a = motion_only(size_changes ? MotionSettings{}.still_level : 0.0);
    int started = 0, i = 0;
    for (; i < 50; ++i) started += starts(a->process(camera_frame(before, i, 768, 576)));
    EXPECT_EQ(started, 0);
    for (; i < 120; ++i)
      started += starts(a->process(camera_frame(after, i, size_changes ? 512 : 768, size_changes ? 288 : 576)));
    EXPECT_EQ(a->stream_size_changes(), size_changes ? 1u : 0u);
    return started;
  };
  EXPECT_EQ(run(true), 0) << "a resolution change raised a motion incident";
  EXPECT_GE(run(false), 1) << "control: the same cut without a size change should look like motion";
}

TEST(MotionIncidents, LightingStepAndFlickerRaiseNoIncidentAndAreCounted) {
  auto a = motion_only();
  const cv::Mat dim = scene();
  cv::Mat bright;
  dim.convertTo(bright, -1, 1.6, 25);
  int i = 0, started = 0;
  for (; i < 50; ++i) started += starts(a->process(frame_of(dim, i)));
  for (; i < 100; ++i) started += starts(a->process(frame_of(bright, i)));                      // lights on
  for (; i < 200; ++i) started += starts(a->process(frame_of((i / 5) % 2 ? bright : dim, i)));  // flicker
  EXPECT_EQ(started, 0);
  EXPECT_GE(a->global_changes(), 2U);
}

// What an operator sees: the camera's health event counts each vetoed lighting step, matches the schema, and the
// steps raised no motion incident.
TEST(MotionIncidents, LightingStepsAreCountedInTheCameraHealth) {
  auto a = motion_only();
  const cv::Mat dim = scene();
  cv::Mat bright;
  dim.convertTo(bright, -1, 1.6, 25);
  int i = 0, started = 0, vetoed = 0;
  for (; i < 40; ++i) started += starts(a->process(frame_of(dim, i)));
  for (; i < 80; ++i) {
    const AnalysisOutput out = a->process(frame_of(bright, i));  // lights on
    started += starts(out);
    vetoed += out.motion.global_change ? 1 : 0;
  }
  for (; i < 120; ++i) {
    const AnalysisOutput out = a->process(frame_of(dim, i));  // and off again
    started += starts(out);
    vetoed += out.motion.global_change ? 1 : 0;
  }
  EXPECT_EQ(started, 0) << "a lighting step is no motion";
  EXPECT_EQ(vetoed, 2) << "one veto per step";
  ASSERT_EQ(a->global_changes(), 2U);

  CameraHealth h;
  h.state = CameraState::kStreaming;
  h.untimed_packets = 5;
  AnalysisCounters counters{120, 0, a->global_changes()};
  counters.snapshots_skipped = 3;
  const std::string payload = health_event_json("cam", h, counters, 7, "node");
  const auto j = nlohmann::json::parse(payload);
  EXPECT_EQ(j["counters"]["global_changes"], 2);
  EXPECT_EQ(j["counters"]["snapshots_skipped"], 3);
  EXPECT_EQ(j["counters"]["untimed_packets"], 5);
  auto v = JsonSchemaValidator::from_file(std::filesystem::path(MATTHAN_SCHEMA_DIR) / "health.schema.json");
  ASSERT_TRUE(v.ok()) << v.error().message;
  const auto st = v.value().validate(payload);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message) << "\n" << payload;
}

TEST(MotionIncidents, WalkerCrossingStartsAnIncidentWithinASecond) {
  auto a = motion_only();
  const cv::Mat bg = scene();
  int i = 0, started = 0;
  for (; i < 50; ++i) started += starts(a->process(frame_of(bg, i)));
  ASSERT_EQ(started, 0);
  const int enter = i;
  int first = -1;
  for (; i < 80; ++i) {
    cv::Mat img = bg.clone();
    cv::rectangle(img, cv::Rect(20 + 8 * (i - enter), 70, 20, 50), cv::Scalar(230), cv::FILLED);
    if (starts(a->process(frame_of(img, i))) > 0 && first < 0) first = i - enter;
  }
  ASSERT_GE(first, 0) << "no incident";
  EXPECT_LE(first, 10) << "frames after the walker appeared";
  EXPECT_EQ(a->global_changes(), 0U);
}

// With the default settings (gate on, start_frames 3), a solid block stepping into a still scene (as the
// harness's test:onsets scene does) starts its incident on the first analysed frame that shows it, at 5 fps
// as the engine analyses; before, the gate's persistence and start_frames in series took 5 frames (0.8 s).
TEST(MotionIncidents, SolidObjectEnteringAStillSceneStartsOnItsFirstFrame) {
  auto a = motion_only();
  const cv::Mat bg = scene();
  const auto at5fps = [](const cv::Mat& img, int i) {
    Frame f = frame_of(img, 0);
    f.pts = i * (kNsPerSecond / 5);
    f.wall = WallTime{} + std::chrono::milliseconds(1'790'000'000'000LL + 200LL * i);
    return f;
  };
  int i = 0, started = 0;
  for (; i < 40; ++i) started += starts(a->process(at5fps(bg, i)));
  ASSERT_EQ(started, 0);
  const int enter = i;
  int first = -1;
  WallTime started_at{};
  // A textured object (a flat one over this smooth background would read as the background times one gain,
  // i.e. light), 64x48: 5 % of the frame.
  cv::Mat object(48, 64, CV_8UC1);
  cv::RNG rng(3);
  rng.fill(object, cv::RNG::UNIFORM, 0, 255);
  for (; i < enter + 10; ++i) {
    cv::Mat img = bg.clone();
    object.copyTo(img(cv::Rect(40 + 6 * (i - enter), 60, 64, 48)));
    const AnalysisOutput out = a->process(at5fps(img, i));
    for (const auto& [phase, inc] : out.events) {
      if (phase != IncidentPhase::kStart || first >= 0) continue;
      first = i - enter;
      started_at = inc.started_at;
    }
  }
  ASSERT_GE(first, 0) << "no incident";
  EXPECT_EQ(first, 0) << "analysed frames after the block appeared";
  EXPECT_EQ(started_at, at5fps(bg, enter).wall);
}

// Headlights sweeping over a wall: a large, solid patch of the same picture made brighter. The quick path for
// solid regions must not take it: it is the background times one gain (motion.gate_light_match).
TEST(MotionIncidents, HeadlightPatchSweepingRaisesNoIncident) {
  auto a = motion_only();
  const cv::Mat bg = scene();
  int i = 0, started = 0;
  for (; i < 50; ++i) started += starts(a->process(frame_of(bg, i)));
  ASSERT_EQ(started, 0);
  int motion_frames = 0;
  for (int k = 0; k < 20; ++k, ++i) {
    cv::Mat img = bg.clone();
    const cv::Rect patch(20 + 8 * k, 50, 100, 80);  // 14 % of the frame
    bg(patch).convertTo(img(patch), -1, 1.5, 0);
    const AnalysisOutput out = a->process(frame_of(img, i));
    started += starts(out);
    motion_frames += out.motion.motion ? 1 : 0;
  }
  for (int k = 0; k < 20; ++k, ++i) started += starts(a->process(frame_of(bg, i)));
  EXPECT_GT(motion_frames, 0) << "the patch should be in the mask (else this test proves nothing)";
  EXPECT_EQ(started, 0) << "a brightened patch started an incident";
}

// A small walker (not solid enough for the quick path) still waits the gate's persistence, and its incident is
// dated from the first frame of its run, not the frame that confirmed it.
TEST(MotionIncidents, WalkerIsDatedFromTheFirstFrameOfItsRun) {
  auto a = motion_only();
  const cv::Mat bg = scene();
  int i = 0;
  for (; i < 50; ++i) a->process(frame_of(bg, i));
  const int enter = i;
  int first = -1;
  MediaTimeNs start_pts = -1;
  for (; i < 80; ++i) {
    cv::Mat img = bg.clone();
    cv::rectangle(img, cv::Rect(20 + 8 * (i - enter), 70, 20, 50), cv::Scalar(230), cv::FILLED);
    const AnalysisOutput out = a->process(frame_of(img, i));
    for (const auto& [phase, inc] : out.events) {
      if (phase != IncidentPhase::kStart || first >= 0) continue;
      first = i - enter;
      start_pts = inc.start_pts;
    }
  }
  ASSERT_GE(first, 1) << "the walker is not solid: it waits for persistence";
  // Before, the incident was dated from the first frame the gate passed, persist_s after the walker appeared.
  EXPECT_EQ(start_pts, frame_of(bg, enter).pts) << "dated from the walker's first frame, not the confirming one";
}

}  // namespace
}  // namespace matthan
