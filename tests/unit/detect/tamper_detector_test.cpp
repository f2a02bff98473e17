// TamperDetector on synthetic scenes and on real footage (vtest.avi; ../shared clips): covered, turned and
// defocused views raise an incident; lighting ramps, an IR switch, headlights and noise do not.
#include "matthan/detect/tamper_detector.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "matthan/test/gray_video.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

constexpr int kFps = 5;
constexpr MediaTimeNs kFrameNs = 1'000'000'000 / kFps;

// A street-like scene: blocks of different grey, some lines, fine texture. `seed` picks the layout.
cv::Mat make_scene(int seed, int width = 640, int height = 360) {
  cv::RNG rng(static_cast<std::uint64_t>(seed));
  cv::Mat img(height, width, CV_8UC1);
  rng.fill(img, cv::RNG::UNIFORM, 70, 140);
  cv::GaussianBlur(img, img, {0, 0}, 3);
  for (int i = 0; i < 40; ++i) {
    const cv::Point p(rng.uniform(0, width), rng.uniform(0, height));
    const cv::Size s(rng.uniform(10, width / 4), rng.uniform(10, height / 4));
    cv::rectangle(img, cv::Rect(p, s), cv::Scalar(rng.uniform(20, 235)), cv::FILLED);
  }
  for (int i = 0; i < 25; ++i)
    cv::line(img, {rng.uniform(0, width), rng.uniform(0, height)}, {rng.uniform(0, width), rng.uniform(0, height)},
             cv::Scalar(rng.uniform(0, 255)), rng.uniform(1, 4));
  cv::Mat texture(height, width, CV_8UC1);
  rng.fill(texture, cv::RNG::UNIFORM, 0, 12);
  cv::add(img, texture, img);
  return img;
}

// A small moving object and per-frame sensor noise, so that a "static" scene is never identical.
cv::Mat live(const cv::Mat& scene, int i, double noise = 2.0) {
  cv::Mat img = scene.clone();
  const int side = scene.rows / 6;
  cv::rectangle(img, cv::Rect((i * 7) % (scene.cols - side), scene.rows / 2, side, side), cv::Scalar(200), cv::FILLED);
  cv::Mat n(img.size(), CV_16SC1);
  cv::RNG rng(static_cast<std::uint64_t>(1000 + i));
  rng.fill(n, cv::RNG::NORMAL, 0, noise);
  cv::Mat out;
  img.convertTo(out, CV_16SC1);
  out += n;
  out.convertTo(img, CV_8UC1);
  return img;
}

cv::Mat gain(const cv::Mat& img, double g, double offset = 0) {
  cv::Mat out;
  img.convertTo(out, CV_8UC1, g, offset);
  return out;
}

Frame to_frame(const cv::Mat& luma, int i) {
  Frame f = make_owned_frame(PixelFormat::kGray8, luma.cols, luma.rows);
  // A fresh buffer of our own: writing into it is fine.
  cv::Mat dst(luma.rows, luma.cols, CV_8UC1, const_cast<std::uint8_t*>(f.plane[0]),
              static_cast<std::size_t>(f.stride[0]));
  luma.copyTo(dst);
  f.pts = static_cast<MediaTimeNs>(i) * kFrameNs;
  f.camera = "test";
  return f;
}

struct Seen {
  MediaTimeNs at = 0;
  TamperEvent event;
};

struct RunSummary {
  std::vector<Seen> events;
  double max_structure_change = 0;
  double min_sharpness_ratio = 1e9;
  double min_stddev = 1e9;
  std::string conditions;  // every non-empty condition seen, for failure messages

  std::vector<Seen> starts() const {
    std::vector<Seen> out;
    for (const auto& s : events)
      if (s.event.phase == TamperPhase::kStart) out.push_back(s);
    return out;
  }
  std::string describe() const {
    char buf[200];
    std::snprintf(buf, sizeof buf, "max structure_change %.2f, min sharpness ratio %.2f, min stddev %.1f, events %zu",
                  max_structure_change, min_sharpness_ratio, min_stddev, events.size());
    std::string s = buf;
    for (const auto& e : events)
      s += "\n  " + std::string(e.event.phase == TamperPhase::kStart ? "start " : "end ") + e.event.reason + " at " +
           std::to_string(e.at / 1e9) + " s " + e.event.end_reason;
    return s;
  }
};

