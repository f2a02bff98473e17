// Rules wired into CameraAnalysis: synthetic frames with a moving "person" (a bright block the motion
// detector sees) and a scripted detector reporting it, through motion -> detector -> tracker -> rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "matthan/analysis/camera_analysis.hpp"
#include "matthan/app/config.hpp"
#include "matthan/core/time.hpp"
#include "matthan/test/frame_helpers.hpp"

namespace matthan {
namespace {

constexpr int kWidth = 320, kHeight = 180;
constexpr MediaTimeNs kFrame = kNsPerSecond / 5;

// Reports whatever the scene says is there, once per frame (on the first crop), whatever the crops are.
class ScriptedDetector : public ObjectDetector {
 public:
  explicit ScriptedDetector(std::shared_ptr<std::vector<Detection>> script,
                            std::chrono::milliseconds cost = std::chrono::milliseconds(0))
      : script_(std::move(script)), cost_(cost) {}
  std::string describe() const override { return "scripted"; }
  int input_size() const override { return 64; }
  std::vector<std::vector<Detection>> detect(std::span<const CropRequest> crops) override {
    ++forward_calls_;
    if (cost_.count() > 0) std::this_thread::sleep_for(cost_);  // a forward pass that takes this long
    std::vector<std::vector<Detection>> out(crops.size());
    if (!out.empty()) out[0] = *script_;
    return out;
  }

 private:
  std::shared_ptr<std::vector<Detection>> script_;
  std::chrono::milliseconds cost_;
};

CameraConfig camera() {
  CameraConfig c;
  c.id = "gate";
  c.detect.objects.enabled = true;
  c.detect.objects.labels = {"person", "car"};
  c.detect.objects.confirm_frames = 2;
  c.motion.end_seconds = 2;
  c.rules.zones = {Zone{"lower", {{0.0, 0.5}, {1.0, 0.5}, {1.0, 1.0}, {0.0, 1.0}}}};
  c.rules.time_zone = "Asia/Ho_Chi_Minh";
  return c;
}

// A camera's analysis fed with a textured background and, when shown, a 0.1 x 0.2 person standing at
// (x, y) (its bottom-centre point), which the scripted detector reports.
class Scene {
 public:
  Scene(const CameraConfig& c, WallTime wall0, std::chrono::milliseconds detector_cost = std::chrono::milliseconds(0))
      : wall0_(wall0), script_(std::make_shared<std::vector<Detection>>()) {
    auto a = CameraAnalysis::create(c.analysis(), std::make_unique<ScriptedDetector>(script_, detector_cost));
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
    if (a.ok()) analysis = std::move(a.value());
    bg_ = cv::Mat(kHeight, kWidth, CV_8UC1);
    cv::RNG rng(1234);
    rng.fill(bg_, cv::RNG::UNIFORM, 60, 110);
    cv::GaussianBlur(bg_, bg_, {7, 7}, 0);
    for (int i = 0; i < 20; ++i) empty();
  }

  void empty() {
    script_->clear();
    feed(bg_);
  }
  void person_at(double x, double y) {
    const Box b{x - 0.05, y - 0.2, 0.1, 0.2};
    *script_ = {Detection{"person", 0.8, b}};
    cv::Mat img = bg_.clone();
    draw(img, b);
    feed(img);
  }
  // The person at (x, y) as above, and a new moving thing at `other` that the detector must look at; the
  // detector finds nothing on this frame (it reports neither).
  void unseen_person_and_other(double x, double y, const Box& other) {
    script_->clear();
    cv::Mat img = bg_.clone();
    draw(img, Box{x - 0.05, y - 0.2, 0.1, 0.2});
    draw(img, other);
    feed(img);
  }

  // Things moving at `boxes` at once; the detector reports `reported` (on its first crop).
  void moving(const std::vector<Box>& boxes, std::vector<Detection> reported) {
    *script_ = std::move(reported);
    cv::Mat img = bg_.clone();
    for (const Box& b : boxes) draw(img, b);
    feed(img);
  }

  int count(IncidentPhase phase, const std::string& kind) const {
    int n = 0;
    for (const auto& [p, inc] : events) n += p == phase && to_string(inc.kind) == kind;
    return n;
  }
  const Incident* first(IncidentPhase phase, const std::string& kind) const {
    for (const auto& [p, inc] : events)
      if (p == phase && to_string(inc.kind) == kind) return &inc;
    return nullptr;
  }

