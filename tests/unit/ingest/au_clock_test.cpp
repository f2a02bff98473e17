// AccessUnitClock: untimed access units get the previous unit's time plus its duration.
#include "matthan/ingest/au_clock.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

constexpr std::int64_t kMs = 1'000'000;

TEST(AccessUnitClock, TimedUnitsPassThrough) {
  AccessUnitClock c;
  EXPECT_EQ(c.stamp(1000 * kMs, 100 * kMs, 100 * kMs), 1000 * kMs);
  EXPECT_EQ(c.stamp(1100 * kMs, -1, 100 * kMs), 1100 * kMs);
  EXPECT_EQ(c.stamped(), 0u);
}

TEST(AccessUnitClock, NothingBeforeTheFirstTimedUnit) {
  AccessUnitClock c;
  EXPECT_EQ(c.stamp(-1, 100 * kMs, 100 * kMs), -1);
  EXPECT_EQ(c.stamped(), 0u);
}

// The pattern measured under starvation: one timed unit, then a run of untimed ones (the parser's repeats).
TEST(AccessUnitClock, UntimedRunFollowsTheLastTimeByDuration) {
  AccessUnitClock c;
  c.stamp(2943 * kMs, -1, 100 * kMs);
  EXPECT_EQ(c.stamp(-1, -1, 100 * kMs), 3043 * kMs);
  EXPECT_EQ(c.stamp(-1, -1, 100 * kMs), 3143 * kMs);
  EXPECT_EQ(c.stamp(-1, -1, 100 * kMs), 3243 * kMs);
  EXPECT_EQ(c.stamped(), 3u);
  // A timed unit takes over again.
  EXPECT_EQ(c.stamp(3300 * kMs, -1, 100 * kMs), 3300 * kMs);
  EXPECT_EQ(c.stamp(-1, -1, 100 * kMs), 3400 * kMs);
}

TEST(AccessUnitClock, UnitDurationBeatsTheNominalPeriod) {
  AccessUnitClock c;
  c.stamp(0, 40 * kMs, 100 * kMs);
  EXPECT_EQ(c.stamp(-1, 40 * kMs, 100 * kMs), 40 * kMs);
  // Neither known: a fallback step, still forward.
  AccessUnitClock d;
  d.stamp(500 * kMs, -1, 0);
  EXPECT_GT(d.stamp(-1, -1, 0), 500 * kMs);
}

TEST(AccessUnitClock, ResetForgetsTheTimeline) {
  AccessUnitClock c;
  c.stamp(500 * kMs, -1, 100 * kMs);
  c.stamp(-1, -1, 100 * kMs);
  c.reset();
  EXPECT_EQ(c.stamp(-1, -1, 100 * kMs), -1);
  EXPECT_EQ(c.stamped(), 0u);
}

}  // namespace
}  // namespace matthan