// Feeds `count` frames made by `frame_at(i)` at 5 fps.
RunSummary run(TamperDetector& d, int count, const std::function<cv::Mat(int)>& frame_at, int first = 0) {
  RunSummary s;
  for (int i = first; i < first + count; ++i) {
    const Frame f = to_frame(frame_at(i), i);
    const TamperEvent ev = d.process(f);
    if (ev.phase != TamperPhase::kNone) s.events.push_back({f.pts, ev});
    if (const auto& m = d.last_measures()) {
      s.max_structure_change = std::max(s.max_structure_change, m->structure_change);
      if (m->reference_sharpness > 0)
        s.min_sharpness_ratio = std::min(s.min_sharpness_ratio, m->sharpness / m->reference_sharpness);
      s.min_stddev = std::min(s.min_stddev, m->stddev);
      if (!m->condition.empty() && s.conditions.find(m->condition) == std::string::npos)
        s.conditions += m->condition + " ";
    }
  }
  return s;
}

// Normal for `normal_s`, then `tampered(i)` for the rest of `total_s`.
RunSummary run_switch(const TamperConfig& cfg, double normal_s, double total_s,
                      const std::function<cv::Mat(int)>& normal, const std::function<cv::Mat(int)>& tampered) {
  TamperDetector d(cfg);
  const int switch_at = static_cast<int>(normal_s * kFps);
  return run(d, static_cast<int>(total_s * kFps), [&](int i) { return i < switch_at ? normal(i) : tampered(i); });
}

void expect_one_start(const RunSummary& s, const std::string& reason, double switch_s, const TamperConfig& cfg) {
  const auto starts = s.starts();
  ASSERT_EQ(starts.size(), 1u) << s.describe();
  EXPECT_EQ(starts[0].event.reason, reason) << s.describe();
  const double at = starts[0].at / 1e9;
  EXPECT_GE(at, switch_s + cfg.persist_s - 0.01) << "must persist persist_s before raising\n" << s.describe();
  EXPECT_LE(at, switch_s + cfg.persist_s + 2 * cfg.interval_s + 0.3) << s.describe();
  EXPECT_NEAR(starts[0].event.since / 1e9, switch_s, 2 * cfg.interval_s + 0.3);
  EXPECT_GT(starts[0].event.score, 0.0);
  EXPECT_LE(starts[0].event.score, 1.0);
}

void expect_none(const RunSummary& s) {
  EXPECT_TRUE(s.starts().empty()) << s.describe();
}

// ---- synthetic ----

TEST(TamperDetector, StaticSceneWithActivityAndNoiseRaisesNothing) {
  const cv::Mat scene = make_scene(1);
  TamperDetector d(TamperConfig{});
  const RunSummary s = run(d, 120 * kFps, [&](int i) { return live(scene, i); });
  expect_none(s);
  EXPECT_LT(s.max_structure_change, 0.3) << s.describe();
}

TEST(TamperDetector, BlackedOutViewIsCoveredAndEndsWhenRestored) {
  const cv::Mat scene = make_scene(2);
  TamperConfig cfg;
  TamperDetector d(cfg);
  // 20 s normal, 20 s black (a little noise, like a real sensor), 20 s normal again.
  const RunSummary s = run(d, 60 * kFps, [&](int i) {
    if (i >= 20 * kFps && i < 40 * kFps) return live(cv::Mat(scene.size(), CV_8UC1, cv::Scalar(16)), i, 1.5);
    return live(scene, i);
  });
  expect_one_start(s, "covered", 20, cfg);
  ASSERT_EQ(s.events.size(), 2u) << s.describe();
  EXPECT_EQ(s.events[1].event.phase, TamperPhase::kEnd);
  EXPECT_EQ(s.events[1].event.end_reason, "restored");
  EXPECT_EQ(s.events[1].event.reason, "covered");
  EXPECT_NEAR(s.events[1].at / 1e9, 40 + cfg.clear_s, 2 * cfg.interval_s + 0.3) << s.describe();
}

TEST(TamperDetector, UniformGreyIsCovered) {
  const cv::Mat scene = make_scene(3);
  TamperConfig cfg;
  const RunSummary s = run_switch(
      cfg, 15, 30, [&](int i) { return live(scene, i); },
      [&](int i) { return live(cv::Mat(scene.size(), CV_8UC1, cv::Scalar(128)), i, 2.0); });
  expect_one_start(s, "covered", 15, cfg);
}