  std::unique_ptr<CameraAnalysis> analysis;
  std::vector<IncidentChange> events;
  std::vector<AnalysisOutput> outputs;  // every frame's, in order
  MediaTimeNs pts = 0;

 private:
  void feed(const cv::Mat& luma) {
    Frame f = test::luma_to_frame(luma);
    f.camera = "gate";
    f.pts = pts;
    f.wall = wall0_ + std::chrono::nanoseconds(pts);
    const AnalysisOutput out = analysis->process(f);
    events.insert(events.end(), out.events.begin(), out.events.end());
    outputs.push_back(out);
    pts += kFrame;
  }

  static void draw(cv::Mat& img, const Box& b) {
    cv::rectangle(img,
                  cv::Rect(static_cast<int>(b.x * kWidth), static_cast<int>(b.y * kHeight),
                           static_cast<int>(b.w * kWidth), static_cast<int>(b.h * kHeight)),
                  cv::Scalar(230), cv::FILLED);
  }

  WallTime wall0_;
  std::shared_ptr<std::vector<Detection>> script_;
  cv::Mat bg_;
};

// 23:00 and 12:00 in Ho Chi Minh City (UTC+7).
WallTime night() {
  return *utc_time(2026, 11, 28, 16, 0, 0);
}
WallTime noon() {
  return *utc_time(2026, 11, 28, 5, 0, 0);
}

TEST(RulesWiring, WalkingIntoAZoneRaisesOneZoneEnterAndNoObjectIncident) {
  CameraConfig c = camera();
  c.rules.rules = {Rule{RuleKind::kZoneEnter, "lower", {"person"}, std::nullopt, 0}};
  Scene s(c, night());
  ASSERT_TRUE(s.analysis);
  EXPECT_TRUE(s.analysis->rules_enabled());
  EXPECT_NE(s.analysis->describe().find("zone_enter lower"), std::string::npos) << s.analysis->describe();
  for (double y = 0.3; y < 0.9; y += 0.02) s.person_at(0.5, y);
  ASSERT_EQ(s.count(IncidentPhase::kStart, "zone_enter"), 1);
  const Incident& inc = *s.first(IncidentPhase::kStart, "zone_enter");
  EXPECT_EQ(inc.label, "person");
  ASSERT_TRUE(inc.track.has_value());
  EXPECT_GT(*inc.track, 0);
  EXPECT_EQ(inc.zones, std::vector<std::string>{"lower"});
  ASSERT_TRUE(inc.rule.has_value());
  EXPECT_EQ(inc.rule->kind, "zone_enter");
  EXPECT_EQ(inc.rule->zone, "lower");
  EXPECT_GT(inc.box.y + inc.box.h, 0.5);
  EXPECT_EQ(s.count(IncidentPhase::kStart, "object"), 0) << "with rules, only rule incidents are raised";
  // The person leaves the picture: the incident ends once the track is quiet.
  for (int i = 0; i < 40; ++i) s.empty();
  ASSERT_EQ(s.count(IncidentPhase::kEnd, "zone_enter"), 1);
  EXPECT_EQ(s.first(IncidentPhase::kEnd, "zone_enter")->end_reason, "quiet");
  EXPECT_TRUE(s.analysis->close(s.pts, night(), "shutdown").empty());
}

// /metrics times the motion detector on every analysed frame and the object detector on each frame it ran on
// (the engine feeds these figures to matthan_detector_latency_seconds{detector="motion"|"objects"}).
TEST(RulesWiring, EachFrameSaysWhatEachDetectorCost) {
  Scene s(camera(), noon(), std::chrono::milliseconds(15));
  ASSERT_TRUE(s.analysis);
  for (const AnalysisOutput& o : s.outputs) {  // the empty warm-up: motion only, no detector run
    EXPECT_GT(o.motion_seconds, 0.0);
    EXPECT_FALSE(o.detector_ran);
    EXPECT_EQ(o.detector_seconds, 0.0);
  }
  const std::size_t before = s.outputs.size();
  for (double y = 0.3; y < 0.9; y += 0.05) s.person_at(0.5, y);
  int runs = 0;
  for (std::size_t i = before; i < s.outputs.size(); ++i) {
    const AnalysisOutput& o = s.outputs[i];
    EXPECT_GT(o.motion_seconds, 0.0);
    if (!o.detector_ran) {
      EXPECT_EQ(o.detector_seconds, 0.0);
      continue;
    }
    ++runs;
    EXPECT_GE(o.detector_seconds, 0.015) << "frame " << i << ": the detector's call took at least its 15 ms";
  }
  EXPECT_GT(runs, 0) << "the walking person never reached the object detector";
}

// detect.objects.recheck_s: once a walking person is a confirmed track, the motion it explains goes to the
// detector about once per recheck_s instead of on every analysed frame; the incident is the same.
TEST(RulesWiring, RecheckSendsAKnownTracksMotionToTheDetectorLessOften) {
  auto walk = [](double recheck_s, int& runs, int& first_runs) {
    CameraConfig c = camera();
    c.detect.objects.recheck_s = recheck_s;
    Scene s(c, noon());
    EXPECT_TRUE(s.analysis);
    if (!s.analysis) return 0;
    const std::size_t before = s.outputs.size();
    for (double y = 0.3; y < 0.9; y += 0.02) s.person_at(0.5, y);  // 30 frames, 6 s at 5 fps
    runs = first_runs = 0;
    int with_motion = 0;
    for (std::size_t i = before; i < s.outputs.size(); ++i) {
      if (!s.outputs[i].motion.motion) continue;
      ++with_motion;
      runs += s.outputs[i].detector_ran;
      // The person is new: looked at on every frame until confirmed (camera(): confirm_frames 2).
      if (with_motion <= 2) first_runs += s.outputs[i].detector_ran;
    }
    return s.count(IncidentPhase::kStart, "object");
  };
  int every = 0, every_first = 0, budget = 0, budget_first = 0;
  EXPECT_EQ(walk(0, every, every_first), 1);
  EXPECT_EQ(walk(1.0, budget, budget_first), 1) << "the same one incident with the detection budget";
  EXPECT_GE(every, 25) << "without recheck_s, every analysed frame with motion goes to the detector";
  EXPECT_EQ(budget_first, 2) << "a new object is detected on every frame until its track is confirmed";
  EXPECT_LE(budget, every / 2) << "with recheck_s 1, the known person is looked at about once a second";
  EXPECT_GE(budget, 2 + 5) << "and still re-detected every second or so (about 28 frames after confirmation)";
}

// On a frame where recheck_s spared the detector a known person, the output still says where the camera
// believes that person is (its track's predicted box, labelled), which is what `matthan eval` scores; without
// recheck_s, or where the detector ran and saw the person, there is no such box.
TEST(RulesWiring, RecheckSparedFramesCarryTheTracksPredictedBox) {
  auto walk = [](double recheck_s, int& spared, int& tracked_frames, double& worst_iou) {
    CameraConfig c = camera();
    c.detect.objects.recheck_s = recheck_s;
    Scene s(c, noon());
    EXPECT_TRUE(s.analysis);
    if (!s.analysis) return;
    const std::size_t before = s.outputs.size();
    std::vector<Box> truth;
    for (double y = 0.3; y < 0.9; y += 0.02) {
      s.person_at(0.5, y);
      truth.push_back(Box{0.5 - 0.05, y - 0.2, 0.1, 0.2});
    }
    spared = tracked_frames = 0;
    worst_iou = 1.0;
    for (std::size_t i = before; i < s.outputs.size(); ++i) {
      const AnalysisOutput& o = s.outputs[i];
      spared += o.motion.motion && !o.detector_ran;
      if (o.tracked.empty()) continue;
      ++tracked_frames;
      EXPECT_FALSE(o.detector_ran) << "frame " << i << ": the detector saw the person, so no predicted box as well";
      ASSERT_EQ(o.tracked.size(), 1u) << "frame " << i;
      EXPECT_EQ(o.tracked[0].label, "person");
      EXPECT_DOUBLE_EQ(o.tracked[0].score, 0.8) << "the track's latest detection score";
      worst_iou = std::min(worst_iou, iou(o.tracked[0].box, truth[i - before]));
    }
  };
  int spared = 0, tracked = 0;
  double worst = 0;
  walk(0, spared, tracked, worst);
  EXPECT_EQ(spared, 0);
  EXPECT_EQ(tracked, 0) << "without recheck_s the detector runs on every frame with motion";
  walk(1.0, spared, tracked, worst);
  EXPECT_GE(spared, 15) << "recheck_s 1 spares the detector most of the walk";
  EXPECT_EQ(tracked, spared) << "every spared frame with motion carries the person's predicted box";
  EXPECT_GE(worst, 0.5) << "the constant-velocity prediction follows the walk";
}

// Where the detector ran over a known person (a crop of other motion covered it) and did not find him, its
// answer stands: no predicted box stands in for it. A crop that misses him leaves his predicted box.
TEST(RulesWiring, RecheckGivesNoPredictedBoxWhereACropLooked) {
  auto tracked_after_other_motion = [](double whole_frame) {
    CameraConfig c = camera();
    c.detect.objects.recheck_s = 1.0;
    c.detect.objects.crop.whole_frame = whole_frame;  // crops covering this share of the picture: the whole picture
    Scene s(c, noon());
    EXPECT_TRUE(s.analysis);
    if (!s.analysis) return std::size_t{99};
    for (double y = 0.3; y < 0.5; y += 0.02) s.person_at(0.3, y);   // confirmed, then spared the detector
    s.unseen_person_and_other(0.3, 0.5, Box{0.85, 0.1, 0.1, 0.1});  // new motion far from him
    const AnalysisOutput& o = s.outputs.back();
    EXPECT_TRUE(o.detector_ran) << "the new motion goes to the detector";
    return o.tracked.size();
  };
  EXPECT_EQ(tracked_after_other_motion(0.6), 1u) << "the crop of the new motion does not cover the person";
  EXPECT_EQ(tracked_after_other_motion(0.001), 0u) << "the crop is the whole picture: the detector looked";
}

// detect.objects.crop.one_pass_min_px: two movers far apart go to the detector as one pass on the square
// around their crops, and what that pass sees between the crops (a parked car) does not count.
TEST(RulesWiring, OnePassJoinsFarApartMotionAndCountsOnlyWhatItsCropsSaw) {
  const Box left{0.1, 0.3, 0.1, 0.2}, right{0.8, 0.3, 0.1, 0.2};  // 32 x 36 px each, crops of 64 px
  const Detection person{"person", 0.8, left}, parked{"car", 0.9, Box{0.4, 0.05, 0.2, 0.15}};
  auto frame_with_both = [&](double one_pass_min_px) {
    CameraConfig c = camera();
    c.detect.objects.crop.one_pass_min_px = one_pass_min_px;
    Scene s(c, noon());
    EXPECT_TRUE(s.analysis);
    if (!s.analysis) return AnalysisOutput{};
    s.moving({left, right}, {person, parked});
    return s.outputs.back();
  };
  const auto labels = [](const AnalysisOutput& o) {
    std::vector<std::string> out;
    for (const Detection& d : o.detections) out.push_back(d.label);
    return out;
  };
  // Joined, the square is 288 x 180 px stretched to the 64 px input: each mover spans about 9.5 input pixels.
  const AnalysisOutput joined = frame_with_both(6);
  ASSERT_TRUE(joined.detector_ran);
  EXPECT_EQ(joined.detector_crops, 1u) << "one pass instead of two";
  EXPECT_EQ(labels(joined), std::vector<std::string>{"person"}) << "the car between the crops is no news";
  const AnalysisOutput apart = frame_with_both(20);
  ASSERT_TRUE(apart.detector_ran);
  EXPECT_EQ(apart.detector_crops, 2u) << "9.5 px is under 20: each mover keeps its own crop";
  EXPECT_EQ(frame_with_both(0).detector_crops, 2u) << "0: crops are never joined";
}

TEST(RulesWiring, WithoutRulesObjectIncidentsCarryTheirZones) {
  Scene s(camera(), night());
  ASSERT_TRUE(s.analysis);
  EXPECT_FALSE(s.analysis->rules_enabled());
  for (double y = 0.3; y < 0.9; y += 0.02) s.person_at(0.5, y);
  ASSERT_EQ(s.count(IncidentPhase::kStart, "object"), 1);
  EXPECT_TRUE(s.first(IncidentPhase::kStart, "object")->zones.empty()) << "it started above the zone";
  bool in_zone = false;
  for (const auto& [p, inc] : s.events)
    in_zone |= p == IncidentPhase::kUpdate && inc.zones == std::vector<std::string>{"lower"};
  EXPECT_TRUE(in_zone) << "an update says the person is in the zone now";
  for (const auto& [p, inc] : s.events) EXPECT_FALSE(inc.rule.has_value());
  const auto closed = s.analysis->close(s.pts, night(), "shutdown");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].zones, std::vector<std::string>{"lower"});
}

