// WallAnchor: the media-time to wall-time offset behind every frame's wall time (an incident's started_at).
#include "matthan/ingest/wall_anchor.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kEpoch = 1'800'000'000'000 * kMs;  // some wall time, in ns

TEST(WallAnchor, ALateFirstPacketIsCorrectedByTheNextOnTime) {
  WallAnchor a;
  // The first keyframe reaches us 600 ms late (a start-up burst); the packets after it arrive on time.
  EXPECT_EQ(a.observe(kEpoch + 600 * kMs, 0, true), kEpoch + 600 * kMs);
  EXPECT_EQ(a.observe(kEpoch + 100 * kMs + 5 * kMs, 100 * kMs, false), kEpoch + 5 * kMs);
  EXPECT_EQ(a.observe(kEpoch + 200 * kMs + 2 * kMs, 200 * kMs, false), kEpoch + 2 * kMs);
  // A later packet delayed by scheduling does not move the offset.
  EXPECT_EQ(a.observe(kEpoch + 300 * kMs + 80 * kMs, 300 * kMs, false), kEpoch + 2 * kMs);
}

TEST(WallAnchor, FollowsACameraClockThatRunsSlowAtKeyframes) {
  WallAnchor a(2000 * kMs);
  // The camera's clock loses 10 ms per second against ours: arrival - pts grows by 1 ms every 100 ms.
  std::int64_t offset = 0;
  for (int i = 0; i <= 100; ++i) {  // 10 s at 10 fps, a keyframe every 2 s
    const std::int64_t pts = i * 100 * kMs;
    offset = a.observe(kEpoch + pts + i * kMs, pts, i % 20 == 0);
  }
  // Re-anchored at the keyframe at 10 s to the smallest difference of the window since the keyframe at 8 s
  // (+80 ms, 20 ms under the truth at 10 s); a first-packet anchor would still say +0 ms, 100 ms off.
  EXPECT_EQ(offset, kEpoch + 80 * kMs);
}

TEST(WallAnchor, AResetStartsAfresh) {
  WallAnchor a;
  a.observe(kEpoch, 0, true);
  EXPECT_TRUE(a.has_offset());
  a.reset();
  EXPECT_FALSE(a.has_offset());
  EXPECT_EQ(a.observe(kEpoch + 50 * kMs, 0, true), kEpoch + 50 * kMs) << "a new session's first packet anchors anew";
}

}  // namespace
}  // namespace matthan