TEST(TamperDetector, HandOverTheLensFarDarkerIsCovered) {
  const cv::Mat scene = make_scene(4);
  // Dark, featureless but not uniform: skin lit from the side at a few centimetres.
  cv::Mat hand(scene.size(), CV_8UC1);
  for (int x = 0; x < hand.cols; ++x) hand.col(x).setTo(cv::Scalar(8 + 30.0 * x / hand.cols));
  TamperConfig cfg;
  const RunSummary s = run_switch(
      cfg, 15, 30, [&](int i) { return live(scene, i); }, [&](int i) { return live(hand, i, 3.0); });
  expect_one_start(s, "covered", 15, cfg);
}

TEST(TamperDetector, FlashlightIntoTheLensFarBrighterIsCovered) {
  const cv::Mat scene = make_scene(5);
  cv::Mat glare = gain(scene, 0.3, 200);  // saturated, a ghost of the scene left
  cv::GaussianBlur(glare, glare, {0, 0}, 12);
  TamperConfig cfg;
  const RunSummary s = run_switch(
      cfg, 15, 30, [&](int i) { return live(scene, i); }, [&](int i) { return live(glare, i, 2.0); });
  expect_one_start(s, "covered", 15, cfg);
}

TEST(TamperDetector, BlurredViewIsDefocused) {
  const cv::Mat scene = make_scene(6);
  TamperConfig cfg;
  const RunSummary s = run_switch(
      cfg, 15, 30, [&](int i) { return live(scene, i); },
      [&](int i) {
        cv::Mat b;
        cv::GaussianBlur(live(scene, i, 0), b, {0, 0}, 4);
        return b;
      });
  expect_one_start(s, "defocused", 15, cfg);
}

TEST(TamperDetector, TurnedCameraIsTurnedThenRebaselined) {
  const cv::Mat scene = make_scene(7);
  const cv::Mat other = make_scene(70);
  TamperConfig cfg;
  cfg.rebaseline_s = 30;
  TamperDetector d(cfg);
  const RunSummary s = run(d, 90 * kFps, [&](int i) { return live(i < 15 * kFps ? scene : other, i); });
  const auto starts = s.starts();
  ASSERT_EQ(starts.size(), 1u) << s.describe();
  EXPECT_EQ(starts[0].event.reason, "turned");
  ASSERT_EQ(s.events.size(), 2u) << s.describe();
  EXPECT_EQ(s.events[1].event.end_reason, "rebaselined");
  EXPECT_NEAR(s.events[1].at / 1e9, starts[0].at / 1e9 + cfg.rebaseline_s, 1.0);
  // The new view is the reference now: no new incident for it.
}

TEST(TamperDetector, PannedCameraIsTurned) {
  const cv::Mat scene = make_scene(8);
  // Pan by 40% of the width: part of the old view is still there, but everything has moved.
  cv::Mat panned;
  const cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, -0.4 * scene.cols, 0, 1, 0);
  cv::warpAffine(scene, panned, shift, scene.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT);
  TamperConfig cfg;
  const RunSummary s = run_switch(
      cfg, 15, 30, [&](int i) { return live(scene, i); }, [&](int i) { return live(panned, i); });
  expect_one_start(s, "turned", 15, cfg);
}

TEST(TamperDetector, SmoothLightingRampsRaiseNothing) {
  const cv::Mat scene = make_scene(9);
  TamperDetector d(TamperConfig{});
  // Dusk: to 30% over 40 s, hold, then dawn back over 40 s.
  const RunSummary s = run(d, 120 * kFps, [&](int i) {
    const double t = static_cast<double>(i) / kFps;
    const double g = t < 10 ? 1.0 : t < 50 ? 1.0 - 0.7 * (t - 10) / 40 : t < 70 ? 0.3 : 0.3 + 0.7 * (t - 70) / 40;
    return live(gain(scene, std::min(g, 1.0)), i);
  });
  expect_none(s);
}