TEST(RulesWiring, AnObjectIncidentEndsOnceItsObjectIsGone) {
  // Frames without motion skip the detector; the track is then unseen, not "seen in the last run".
  Scene s(camera(), night());
  ASSERT_TRUE(s.analysis);
  for (double y = 0.3; y < 0.9; y += 0.02) s.person_at(0.5, y);
  ASSERT_EQ(s.count(IncidentPhase::kStart, "object"), 1);
  const MediaTimeNs gone = s.pts;
  for (int i = 0; i < 20; ++i) s.empty();
  ASSERT_EQ(s.count(IncidentPhase::kEnd, "object"), 1);
  const Incident& end = *s.first(IncidentPhase::kEnd, "object");
  EXPECT_EQ(end.end_reason, "quiet");
  EXPECT_LT(end.end_pts, gone) << "it ended at the last sighting";
}

TEST(RulesWiring, LineCrossOnlyInItsDirection) {
  CameraConfig c = camera();
  c.rules.lines = {Line{"road", {0.0, 0.6}, {1.0, 0.6}, LineDirection::kAToB}};  // a_to_b: moving down
  c.rules.rules = {Rule{RuleKind::kLineCross, "road", {}, std::nullopt, 0}};
  Scene s(c, night());
  ASSERT_TRUE(s.analysis);
  for (double y = 0.95; y > 0.3; y -= 0.02) s.person_at(0.5, y);
  EXPECT_TRUE(s.events.empty()) << "walking up crosses b_to_a";
  for (double y = 0.3; y < 0.95; y += 0.02) s.person_at(0.5, y);
  ASSERT_EQ(s.count(IncidentPhase::kStart, "line_cross"), 1);
  ASSERT_EQ(s.count(IncidentPhase::kEnd, "line_cross"), 1);
  const Incident& end = *s.first(IncidentPhase::kEnd, "line_cross");
  EXPECT_EQ(end.end_reason, "crossed");
  ASSERT_TRUE(end.rule.has_value());
  EXPECT_EQ(end.rule->line, "road");
  EXPECT_EQ(end.label, "person");
}

