// Tracker on synthetic tracks: ids survive missed frames, crossing objects keep their ids, confirmation,
// forgetting, label compatibility.
#include "matthan/detect/tracker.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

constexpr MediaTimeNs kFrame = kNsPerSecond / 5;  // 5 fps analysis

Detection det(const std::string& label, double x, double y, double w = 0.05, double h = 0.15, double score = 0.8) {
  return Detection{label, score, Box{x, y, w, h}};
}

const Track* find(const std::vector<Track>& ts, std::int64_t id) {
  for (const auto& t : ts)
    if (t.id == id) return &t;
  return nullptr;
}

TEST(Tracker, ConfirmsAfterHitsAndKeepsIdThroughTwoMissedFrames) {
  Tracker tr(TrackerConfig{});
  std::int64_t id = 0;
  for (int i = 0; i < 10; ++i) {
    const MediaTimeNs pts = i * kFrame;
    const double x = 0.1 + 0.03 * i;  // 0.15 frame widths per second
    std::vector<Detection> ds;
    if (i != 5 && i != 6) ds.push_back(det("person", x, 0.4));  // missed on frames 5 and 6
    const auto& ts = tr.update(ds, pts);
    ASSERT_EQ(ts.size(), 1u) << "frame " << i;
    if (i == 0) id = ts[0].id;
    EXPECT_EQ(ts[0].id, id) << "frame " << i;
    EXPECT_EQ(ts[0].confirmed, i >= 2) << "frame " << i;
    EXPECT_EQ(ts[0].seen, i != 5 && i != 6);
  }
  EXPECT_NEAR(tr.tracks()[0].vx, 0.15, 0.02);
}

TEST(Tracker, TwoObjectsCrossingKeepTheirIds) {
  Tracker tr(TrackerConfig{});
  std::int64_t left_id = 0, right_id = 0;
  for (int i = 0; i <= 20; ++i) {
    const MediaTimeNs pts = i * kFrame;
    const double a = 0.1 + 0.04 * i;  // left to right
    const double b = 0.9 - 0.04 * i;  // right to left, same height: they overlap around i = 10
    const auto& ts = tr.update({det("person", a, 0.4), det("person", b, 0.42)}, pts);
    ASSERT_EQ(ts.size(), 2u) << "frame " << i;
    if (i == 0) {
      left_id = ts[0].box.x < ts[1].box.x ? ts[0].id : ts[1].id;
      right_id = ts[0].box.x < ts[1].box.x ? ts[1].id : ts[0].id;
    }
    const Track* l = find(ts, left_id);
    const Track* r = find(ts, right_id);
    ASSERT_TRUE(l && r);
    EXPECT_NEAR(l->box.x, a, 1e-9) << "frame " << i << ": the left-starting track jumped";
    EXPECT_NEAR(r->box.x, b, 1e-9) << "frame " << i << ": the right-starting track jumped";
  }
}

TEST(Tracker, UnconfirmedOneOffIsDroppedConfirmedStillObjectIsKept) {
  TrackerConfig c;
  c.max_unseen_s = 10;
  Tracker tr(c);
  tr.update({det("car", 0.5, 0.5, 0.2, 0.1)}, 0);  // one-off false hit
  EXPECT_EQ(tr.age(2 * kNsPerSecond).size(), 0u);

  for (int i = 0; i < 3; ++i) tr.update({det("car", 0.2, 0.5, 0.2, 0.1)}, 3 * kNsPerSecond + i * kFrame);
  ASSERT_EQ(tr.tracks().size(), 1u);
  const std::int64_t id = tr.tracks()[0].id;
  // Nothing moves for 8 s (the detector does not run); then the car is seen again, same id.
  const auto& ts = tr.update({det("car", 0.2, 0.5, 0.2, 0.1)}, 12 * kNsPerSecond);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].id, id);
  EXPECT_EQ(tr.age(30 * kNsPerSecond).size(), 0u) << "forgotten after max_unseen_s";
}

TEST(Tracker, LabelsMustBeCompatible) {
  Tracker tr(TrackerConfig{});
  tr.update({det("car", 0.3, 0.5, 0.2, 0.1)}, 0);
  tr.update({det("truck", 0.3, 0.5, 0.2, 0.1)}, kFrame);
  EXPECT_EQ(tr.tracks().size(), 1u) << "car and truck are one vehicle";
  tr.update({det("person", 0.3, 0.5, 0.2, 0.1)}, 2 * kFrame);
  EXPECT_EQ(tr.tracks().size(), 2u) << "a person is never the same track as a car";
}

TEST(Tracker, FastSmallObjectIsFollowedByCentroidWhenBoxesDoNotOverlap) {
  Tracker tr(TrackerConfig{});
  std::int64_t id = 0;
  for (int i = 0; i < 6; ++i) {
    // 0.04 wide, moving 0.05 per frame: consecutive boxes never overlap.
    const auto& ts = tr.update({det("motorbike", 0.1 + 0.05 * i, 0.6, 0.04, 0.06)}, i * kFrame);
    ASSERT_EQ(ts.size(), 1u) << "frame " << i;
    if (i == 0) id = ts[0].id;
    EXPECT_EQ(ts[0].id, id);
  }
}

}  // namespace
}  // namespace matthan