TEST(TamperDetector, InfraredDayNightSwitchRaisesNothing) {
  const cv::Mat scene = make_scene(10);
  // Sudden: the cut filter flips, gain and offset change and IR reflectance lifts mid-greys a little.
  cv::Mat ir;
  cv::Mat lut(1, 256, CV_8UC1);
  for (int v = 0; v < 256; ++v)
    lut.at<std::uint8_t>(v) = cv::saturate_cast<std::uint8_t>(30 + 200 * std::pow(v / 255.0, 0.7));
  cv::LUT(scene, lut, ir);
  TamperConfig cfg;
  const RunSummary s = run_switch(
      cfg, 15, 60, [&](int i) { return live(gain(scene, 0.5), i); }, [&](int i) { return live(ir, i, 4.0); });
  expect_none(s);
}

TEST(TamperDetector, HeadlightsRaiseNothing) {
  const cv::Mat scene = make_scene(11);
  TamperConfig cfg;
  // A car waits 10 s with its headlights into the camera: a glare in the lower right, exposure drops elsewhere.
  const RunSummary s = run_switch(
      cfg, 15, 40, [&](int i) { return live(scene, i); },
      [&](int i) {
        cv::Mat img = gain(live(scene, i), 0.6);
        if (i < 25 * kFps) {
          cv::Mat glare(scene.size(), CV_8UC1, cv::Scalar(0));
          cv::circle(glare, {scene.cols * 3 / 4, scene.rows * 3 / 4}, scene.rows / 4, cv::Scalar(255), cv::FILLED);
          cv::GaussianBlur(glare, glare, {0, 0}, 25);
          cv::add(img, glare, img);
        }
        return img;
      });
  expect_none(s);
}

TEST(TamperDetector, SuddenSensorNoiseRaisesNothing) {
  const cv::Mat scene = make_scene(12);
  TamperConfig cfg;
  const RunSummary s = run_switch(
      cfg, 15, 40, [&](int i) { return live(scene, i); }, [&](int i) { return live(scene, i, 8.0); });
  expect_none(s);
}

TEST(TamperDetector, ShortCoverBelowPersistRaisesNothing) {
  const cv::Mat scene = make_scene(13);
  TamperConfig cfg;
  TamperDetector d(cfg);
  const RunSummary s = run(d, 40 * kFps, [&](int i) {
    return i >= 15 * kFps && i < 18 * kFps ? cv::Mat(scene.size(), CV_8UC1, cv::Scalar(0)) : live(scene, i);
  });
  expect_none(s);
}

TEST(TamperDetector, DisabledRaisesNothing) {
  const cv::Mat scene = make_scene(14);
  TamperConfig cfg;
  cfg.enabled = false;
  const RunSummary s = run_switch(
      cfg, 10, 30, [&](int i) { return live(scene, i); },
      [&](int) { return cv::Mat(scene.size(), CV_8UC1, cv::Scalar(0)); });
  expect_none(s);
}

TEST(TamperDetector, NothingIsJudgedWhileLearning) {
  const cv::Mat scene = make_scene(15);
  TamperConfig cfg;
  cfg.learn_s = 10;
  TamperDetector d(cfg);
  run(d, 9 * kFps, [&](int i) { return live(scene, i); });
  EXPECT_FALSE(d.last_measures().has_value());
  run(
      d, 3 * kFps, [&](int i) { return live(scene, i); }, 9 * kFps);
  EXPECT_TRUE(d.last_measures().has_value());
}

TEST(TamperDetector, PersistAndClearAreConfigurable) {
  const cv::Mat scene = make_scene(16);
  TamperConfig cfg;
  cfg.persist_s = 2;
  cfg.clear_s = 1;
  TamperDetector d(cfg);
  const RunSummary s = run(d, 40 * kFps, [&](int i) {
    return i >= 15 * kFps && i < 25 * kFps ? cv::Mat(scene.size(), CV_8UC1, cv::Scalar(0)) : live(scene, i);
  });
  expect_one_start(s, "covered", 15, cfg);
  ASSERT_EQ(s.events.size(), 2u) << s.describe();
  EXPECT_NEAR(s.events[1].at / 1e9, 26.0, 1.0);
}

