// PacketRing: GOP alignment, the seconds and bytes bounds, oversized GOPs, seeking and reading.
#include "matthan/storage/packet_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace matthan {
namespace {

constexpr MediaTimeNs kMs = 1'000'000;

EncodedPacket packet(MediaTimeNs pts, bool key, std::size_t size = 100) {
  EncodedPacket p;
  p.data = std::make_shared<const std::vector<std::uint8_t>>(size, std::uint8_t{0});
  p.pts = pts;
  p.dts = pts;
  p.keyframe = key;
  return p;
}

// Pushes `seconds` of a 10 fps stream with a keyframe every `gop_frames` frames, starting at frame `first`.
void push_stream(PacketRing& ring, int first, int frames, int gop_frames, std::size_t size = 100) {
  for (int i = first; i < first + frames; ++i) ring.push(packet(i * 100 * kMs, i % gop_frames == 0, size));
}

MediaTimeNs oldest_pts(const PacketRing& ring) {
  const auto slice = ring.read_from(0, 1);
  return slice.packets.empty() ? -1 : slice.packets.front().pts;
}

TEST(PacketRing, DropsNonKeyframesUntilTheFirstKeyframe) {
  PacketRing ring({});
  EXPECT_EQ(ring.push(packet(0, false)), 0u);
  EXPECT_EQ(ring.push(packet(100 * kMs, false)), 0u);
  EXPECT_EQ(ring.push(packet(200 * kMs, true)), 1u);
  EXPECT_EQ(ring.push(packet(300 * kMs, false)), 2u);
  const auto s = ring.stats();
  EXPECT_EQ(s.dropped_before_keyframe, 2u);
  EXPECT_EQ(s.pushed, 4u);
  EXPECT_EQ(s.packets, 2u);
  EXPECT_EQ(s.gops, 1u);
  EXPECT_EQ(ring.next_seq(), 3u);
  const auto slice = ring.read_from(1);
  ASSERT_EQ(slice.packets.size(), 2u);
  EXPECT_TRUE(slice.packets.front().keyframe);
  EXPECT_EQ(slice.packets.front().pts, 200 * kMs);
}

TEST(PacketRing, SecondsBoundEvictsWholeGopsButKeepsCoverage) {
  PacketRing ring({.max_seconds = 5.0, .max_bytes = 1u << 30});
  // Keyframes every 2 s at 10 fps; check the invariants after every push over 30 s.
  for (int i = 0; i < 300; ++i) {
    ring.push(packet(i * 100 * kMs, i % 20 == 0));
    const MediaTimeNs newest = *ring.newest_pts();
    const auto slice = ring.read_from(0, 1);
    ASSERT_TRUE(slice.packets.front().keyframe) << "ring must start on a keyframe at push " << i;
    if (newest >= 5 * kNsPerSecond) {
      // A keyframe at or before newest - 5 s is still held...
      ASSERT_LE(oldest_pts(ring), newest - 5 * kNsPerSecond) << "push " << i;
      // ...and not a whole GOP more than needed.
      ASSERT_GT(oldest_pts(ring) + 2 * kNsPerSecond, newest - 5 * kNsPerSecond) << "push " << i;
    }
  }
  const auto s = ring.stats();
  EXPECT_GT(s.evicted, 0u);
  EXPECT_EQ(s.evicted + s.packets, 300u);
  EXPECT_LE(s.span, 7 * kNsPerSecond);
}

TEST(PacketRing, LongKeyframeIntervalKeepsAnOlderGopForPreRoll) {
  // Keyframes every 10 s, a 5 s ring: pre-roll needs the keyframe before newest - 5 s, so up to 15 s stay.
  PacketRing ring({.max_seconds = 5.0, .max_bytes = 1u << 30});
  push_stream(ring, 0, 230, 100);  // 0 .. 22.9 s
  EXPECT_EQ(oldest_pts(ring), 10 * kNsPerSecond);
  EXPECT_EQ(ring.stats().gops, 2u);
  const auto kf = ring.keyframe_at_or_before(*ring.newest_pts() - 5 * kNsPerSecond);
  ASSERT_TRUE(kf.has_value());
  EXPECT_EQ(ring.read_from(*kf, 1).packets.front().pts, 10 * kNsPerSecond);
  push_stream(ring, 230, 30, 100);  // up to 25.9 s: newest - 5 > 20 s, so the GOP at 10 s may go
  EXPECT_EQ(oldest_pts(ring), 20 * kNsPerSecond);
  EXPECT_EQ(ring.stats().gops, 1u);
}

TEST(PacketRing, BytesBoundIsHard) {
  // 1000-byte packets, 10-packet GOPs, 25 kB: at most two full GOPs plus part of a third.
  PacketRing ring({.max_seconds = 1000.0, .max_bytes = 25'000});
  for (int i = 0; i < 200; ++i) {
    ring.push(packet(i * 100 * kMs, i % 10 == 0, 1000));
    const auto s = ring.stats();
    ASSERT_LE(s.bytes, 25'000u) << "push " << i;
    ASSERT_TRUE(ring.read_from(0, 1).packets.front().keyframe);
  }
  const auto s = ring.stats();
  EXPECT_GE(s.bytes, 15'000u);  // it evicts whole GOPs, but only as many as it must
  EXPECT_EQ(s.dropped_oversized_gop, 0u);
  EXPECT_EQ(s.evicted + s.packets, 200u);
}

TEST(PacketRing, GopLargerThanTheRingIsDroppedUntilTheNextKeyframe) {
  PacketRing ring({.max_seconds = 1000.0, .max_bytes = 5'000});
  push_stream(ring, 0, 4, 1000, 1000);  // keyframe + 3: 4 kB, fits
  EXPECT_EQ(ring.stats().packets, 4u);
  EXPECT_EQ(ring.push(packet(400 * kMs, false, 1000)), 5u);  // exactly 5 kB
  EXPECT_EQ(ring.push(packet(500 * kMs, false, 1000)), 0u);  // would be 6 kB in one GOP
  auto s = ring.stats();
  EXPECT_EQ(s.packets, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.dropped_oversized_gop, 6u);  // the five held plus this one
  EXPECT_FALSE(ring.keyframe_at_or_before(0).has_value());
  EXPECT_EQ(ring.push(packet(600 * kMs, false, 10)), 0u);  // still refused: not a keyframe
  EXPECT_EQ(ring.stats().dropped_oversized_gop, 7u);
  EXPECT_EQ(ring.stats().dropped_before_keyframe, 0u);

  EXPECT_EQ(ring.push(packet(700 * kMs, true, 1000)), 6u);  // sequence numbers are never reused
  EXPECT_EQ(ring.push(packet(800 * kMs, false, 1000)), 7u);
  const auto slice = ring.read_from(2);
  EXPECT_EQ(slice.missed, 4u);  // seqs 2..5 are gone
  EXPECT_EQ(slice.first_seq, 6u);
  ASSERT_EQ(slice.packets.size(), 2u);
  EXPECT_TRUE(slice.packets.front().keyframe);

  // A single keyframe larger than the whole ring cannot be held either.
  EXPECT_EQ(ring.push(packet(900 * kMs, true, 6'000)), 0u);
  s = ring.stats();
  EXPECT_EQ(s.packets, 0u);
  EXPECT_EQ(ring.push(packet(1000 * kMs, false, 10)), 0u);
}

TEST(PacketRing, KeyframeAtOrBefore) {
  PacketRing ring({.max_seconds = 1000.0, .max_bytes = 1u << 30});
  EXPECT_FALSE(ring.keyframe_at_or_before(0).has_value());
  push_stream(ring, 10, 60,
              20);  // frames 10..69: keyframes at frames 20, 40, 60 (frame 10's leading packets drop)
  ASSERT_EQ(ring.stats().dropped_before_keyframe, 10u);
  const auto pts_of = [&](std::uint64_t seq) { return ring.read_from(seq, 1).packets.front().pts; };
  EXPECT_EQ(pts_of(*ring.keyframe_at_or_before(5 * kNsPerSecond)), 4 * kNsPerSecond);
  EXPECT_EQ(pts_of(*ring.keyframe_at_or_before(4 * kNsPerSecond)), 4 * kNsPerSecond);
  EXPECT_EQ(pts_of(*ring.keyframe_at_or_before(4 * kNsPerSecond - 1)), 2 * kNsPerSecond);
  EXPECT_EQ(pts_of(*ring.keyframe_at_or_before(100 * kNsPerSecond)), 6 * kNsPerSecond);
  // Nothing that old: the oldest keyframe held.
  EXPECT_EQ(*ring.keyframe_at_or_before(0), 1u);
}

TEST(PacketRing, ReadFromReportsMissedPacketsAndResumes) {
  PacketRing ring({.max_seconds = 1.0, .max_bytes = 1u << 30});
  push_stream(ring, 0, 15, 5);  // GOPs of 0.5 s
  auto first = ring.read_from(1, 4);
  EXPECT_EQ(first.missed, 0u);
  EXPECT_EQ(first.first_seq, 1u);
  EXPECT_EQ(first.next_seq, 5u);
  ASSERT_EQ(first.packets.size(), 4u);
  push_stream(ring, 15, 20, 5);  // frames up to 3.4 s: the early GOPs are evicted
  const auto s = ring.stats();
  ASSERT_GT(s.evicted, 4u);
  const auto slice = ring.read_from(first.next_seq);
  EXPECT_EQ(slice.missed, s.evicted - 4);
  EXPECT_EQ(slice.first_seq, first.next_seq + slice.missed);
  EXPECT_TRUE(slice.packets.front().keyframe);
  EXPECT_EQ(slice.packets.size(), s.packets);
  EXPECT_EQ(slice.next_seq, ring.next_seq());
  // Caught up: an empty slice that keeps the cursor.
  const auto none = ring.read_from(slice.next_seq);
  EXPECT_TRUE(none.packets.empty());
  EXPECT_EQ(none.missed, 0u);
  EXPECT_EQ(none.next_seq, slice.next_seq);
}

TEST(PacketRing, OnePusherOneReaderSeeEveryPacketOnceOrCountItMissed) {
  PacketRing ring({.max_seconds = 0.5, .max_bytes = 64 * 1000});
  constexpr int kPackets = 20'000;
  std::atomic<bool> done{false};
  std::thread pusher([&] {
    for (int i = 0; i < kPackets; ++i) ring.push(packet(i * 10 * kMs, i % 10 == 0, 500 + (i % 7) * 100));
    done = true;
  });
  std::uint64_t next = 1, received = 0, missed = 0;
  bool in_order = true;
  for (;;) {
    const bool finished = done.load();
    const auto slice = ring.read_from(next, 64);
    missed += slice.missed;
    if (slice.first_seq != next + slice.missed) in_order = false;
    for (std::size_t i = 1; i < slice.packets.size(); ++i) {
      if (slice.packets[i].pts <= slice.packets[i - 1].pts) in_order = false;
    }
    received += slice.packets.size();
    next = slice.next_seq;
    if (finished && slice.packets.empty()) break;
  }
  pusher.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(received + missed, ring.next_seq() - 1);
  EXPECT_EQ(ring.stats().pushed, static_cast<std::uint64_t>(kPackets));
  EXPECT_LE(ring.stats().bytes, 64u * 1000u);
}

// Issue 19, section 3: after a reconnect the log warned "keyframe interval 53.0 s is over 4 s": the ring
// measured from the last keyframe before the outage to the first one after it. A connection brings its own
// stream config, and the interval is measured within one.
TEST(PacketRingKeyframes, TheOutageOfAReconnectIsNoKeyframeInterval) {
  PacketRing ring(PacketRingLimits{.max_seconds = 30, .max_bytes = 64u << 20});
  const WallTime t0 = WallTime{} + std::chrono::hours(24 * 365 * 56);
  const auto push = [&](int frame, bool key, const std::shared_ptr<const StreamInfo>& stream) {
    EncodedPacket p = packet(frame * 100 * kMs, key);
    p.stream = stream;
    p.wall = t0 + std::chrono::milliseconds(frame * 100);
    ring.push(std::move(p));
  };
  const auto before = std::make_shared<const StreamInfo>();
  const auto after = std::make_shared<const StreamInfo>();  // equal in value, but another connection's
  // 2 s GOPs at 10 fps for 6 s, 50 s of outage, then the new connection with 3 s GOPs.
  for (int n = 0; n < 60; ++n) push(n, n % 20 == 0, before);
  for (int n = 560; n < 570; ++n) push(n, (n - 560) % 30 == 0, after);
  EXPECT_EQ(ring.stats().keyframe_interval, 2 * kNsPerSecond) << "the 50 s outage is not counted";
  for (int n = 570; n < 600; ++n) push(n, (n - 560) % 30 == 0, after);
  EXPECT_EQ(ring.stats().keyframe_interval, 3 * kNsPerSecond) << "the new connection's own interval is";
}

// The same when the stream config is shared (or unknown): a silence longer than any connected camera's marks
// the reconnect.
TEST(PacketRingKeyframes, ASilenceOfMoreThanTheConnectionGapStartsANewEstimate) {
  PacketRing ring(PacketRingLimits{.max_seconds = 30, .max_bytes = 64u << 20});
  const WallTime t0 = WallTime{} + std::chrono::hours(24 * 365 * 56);
  const auto push = [&](int frame, bool key) {
    EncodedPacket p = packet(frame * 100 * kMs, key);
    p.wall = t0 + std::chrono::milliseconds(frame * 100);
    ring.push(std::move(p));
  };
  for (int n = 0; n < 60; ++n) push(n, n % 20 == 0);
  for (int n = 560; n < 570; ++n) push(n, n % 20 == 0);
  EXPECT_EQ(ring.stats().keyframe_interval, 2 * kNsPerSecond);
  // A long GOP without a silence is still a long GOP: 8 s between keyframes, packets flowing.
  PacketRing steady(PacketRingLimits{.max_seconds = 30, .max_bytes = 64u << 20});
  for (int n = 0; n < 200; ++n) {
    EncodedPacket p = packet(n * 100 * kMs, n % 80 == 0);
    p.wall = t0 + std::chrono::milliseconds(n * 100);
    steady.push(std::move(p));
  }
  EXPECT_EQ(steady.stats().keyframe_interval, 8 * kNsPerSecond);
}

}  // namespace
}  // namespace matthan

namespace matthan {
namespace {

TEST(PacketRingKeyframes, ReportsTheLongestKeyframeIntervalHeld) {
  PacketRing ring(PacketRingLimits{.max_seconds = 30, .max_bytes = 64u << 20});
  EXPECT_EQ(ring.stats().keyframe_interval, 0);
  // GOPs of 6 s at 10 fps, then one short GOP of 2 s (a stream loop): the 6 s interval is still reported.
  for (int n = 0; n < 140; ++n) {
    const bool key = n % 60 == 0 || n == 120;
    ring.push(packet(static_cast<MediaTimeNs>(n) * 100'000'000, key));
  }
  EXPECT_EQ(ring.stats().keyframe_interval, 6 * kNsPerSecond);
}

}  // namespace
}  // namespace matthan