TEST(RulesWiring, LoiterFiresAfterItsSeconds) {
  CameraConfig c = camera();
  c.rules.rules = {Rule{RuleKind::kLoiter, "lower", {"person"}, std::nullopt, 3}};
  Scene s(c, night());
  ASSERT_TRUE(s.analysis);
  const MediaTimeNs first = s.pts;
  // Pacing to and fro inside the zone (moving, so the detector keeps looking).
  for (int i = 0; i < 5 * 6; ++i) s.person_at(i % 20 < 10 ? 0.3 + 0.02 * (i % 10) : 0.5 - 0.02 * (i % 10), 0.8);
  ASSERT_EQ(s.count(IncidentPhase::kStart, "loiter"), 1);
  const Incident& inc = *s.first(IncidentPhase::kStart, "loiter");
  // The rules see the track from its confirmation (the second frame) on.
  EXPECT_GE(inc.start_pts - first, 3 * kNsPerSecond);
  EXPECT_LE(inc.start_pts - first, 3 * kNsPerSecond + 3 * kFrame);
  EXPECT_EQ(inc.rule->zone, "lower");
  EXPECT_EQ(s.count(IncidentPhase::kStart, "object"), 0);
  EXPECT_EQ(s.analysis->close(s.pts, night(), "shutdown").size(), 1u);
}