TEST(TamperDetector, FrameSizeChangeRestartsLearningAndEndsAnOpenIncident) {
  const cv::Mat scene = make_scene(17);
  TamperDetector d(TamperConfig{});
  RunSummary s = run(d, 25 * kFps, [&](int i) {
    return i < 10 * kFps ? live(scene, i) : cv::Mat(scene.size(), CV_8UC1, cv::Scalar(0));
  });
  ASSERT_EQ(s.starts().size(), 1u) << s.describe();
  EXPECT_TRUE(d.active());
  cv::Mat small;
  cv::resize(scene, small, {320, 180});
  s = run(
      d, 10 * kFps, [&](int i) { return live(small, i); }, 25 * kFps);
  ASSERT_EQ(s.events.size(), 1u) << s.describe();
  EXPECT_EQ(s.events[0].event.phase, TamperPhase::kEnd);
  EXPECT_FALSE(d.active());
}

// ---- real footage ----

class TamperRealFrames : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test::vtest_avi().empty()) return;
    // 60 s of vtest.avi (people walking in a hall) at 5 fps, at the engine's default detect size.
    video_ = new test::GrayVideo(test::decode_gray(test::vtest_avi(), 640, 360, 60 * kFps, 0, kFps));
  }
  static void TearDownTestSuite() {
    delete video_;
    video_ = nullptr;
  }
  void SetUp() override {
    if (test::vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_GE(video_->frames.size(), static_cast<std::size_t>(60 * kFps)) << "ffmpeg did not decode vtest.avi";
  }
  static cv::Mat frame(int i) {
    auto& f = video_->frames[static_cast<std::size_t>(i) % video_->frames.size()];
    return cv::Mat(video_->height, video_->width, CV_8UC1, f.data()).clone();
  }
  static test::GrayVideo* video_;
};
test::GrayVideo* TamperRealFrames::video_ = nullptr;

TEST_F(TamperRealFrames, PeopleWalkingRaiseNothing) {
  TamperDetector d(TamperConfig{});
  const RunSummary s = run(d, 60 * kFps, frame);
  expect_none(s);
  std::printf("vtest normal: %s\n", s.describe().c_str());
}

TEST_F(TamperRealFrames, DarkenedToBlackIsCovered) {
  TamperConfig cfg;
  const RunSummary s = run_switch(cfg, 20, 40, frame, [](int i) { return gain(frame(i), 0.03, 16); });
  expect_one_start(s, "covered", 20, cfg);
}

TEST_F(TamperRealFrames, BlurredIsDefocused) {
  TamperConfig cfg;
  const RunSummary s = run_switch(cfg, 20, 40, frame, [](int i) {
    cv::Mat b;
    cv::GaussianBlur(frame(i), b, {0, 0}, 3);
    return b;
  });
  expect_one_start(s, "defocused", 20, cfg);
  std::printf("vtest blurred: %s\n", s.describe().c_str());
}

TEST_F(TamperRealFrames, SwappedSceneIsTurned) {
  TamperConfig cfg;
  // The camera turned to look at another part of the hall: the mirror image puts every edge elsewhere.
  const RunSummary s = run_switch(cfg, 20, 40, frame, [](int i) {
    cv::Mat m;
    cv::flip(frame(i), m, 1);
    return m;
  });
  expect_one_start(s, "turned", 20, cfg);
  std::printf("vtest swapped: %s\n", s.describe().c_str());
}

TEST_F(TamperRealFrames, LightingRampRaisesNothing) {
  TamperDetector d(TamperConfig{});
  const RunSummary s = run(d, 60 * kFps, [](int i) {
    const double t = static_cast<double>(i) / kFps;
    return gain(frame(i), t < 10 ? 1.0 : std::max(0.3, 1.0 - 0.7 * (t - 10) / 40));
  });
  expect_none(s);
  std::printf("vtest ramp: %s\n", s.describe().c_str());
}

TEST_F(TamperRealFrames, InfraredSwitchRaisesNothing) {
  TamperConfig cfg;
  const RunSummary s = run_switch(cfg, 20, 50, frame, [](int i) { return gain(frame(i), 0.55, 40); });
  expect_none(s);
  std::printf("vtest ir: %s\n", s.describe().c_str());
}

