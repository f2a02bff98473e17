// RuleEngine on synthetic tracks: zone enter by the bottom-centre point, line crossing only in the set
// direction and not on jitter, loiter timing, label filters, schedules wrapping past midnight.
#include "matthan/events/rules.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

constexpr MediaTimeNs kFrame = kNsPerSecond / 5;
constexpr int kNoon = 12 * 60;

// A 0.1 x 0.2 box whose bottom-centre point is (x, y).
Box standing_at(double x, double y) {
  return Box{x - 0.05, y - 0.2, 0.1, 0.2};
}

const Zone kYard{"cong-truong", {{0.1, 0.5}, {0.6, 0.5}, {0.6, 1.0}, {0.1, 1.0}}};
const Line kRoad{"duong-vao", {0.2, 0.7}, {0.8, 0.7}, LineDirection::kAToB};

TEST(Rules, ZoneEnterUsesTheBottomCentrePointAndFiresOncePerEntry) {
  RuleEngine e({kYard}, {}, {Rule{RuleKind::kZoneEnter, "cong-truong", {"person"}, std::nullopt, 0}});
  // The box's top overlaps the zone while its feet are above it: not in the zone.
  EXPECT_TRUE(e.zones_of(Box{0.3, 0.35, 0.1, 0.14}).empty());
  EXPECT_EQ(e.zones_of(standing_at(0.3, 0.6)), std::vector<std::string>{"cong-truong"});
  int hits = 0;
  MediaTimeNs pts = 0;
  for (double y = 0.3; y < 0.9; y += 0.02, pts += kFrame)
    hits += static_cast<int>(e.observe(1, "person", standing_at(0.3, y), pts, kNoon).size());
  EXPECT_EQ(hits, 1);
  // A car entering is not what this rule asks for.
  for (double y = 0.3; y < 0.9; y += 0.02, pts += kFrame)
    EXPECT_TRUE(e.observe(2, "car", standing_at(0.3, y), pts, kNoon).empty());
  // Leaving and coming back is a second entry.
  e.observe(1, "person", standing_at(0.3, 0.3), pts += kFrame, kNoon);
  EXPECT_EQ(e.observe(1, "person", standing_at(0.3, 0.6), pts += kFrame, kNoon).size(), 1u);
}

TEST(Rules, LineCrossingOnlyInTheSetDirection) {
  RuleEngine e({}, {kRoad}, {Rule{RuleKind::kLineCross, "duong-vao", {}, std::nullopt, 0}});
  // a=(0.2,0.7) -> b=(0.8,0.7) points right; on an image (y down) its right side is below it. Moving
  // down (from above the line to below) is a_to_b.
  int down = 0, up = 0;
  MediaTimeNs pts = 0;
  for (double y = 0.5; y <= 0.9; y += 0.05, pts += kFrame)
    down += static_cast<int>(e.observe(1, "car", standing_at(0.5, y), pts, kNoon).size());
  for (double y = 0.9; y >= 0.5; y -= 0.05, pts += kFrame)
    up += static_cast<int>(e.observe(2, "car", standing_at(0.5, y), pts, kNoon).size());
  EXPECT_EQ(down, 1);
  EXPECT_EQ(up, 0) << "b_to_a crossings do not count on an a_to_b line";
  // Passing beside the segment (x beyond b) is no crossing.
  int beside = 0;
  for (double y = 0.5; y <= 0.9; y += 0.05, pts += kFrame)
    beside += static_cast<int>(e.observe(3, "car", standing_at(0.95, y), pts, kNoon).size());
  EXPECT_EQ(beside, 0);
}

TEST(Rules, JitterOnTheLineIsNotACrossing) {
  Line both = kRoad;
  both.direction = LineDirection::kBoth;
  RuleEngine e({}, {both}, {Rule{RuleKind::kLineCross, "duong-vao", {}, std::nullopt, 0}}, 0.02);
  MediaTimeNs pts = 0;
  e.observe(1, "person", standing_at(0.5, 0.6), pts, kNoon);  // clearly above
  int hits = 0;
  for (int i = 0; i < 50; ++i, pts += kFrame) {
    const double y = 0.7 + ((i % 2) ? 0.012 : -0.012);  // a person standing on the line, swaying
    hits += static_cast<int>(e.observe(1, "person", standing_at(0.5, y), pts, kNoon).size());
  }
  EXPECT_EQ(hits, 0);
  EXPECT_EQ(e.observe(1, "person", standing_at(0.5, 0.8), pts, kNoon).size(), 1u) << "then really crossing counts";
}

TEST(Rules, LoiterFiresAfterTheSetTimeOncePerStay) {
  RuleEngine e({kYard}, {}, {Rule{RuleKind::kLoiter, "cong-truong", {"person"}, std::nullopt, 60}});
  MediaTimeNs pts = 0;
  MediaTimeNs fired_at = -1;
  for (int i = 0; i < 5 * 90; ++i, pts += kFrame) {
    const auto hits = e.observe(1, "person", standing_at(0.3 + 0.0005 * (i % 20), 0.8), pts, kNoon);
    if (!hits.empty()) {
      EXPECT_EQ(fired_at, -1) << "loiter fires once per stay";
      EXPECT_EQ(hits[0].kind, RuleKind::kLoiter);
      fired_at = pts;
    }
  }
  EXPECT_EQ(fired_at, 60 * kNsPerSecond);
}

TEST(Rules, ScheduleWrapsPastMidnight) {
  auto s = Schedule::parse("22:00-05:00");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->contains(23 * 60));
  EXPECT_TRUE(s->contains(2 * 60));
  EXPECT_TRUE(s->contains(22 * 60));
  EXPECT_FALSE(s->contains(5 * 60));
  EXPECT_FALSE(s->contains(kNoon));
  EXPECT_FALSE(Schedule::parse("25:00-05:00").ok());
  EXPECT_FALSE(Schedule::parse("22:00").ok());

  RuleEngine e({kYard}, {}, {Rule{RuleKind::kZoneEnter, "cong-truong", {"person"}, *s, 0}});
  EXPECT_TRUE(e.observe(1, "person", standing_at(0.3, 0.8), 0, kNoon).empty()) << "at noon the rule sleeps";
  EXPECT_EQ(e.observe(2, "person", standing_at(0.3, 0.8), 0, 2 * 60).size(), 1u) << "at 02:00 it fires";
}

TEST(Rules, MinuteOfDayInHoChiMinhTime) {
  // 2026-11-28T19:00:00Z is 02:00 on the 29th in Asia/Ho_Chi_Minh (+07:00).
  const WallTime t = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + std::chrono::hours(19);
  EXPECT_EQ(minute_of_day(t, 7 * 60), 2 * 60);
}

}  // namespace
}  // namespace matthan