TEST(RulesWiring, ScheduleOutsideItsWindowRaisesNothing) {
  CameraConfig c = camera();
  auto window = Schedule::parse("22:00-05:00");
  ASSERT_TRUE(window.ok());
  c.rules.rules = {Rule{RuleKind::kZoneEnter, "lower", {"person"}, window.value(), 0}};
  Scene day(c, noon());
  ASSERT_TRUE(day.analysis);
  for (double y = 0.3; y < 0.9; y += 0.02) day.person_at(0.5, y);
  EXPECT_TRUE(day.events.empty()) << "12:00 local is outside 22:00-05:00";
  Scene late(c, night());
  ASSERT_TRUE(late.analysis);
  for (double y = 0.3; y < 0.9; y += 0.02) late.person_at(0.5, y);
  EXPECT_EQ(late.count(IncidentPhase::kStart, "zone_enter"), 1) << "23:00 local is inside it";
}

TEST(RulesWiring, UnknownTimeZoneIsAnError) {
  CameraConfig c = camera();
  c.rules.rules = {Rule{RuleKind::kZoneEnter, "lower", {}, std::nullopt, 0}};
  c.rules.time_zone = "Mars/Olympus_Mons";
  auto a = CameraAnalysis::create(c.analysis(),
                                  std::make_unique<ScriptedDetector>(std::make_shared<std::vector<Detection>>()));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("time_zone"), std::string::npos);
}

}  // namespace
}  // namespace matthan
