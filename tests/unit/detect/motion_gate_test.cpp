// MotionGate on hand-drawn masks: swinging in place stops counting, growing in place never counts, a
// travelling region counts within a second.
#include "matthan/detect/motion_gate.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace matthan {
namespace {

constexpr int kW = 160, kH = 120;
constexpr MediaTimeNs kFrame = kNsPerSecond / 10;  // 10 fps

std::vector<std::uint8_t> mask_with(const std::vector<cv::Rect>& rects) {
  cv::Mat m = cv::Mat::zeros(kH, kW, CV_8UC1);
  for (const auto& r : rects) cv::rectangle(m, r, cv::Scalar(255), cv::FILLED);
  return {m.datastart, m.dataend};
}

// Two seconds of empty masks: the gate's learning period.
MediaTimeNs learn(MotionGate& g) {
  MediaTimeNs pts = 0;
  for (int i = 0; i < 25; ++i, pts += kFrame) EXPECT_FALSE(g.update(mask_with({}), kW, kH, pts).motion);
  return pts;
}

TEST(MotionGate, SolidRegionGrowingInPlaceNeverCounts) {
  MotionGateConfig c;
  c.solid_area = 1.0;  // only travel may count here
  MotionGate g{c};
  MediaTimeNs pts = learn(g);
  // Light spreading from a lamp: the region grows, its edges move apart, it does not travel.
  for (int i = 0; i < 40; ++i, pts += kFrame) {
    const GateResult r = g.update(mask_with({{100 - i, 20 - i / 2, 10 + 2 * i, 10 + i}}), kW, kH, pts);
    EXPECT_FALSE(r.motion) << "frame " << i;
  }
}

TEST(MotionGate, RegionSwingingInPlaceStopsCountingOnceHabitual) {
  MotionGate g{MotionGateConfig{}};
  MediaTimeNs pts = learn(g);
  int counted = 0;
  // A branch swinging 6 px either way, half of the time: once its area's activity has built up (about
  // two activity_s time constants) it is habitual and counts no more.
  for (int i = 0; i < 350; ++i, pts += kFrame) {
    const int dx = (i / 3) % 2 ? 6 : -6;
    const GateResult r = g.update(mask_with({{70 + dx, 30, 16, 30}}), kW, kH, pts);
    if (i >= 250) counted += r.motion ? 1 : 0;
  }
  EXPECT_EQ(counted, 0);
}

TEST(MotionGate, TravellingRegionCountsWithinASecond) {
  MotionGate g{MotionGateConfig{}};
  MediaTimeNs pts = learn(g);
  int first = -1;
  GateResult last;
  for (int i = 0; i < 30; ++i, pts += kFrame) {
    const cv::Rect person(10 + 3 * i, 50, 12, 30);  // 30 px/s across a 160 px frame
    last = g.update(mask_with({person}), kW, kH, pts);
    if (last.motion && first < 0) first = i;
  }
  ASSERT_GE(first, 0);
  EXPECT_LE(first, 10) << "counted after " << first << " frames";
  EXPECT_NEAR(last.box.x, (10 + 3 * 29) / double(kW), 0.02);
  EXPECT_NEAR(last.box.w, 12.0 / kW, 0.02);
  EXPECT_GT(last.score, 0.9);
}

// A small region (under 0.6 % of the frame) counts by travel only when its path went one way: a flicker
// piece hopping to and fro can drift as far in a second as a distant walker does.
TEST(MotionGate, SmallRegionHoppingToAndFroDoesNotCountASmallWalkerDoes) {
  MotionGateConfig c;
  c.solid_area = 1.0;  // only travel may count here
  const auto counted = [&](bool hop) {
    MotionGate g{c};
    MediaTimeNs pts = learn(g);
    int x = 20, n = 0;
    for (int i = 0; i < 30; ++i, pts += kFrame) {
      x += hop ? (i % 2 ? 6 : -4) : 2;  // both drift: hop 10 px/s, walk 20 px/s (0.05 of the width is 8 px)
      n += g.update(mask_with({{x, 60, 8, 10}}), kW, kH, pts).motion ? 1 : 0;
    }
    return n;
  };
  EXPECT_GT(counted(false), 0) << "an 8x10 px walker going one way";
  EXPECT_EQ(counted(true), 0) << "an 8x10 px piece hopping +6 / -4 px";
}

// Light creeping over a wall drifts like a slow object; the background check tells it apart. The same
// drifting region counts when the picture there is not the background relit.
TEST(MotionGate, DriftingRegionThatIsOnlyLightDoesNotCount) {
  for (const double match : {0.95, 0.2}) {
    MotionGate g{MotionGateConfig{}};
    MediaTimeNs pts = learn(g);
    int counted = 0;
    std::vector<Box> asked;
    for (int i = 0; i < 30; ++i, pts += kFrame) {
      const GateResult r = g.update(mask_with({{30 + 3 * i, 40, 20, 20}}), kW, kH, pts, [&](const Box& b) {
        asked.push_back(b);
        return match;
      });
      counted += r.motion ? 1 : 0;
    }
    ASSERT_FALSE(asked.empty()) << "the gate must ask before a travelling region counts";
    EXPECT_NEAR(asked.front().w, 20.0 / kW, 0.01);
    if (match > MotionGateConfig{}.light_match)
      EXPECT_EQ(counted, 0) << "relit background";
    else
      EXPECT_GT(counted, 15) << "an object in front of the background";
  }
}

// Someone walking in from the side: the box's outer edge stays on the frame's border while the inner edge
// moves in, which is travel (the rule "both edges move the same way" alone would never see it).
TEST(MotionGate, RegionWalkingInFromTheBorderCountsWithinASecond) {
  MotionGate g{MotionGateConfig{}};
  MediaTimeNs pts = learn(g);
  int first = -1;
  for (int i = 0; i < 20; ++i, pts += kFrame) {
    const int w = 4 + 3 * i;
    if (g.update(mask_with({{kW - w, 30, w, 60}}), kW, kH, pts).motion && first < 0) first = i;
  }
  ASSERT_GE(first, 0) << "never counted";
  EXPECT_LE(first, 10);
}

// Flicker: a piece that swells and shrinks as it hops is not travel, even when one hop moves its edges
// further than min_travel the same way (a small piece of the corner becomes a wide one).
TEST(MotionGate, PieceThatSwellsAndShrinksDoesNotCountAsTravel) {
  MotionGateConfig c;
  c.solid_area = 1.0;  // only travel may count here
  MotionGate g{c};
  MediaTimeNs pts = learn(g);
  for (int i = 0; i < 30; ++i, pts += kFrame) {
    const bool big = i % 2;
    // small: 12x8 at (80, 44); big: 24x12 overlapping it, both of its x edges 9 and 21 px further right
    const cv::Rect piece = big ? cv::Rect(89, 40, 24, 12) : cv::Rect(80, 44, 12, 8);
    EXPECT_FALSE(g.update(mask_with({piece}), kW, kH, pts).motion) << "frame " << i;
  }
}

// A solid block (fill 1, 6 % of the frame) appearing where nothing habitually moves is confirmed on its first
// frame (solid_persist_s 0), and the result is dated from that frame. Before solid_persist_s it waited
// persist_s like any region.
TEST(MotionGate, SolidRegionInAStillSceneCountsOnItsFirstFrame) {
  MotionGate g{MotionGateConfig{}};
  MediaTimeNs pts = learn(g);
  const GateResult r = g.update(mask_with({{40, 40, 40, 30}}), kW, kH, pts);
  EXPECT_TRUE(r.motion);
  EXPECT_EQ(r.since, pts);
  EXPECT_NEAR(r.box.w, 40.0 / kW, 1e-9);
}

// The quick path is only for solid regions: a small one (under solid_area) still waits persist_s, and so does a
// solid one with solid_persist_s set back to persist_s.
TEST(MotionGate, SmallRegionOrQuickPathOffStillWaitsPersistence) {
  const auto first_counted = [](MotionGateConfig c, const cv::Rect& start) {
    MotionGate g{c};
    MediaTimeNs pts = learn(g);
    for (int i = 0; i < 20; ++i, pts += kFrame) {
      cv::Rect r = start;
      r.x += 3 * i;
      if (g.update(mask_with({r}), kW, kH, pts).motion) return i;
    }
    return -1;
  };
  MotionGateConfig quick;
  EXPECT_EQ(first_counted(quick, {20, 40, 40, 30}), 0);  // solid
  EXPECT_EQ(first_counted(quick, {20, 50, 12, 30}), 4);  // 1.9 % of the frame: persist_s 0.4 s at 10 fps
  MotionGateConfig off;
  off.solid_persist_s = off.persist_s;
  EXPECT_EQ(first_counted(off, {20, 40, 40, 30}), 4);
  off.solid_persist_s = -1;
  EXPECT_EQ(first_counted(off, {20, 40, 40, 30}), 4);
}

// Where foreground is habitual (a tree that swayed there for seconds), a solid region is judged the usual way:
// it counts only after persist_s, as someone in front of the trees does.
TEST(MotionGate, SolidRegionOverHabitualForegroundWaitsPersistence) {
  MotionGate g{MotionGateConfig{}};
  MediaTimeNs pts = learn(g);
  // Foliage: scattered specks over the area, every other frame, for 20 s (activity about 0.5 there).
  cv::Mat specks = cv::Mat::zeros(kH, kW, CV_8UC1);
  for (int y = 40; y < 70; y += 4)
    for (int x = 40; x < 80; x += 4) cv::rectangle(specks, cv::Rect(x, y, 2, 2), cv::Scalar(255), cv::FILLED);
  const std::vector<std::uint8_t> foliage(specks.datastart, specks.dataend);
  for (int i = 0; i < 200; ++i, pts += kFrame) g.update(i % 2 ? foliage : mask_with({}), kW, kH, pts);
  int first = -1;
  for (int i = 0; i < 10; ++i, pts += kFrame) {
    const GateResult r = g.update(mask_with({{38, 38, 44, 34}}), kW, kH, pts);
    if (r.motion && first < 0) first = i;
  }
  EXPECT_EQ(first, 4) << "a solid region over habitual foreground counted after " << first << " frames";
}

// min_frames (motion.start_frames) is counted inside the persistence window: with persist_s 0 a travelling
// region counts on its third frame, and the result is dated from its first.
TEST(MotionGate, MinFramesAreCountedInThePersistenceWindow) {
  MotionGateConfig c;
  c.persist_s = 0;
  c.min_frames = 3;
  c.min_travel = 0.01;
  MotionGate g{c};
  MediaTimeNs pts = learn(g);
  const MediaTimeNs first_pts = pts;
  int first = -1;
  GateResult at;
  for (int i = 0; i < 10; ++i, pts += kFrame) {
    const GateResult r = g.update(mask_with({{20 + 3 * i, 50, 12, 30}}), kW, kH, pts);
    if (r.motion && first < 0) {
      first = i;
      at = r;
    }
  }
  EXPECT_EQ(first, 2);
  EXPECT_EQ(at.since, first_pts);
}

TEST(MotionGate, NothingCountsWhileLearningOrWithoutAMask) {
  MotionGate g{MotionGateConfig{}};
  MediaTimeNs pts = 0;
  for (int i = 0; i < 15; ++i, pts += kFrame)  // 1.5 s < learn_s
    EXPECT_FALSE(g.update(mask_with({{10 + 5 * i, 50, 12, 30}}), kW, kH, pts).motion);
  EXPECT_FALSE(g.update({}, 0, 0, pts).motion);
}

// Empty masks (a still scene) take a shorter path through the gate; it must still age the tracks and let the
// habit map fade, as a mask with foreground elsewhere would.
TEST(MotionGate, TracksAreForgottenOverEmptyMasks) {
  MotionGate g{MotionGateConfig{}};
  MediaTimeNs pts = learn(g);
  const auto person = [](int i) { return cv::Rect(10 + 3 * i, 50, 12, 30); };
  for (int i = 0; i < 3; ++i, pts += kFrame) EXPECT_FALSE(g.update(mask_with({person(i)}), kW, kH, pts).motion);
  // 0.6 s of empty masks: longer than max_gap_s (0.5), so the track is gone ...
  for (int i = 0; i < 6; ++i, pts += kFrame) EXPECT_FALSE(g.update(mask_with({}), kW, kH, pts).motion);
  // ... and the region that comes back starts a new one, which must persist again before it counts. Had the
  // old track (first seen 0.9 s ago) been kept, it would count at once.
  EXPECT_FALSE(g.update(mask_with({person(3)}), kW, kH, pts).motion);
  pts += kFrame;
  int first = -1;
  for (int i = 4; i < 20 && first < 0; ++i, pts += kFrame)
    if (g.update(mask_with({person(i)}), kW, kH, pts).motion) first = i;
  EXPECT_GE(first, 6) << "counted after " << first - 3 << " frames";
  EXPECT_LE(first, 13);
}

TEST(MotionGate, HabitFadesOverEmptyMasks) {
  // A branch swings until its area is habitual; then the scene is still (empty masks) for a while; then a
  // person walks through that area. After 2 s of stillness the area is still habitual and the person does not
  // count there; after 40 s (four activity_s) the habit has faded and the person counts within a second.
  const auto first_count = [](int still_frames) {
    MotionGate g{MotionGateConfig{}};
    MediaTimeNs pts = learn(g);
    for (int i = 0; i < 350; ++i, pts += kFrame) {
      const int dx = (i / 3) % 2 ? 6 : -6;
      g.update(mask_with({{70 + dx, 30, 16, 30}}), kW, kH, pts);
    }
    for (int i = 0; i < still_frames; ++i, pts += kFrame) EXPECT_FALSE(g.update(mask_with({}), kW, kH, pts).motion);
    for (int i = 0; i < 10; ++i, pts += kFrame)
      if (g.update(mask_with({{62 + 2 * i, 30, 12, 30}}), kW, kH, pts).motion) return i;
    return -1;
  };
  EXPECT_EQ(first_count(20), -1);
  const int after_long = first_count(400);
  EXPECT_GE(after_long, 0);
  EXPECT_LE(after_long, 9);
}

}  // namespace
}  // namespace matthan