// ../shared clips: real lighting and real scenes, none of which is tampering.
RunSummary run_clip(const std::filesystem::path& clip, int width, int height, int max_frames, int fps = kFps) {
  const test::GrayVideo v = test::decode_gray(clip, width, height, max_frames, 0, fps);
  EXPECT_GT(v.frames.size(), 20u) << "ffmpeg decoded nothing from " << clip;
  TamperDetector d(TamperConfig{});
  return run(d, static_cast<int>(v.frames.size()), [&](int i) {
    auto f = v.frames[static_cast<std::size_t>(i)];
    return cv::Mat(height, width, CV_8UC1, f.data()).clone();
  });
}

TEST(TamperSharedMedia, WallflowerTimeOfDayLightsBrighteningSlowlyRaiseNothing) {
  MATTHAN_REQUIRE_SHARED();
  // 5890 frames at 15 fps (6.5 min): the room's lights come up slowly, a person walks in three times.
  // Taken at 5 fps, as the engine would.
  const RunSummary s = run_clip(test::shared_dir() / "media/wallflower/TimeOfDay.mp4", 160, 120, 2000);
  expect_none(s);
  std::printf("TimeOfDay: %s\n", s.describe().c_str());
}

TEST(TamperSharedMedia, EveryGroundTruthClipRaisesNothing) {
  MATTHAN_REQUIRE_SHARED();
  for (const char* clip :
       {"sbi-highwayi/highwayi.mp4", "sbi-caviar1/caviar1.mp4", "sbi-hallandmonitor/hallandmonitor.mp4",
        "sbi-peopleandfoliage/peopleandfoliage.mp4", "cdnet-highway/video03_cdnet_highway.avi",
        "wallflower/WavingTrees.mp4", "wallflower/MovedObject.mp4"}) {
    SCOPED_TRACE(clip);
    // Played at 5 fps frame for frame (a 25 fps clip lasts five times longer): more evaluations per clip.
    const RunSummary s = run_clip(test::shared_dir() / "media" / clip, 320, 240, 2000, 0);
    expect_none(s);
    std::printf("%s: %s\n", clip, s.describe().c_str());
  }
}

TEST(TamperSharedMedia, HallCutToCorridorIsTurned) {
  MATTHAN_REQUIRE_SHARED();
  const test::GrayVideo a =
      test::decode_gray(test::shared_dir() / "media/sbi-hallandmonitor/hallandmonitor.mp4", 352, 240, 296);
  const test::GrayVideo b = test::decode_gray(test::shared_dir() / "media/sbi-caviar1/caviar1.mp4", 352, 240, 296);
  ASSERT_GT(a.frames.size(), 200u);
  ASSERT_GT(b.frames.size(), 200u);
  TamperConfig cfg;
  const auto pick = [](const test::GrayVideo& v, int i) {
    auto f = v.frames[static_cast<std::size_t>(i) % v.frames.size()];
    return cv::Mat(v.height, v.width, CV_8UC1, f.data()).clone();
  };
  const RunSummary s = run_switch(
      cfg, 20, 40, [&](int i) { return pick(a, i); }, [&](int i) { return pick(b, i); });
  expect_one_start(s, "turned", 20, cfg);
}

}  // namespace
}  // namespace matthan
namespace matthan {
namespace {
TEST(TamperDetector, VeryHeavyBlurIsStillTamper) {
  const cv::Mat scene = make_scene(18);
  TamperConfig cfg;
  const RunSummary s = run_switch(
      cfg, 15, 30, [&](int i) { return live(scene, i); },
      [&](int i) {
        cv::Mat b;
        cv::GaussianBlur(live(scene, i, 0), b, {0, 0}, 12);
        return b;
      });
  // So blurred that no edge is left where it was: still tamper, though it may read as `turned`.
  ASSERT_EQ(s.starts().size(), 1u) << s.describe();
}
}  // namespace
}  // namespace matthan
namespace matthan {
namespace {
TEST(TamperDetector, LightsDimmingToNearBlackOverAMinuteRaiseNothing) {
  const cv::Mat scene = make_scene(19);
  TamperDetector d(TamperConfig{});
  // Down to 4% in 60 s and kept there: nearly black, but it got there as lighting does.
  const RunSummary s = run(d, 100 * kFps, [&](int i) {
    const double t = static_cast<double>(i) / kFps;
    return live(gain(scene, t < 10 ? 1.0 : std::max(0.04, 1.0 - (t - 10) / 60)), i, 1.0);
  });
  expect_none(s);
}
}  // namespace
}  // namespace matthan
