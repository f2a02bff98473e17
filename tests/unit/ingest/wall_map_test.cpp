// WallMap: one pts -> wall map for a camera's packets and frames, never later than an arrival.
#include "matthan/ingest/wall_map.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace matthan {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = 1000 * kMs;
constexpr std::int64_t kEpoch = 1'790'000'000 * kS;  // some wall-clock instant
constexpr std::int64_t kFrame = 100 * kMs;           // 10 fps

struct Unit {
  std::int64_t arrival, pts;
};

// Feeds the units in order; after each, the unit's own wall time must not be later than its arrival.
void feed(WallMap& m, const std::vector<Unit>& units) {
  for (const Unit& u : units) {
    m.observe(u.arrival, u.pts);
    const auto w = m.wall_ns(u.pts);
    ASSERT_TRUE(w);
    ASSERT_LE(*w, u.arrival) << "pts " << u.pts / kMs << " ms is dated after its own arrival";
  }
}

TEST(WallMap, NothingBeforeTheFirstUnit) {
  WallMap m;
  EXPECT_FALSE(m.wall_ns(0));
  EXPECT_FALSE(m.settled(kEpoch));
  // A frame decoded before any packet was seen takes its own time as the arrival.
  EXPECT_EQ(m.wall_ns_or_observe(kEpoch, 5 * kMs), kEpoch);
  EXPECT_EQ(m.wall_ns(105 * kMs), kEpoch + 100 * kMs);
}

// A camera (or a relay with a GOP cache) that sends a second of buffered frames at once on connect, then
// live ones: the first unit's arrival minus its pts is a whole second too late for every unit after it.
TEST(WallMap, ABurstOnConnectDoesNotDateLaterFramesInTheFuture) {
  WallMap m;
  std::vector<Unit> units;
  for (int i = 0; i < 10; ++i) units.push_back({kEpoch + i * kMs, i * kFrame});  // 1 s of media in 10 ms
  for (int i = 10; i < 100; ++i) units.push_back({kEpoch + (i - 9) * kFrame + 20 * kMs, i * kFrame});
  feed(m, units);
  // The settled offset is the burst's last unit: arrival - pts = kEpoch + 9 ms - 900 ms.
  EXPECT_EQ(*m.wall_ns(0), kEpoch - 891 * kMs);
  // Every unit, stamped now, is at or before its arrival (a frame decoded late is still dated by the map).
  for (const Unit& u : units) EXPECT_LE(*m.wall_ns(u.pts), u.arrival);
}

TEST(WallMap, ALateFirstPacketIsForgottenAtOnce) {
  WallMap m;
  feed(m, {{kEpoch + 400 * kMs, 0}, {kEpoch + 100 * kMs, kFrame}, {kEpoch + 200 * kMs, 2 * kFrame}});
  EXPECT_EQ(*m.wall_ns(3 * kFrame), kEpoch + 300 * kMs);
}

// Network jitter of 0..80 ms: the map settles on the quickest delivery and stays there.
TEST(WallMap, JitterSettlesOnTheQuickestDelivery) {
  WallMap m;
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::int64_t> jitter(0, 80 * kMs);
  std::vector<Unit> units;
  for (int i = 0; i < 600; ++i) units.push_back({kEpoch + i * kFrame + 5 * kMs + jitter(rng), i * kFrame});
  feed(m, units);
  // The map's delay: what it takes as the camera-to-engine delay of every unit (wall = pts + epoch + delay).
  const std::int64_t delay = *m.wall_ns(0) - kEpoch;
  EXPECT_GE(delay, 5 * kMs);
  EXPECT_LE(delay, 5 * kMs + 2 * kMs) << "the map should sit within a couple of ms of the quickest delivery";
}

// Frames come in decode order, packets in arrival order: a wall time handed out later for a later pts is never
// earlier than one handed out before, beyond a drift-sized fall.
void expect_tracks_clock(double camera_rate) {
  WallMap m;
  std::int64_t previous_wall = 0;
  std::int64_t worst = 0;
  for (int i = 0; i < 36000; ++i) {  // one hour at 10 fps
    const std::int64_t arrival = kEpoch + i * kFrame + 30 * kMs;
    const auto pts = static_cast<std::int64_t>(static_cast<double>(i * kFrame) * camera_rate);
    m.observe(arrival, pts);
    const std::int64_t wall = *m.wall_ns(pts);
    ASSERT_LE(wall, arrival);
    if (i > 0) {
      ASSERT_GE(wall, previous_wall) << "wall time went backwards at unit " << i;
    }
    previous_wall = wall;
    worst = std::max(worst, arrival - wall - 30 * kMs);
  }
  // 50 ppm is 180 ms an hour; the map stays within the window's share of it.
  EXPECT_LE(worst, 3 * kMs);
}

TEST(WallMap, FollowsACameraClockThatRunsSlow) {
  expect_tracks_clock(1.0 - 50e-6);
}

TEST(WallMap, FollowsACameraClockThatRunsFast) {
  expect_tracks_clock(1.0 + 50e-6);
}

// A delay that grows for good (a new network route) is followed slowly: at most 1 ms per second.
TEST(WallMap, ALastingLongerDelayIsFollowedSlowly) {
  WallMap m;
  int i = 0;
  for (; i < 100; ++i) m.observe(kEpoch + i * kFrame + 10 * kMs, i * kFrame);
  for (; i < 100 + 600; ++i) m.observe(kEpoch + i * kFrame + 210 * kMs, i * kFrame);  // +200 ms for a minute
  const std::int64_t offset_after_a_minute = *m.wall_ns(0) - kEpoch;
  // 30 s of window (give or take a 1 s bucket) before the old minimum is forgotten, then at most 1 ms per
  // second for the remaining 30 s or so.
  EXPECT_GT(offset_after_a_minute, 10 * kMs + 20 * kMs);
  EXPECT_LE(offset_after_a_minute, 10 * kMs + 32 * kMs);
  for (; i < 100 + 600 + 3000; ++i) m.observe(kEpoch + i * kFrame + 210 * kMs, i * kFrame);
  EXPECT_EQ(*m.wall_ns(0) - kEpoch, 210 * kMs) << "reached after about 200 s of slewing";
}

// The camera's clock jumped back by a minute: once the window has forgotten the old minimum the map steps.
TEST(WallMap, AJumpOfTheCameraClockIsTakenAfterTheWindow) {
  WallMap m;
  int i = 0;
  for (; i < 100; ++i) m.observe(kEpoch + i * kFrame, i * kFrame);
  for (; i < 500; ++i) m.observe(kEpoch + i * kFrame, (i - 600) * kFrame);
  const std::int64_t arrival = kEpoch + 499 * kFrame;
  EXPECT_EQ(*m.wall_ns(-101 * kFrame), arrival);
}

TEST(WallMap, SettledAfterASecondOfArrivals) {
  WallMap m;
  m.observe(kEpoch, 0);
  EXPECT_FALSE(m.settled(kEpoch + 999 * kMs));
  EXPECT_TRUE(m.settled(kEpoch + kS));
  m.reset();
  EXPECT_FALSE(m.settled(kEpoch + kS));
  EXPECT_FALSE(m.wall_ns(0));
}

}  // namespace
}  // namespace matthan
