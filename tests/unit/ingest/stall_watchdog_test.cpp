// The stall watchdog's five rules, driven by plain timestamps: each trips within its time and not before.
#include "matthan/ingest/stall_watchdog.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

namespace matthan {
namespace {

using Clock = StallWatchdog::Clock;
using namespace std::chrono_literals;

constexpr MediaTimeNs kFrameNs = kNsPerSecond / 10;

WatchdogPolicy policy() {
  WatchdogPolicy p;
  p.stall_s = 2;
  p.frozen_s = 3;
  p.backwards_s = 0.5;
  p.max_rate_factor = 3;
  p.rate_window_s = 1;
  return p;
}

// Every rule's test starts the same way: a watchdog with its policy, reset at t0, media time from dts.
class StallWatchdogTest : public ::testing::Test {
 protected:
  StallWatchdog& start(const WatchdogPolicy& p = policy(), MediaTimeNs first_dts = 0) {
    watchdog_.emplace(p);
    t0 = Clock::now();
    watchdog_->reset(t0);
    dts = first_dts;
    return *watchdog_;
  }

  // The watchdog tripped, and its reason says `what`.
  static void expect_reason(const std::optional<std::string>& r, const std::string& what) {
    ASSERT_TRUE(r.has_value()) << "no trip; expected one for " << what;
    EXPECT_NE(r->find(what), std::string::npos) << *r;
  }

  Clock::time_point t0;
  MediaTimeNs dts = 0;

 private:
  std::optional<StallWatchdog> watchdog_;
};

// Feeds a healthy 10 fps stream from t0 for `seconds`, each frame a different picture; returns the last time.
Clock::time_point feed_healthy(StallWatchdog& w, Clock::time_point t0, double seconds, MediaTimeNs& dts) {
  auto t = t0;
  for (int i = 0; i < static_cast<int>(seconds * 10); ++i) {
    t = t0 + i * 100ms;
    w.on_packet(t, dts, 10.0);
    dts += kFrameNs;
    w.on_frame(t, 1000 + static_cast<std::uint64_t>(dts));
    EXPECT_EQ(w.check(t), std::nullopt) << "at " << i;
  }
  return t;
}

TEST_F(StallWatchdogTest, HealthyStreamNeverTrips) {
  StallWatchdog& w = start();
  feed_healthy(w, t0, 20, dts);
}

TEST_F(StallWatchdogTest, NoPacketsTripsAfterStallTime) {
  StallWatchdog& w = start();
  const auto t = feed_healthy(w, t0, 3, dts);
  EXPECT_EQ(w.check(t + 1900ms), std::nullopt);
  const auto r = w.check(t + 2100ms);
  expect_reason(r, "no video packets");
}

TEST_F(StallWatchdogTest, PacketsWithoutDecodedFramesTrip) {
  StallWatchdog& w = start();
  auto t = feed_healthy(w, t0, 1, dts);
  std::optional<std::string> r;
  for (int i = 1; i <= 30 && !r; ++i) {
    w.on_packet(t + i * 100ms, dts += kFrameNs, 10.0);
    r = w.check(t + i * 100ms);
    if (i < 19) {
      EXPECT_EQ(r, std::nullopt) << i;
    }
  }
  expect_reason(r, "nothing decoded");
}

// Measured at 48 cameras every frame on 2 cores at load 80: decoder threads got so little CPU that some
// cameras decoded nothing for 5 s while their packets kept coming, and were reconnected. A decoder that
// takes in (almost) nothing is starved, not stuck: it is given kStarvedDecoderFactor x stall_s.
TEST_F(StallWatchdogTest, StarvedDecoderIsGivenTime) {
  StallWatchdog& w = start();  // stall_s 2
  auto t = feed_healthy(w, t0, 1, dts);
  w.on_decoder_input(t);
  std::optional<std::string> r;
  int at = 0;
  for (int i = 1; i <= 200 && !r; ++i) {
    w.on_packet(t + i * 100ms, dts += kFrameNs, 10.0);
    if (i % 50 == 0) w.on_decoder_input(t + i * 100ms);  // one unit every 5 s: starved
    r = w.check(t + i * 100ms);
    at = i;
  }
  expect_reason(r, "nothing decoded");
  EXPECT_GE(at, 115) << "not before 6 x stall_s (12 s) without a frame";
  EXPECT_LE(at, 125);
}

// A decoder that takes in units and gives nothing back is stuck (a broken stream): it trips at stall_s.
TEST_F(StallWatchdogTest, DecoderTakingUnitsButGivingNothingTrips) {
  StallWatchdog& w = start();
  auto t = feed_healthy(w, t0, 1, dts);
  std::optional<std::string> r;
  int at = 0;
  for (int i = 1; i <= 60 && !r; ++i) {
    w.on_packet(t + i * 100ms, dts += kFrameNs, 10.0);
    w.on_decoder_input(t + i * 100ms);
    r = w.check(t + i * 100ms);
    at = i;
  }
  expect_reason(r, "nothing decoded");
  EXPECT_GE(at, 19);
  EXPECT_LE(at, 21);
}

// A recording-only stream (its camera detects on a detect_url) is never decoded: packets alone keep it
// healthy, and it still trips when they stop.
TEST_F(StallWatchdogTest, RecordOnlyStreamNeedsPacketsButNoFrames) {
  WatchdogPolicy p = policy();
  p.expect_frames = false;
  StallWatchdog& w = start(p);
  auto t = t0;
  for (int i = 0; i < 100; ++i) {  // 10 s of packets, no frame at all: far past stall_s and frozen_s
    t = t0 + i * 100ms;
    w.on_packet(t, dts += kFrameNs, 10.0);
    ASSERT_EQ(w.check(t), std::nullopt) << "at " << i;
  }
  const auto r = w.check(t + 2100ms);
  expect_reason(r, "no video packets");
}

TEST_F(StallWatchdogTest, TimestampsJumpingBackTrip) {
  StallWatchdog& w = start(policy(), 50 * kFrameNs);
  const auto t = feed_healthy(w, t0, 1, dts);
  w.on_packet(t + 100ms, dts - 2 * kNsPerSecond, 10.0);
  const auto r = w.check(t + 100ms);
  expect_reason(r, "jumped back");
}

// Under CPU starvation the parser left access units untimed (-1); read as a time they looked like a jump
// back by the whole media time so far, and the camera was reconnected every few seconds (issue 7).
TEST_F(StallWatchdogTest, UntimedPacketsAreNotAJumpBack) {
  StallWatchdog& w = start(policy(), 300 * kFrameNs);  // 30 s into the camera's media time
  auto t = feed_healthy(w, t0, 1, dts);
  for (int i = 0; i < 5; ++i) {
    t += 100ms;
    w.on_packet(t, -1, 10.0);
    w.on_frame(t, 7000 + static_cast<std::uint64_t>(i));
    EXPECT_EQ(w.check(t), std::nullopt) << "untimed packet " << i;
  }
  // The timeline goes on where it was; a real jump back afterwards still trips.
  w.on_packet(t + 100ms, dts + kFrameNs, 10.0);
  EXPECT_EQ(w.check(t + 100ms), std::nullopt);
  w.on_packet(t + 200ms, dts - 2 * kNsPerSecond, 10.0);
  const auto r = w.check(t + 200ms);
  expect_reason(r, "jumped back by 2.1 s");
}

// Untimed packets still prove the stream is alive: no "no video packets" stall while they keep coming.
TEST_F(StallWatchdogTest, UntimedPacketsKeepTheStreamAlive) {
  StallWatchdog& w = start();
  auto t = feed_healthy(w, t0, 1, dts);
  for (int i = 0; i < 40; ++i) {  // 4 s, twice stall_s
    t += 100ms;
    w.on_packet(t, -1, 10.0);
    w.on_frame(t, 9000 + static_cast<std::uint64_t>(i));
    EXPECT_EQ(w.check(t), std::nullopt) << "at " << i;
  }
}

TEST_F(StallWatchdogTest, SmallReorderingIsTolerated) {
  StallWatchdog& w = start(policy(), 50 * kFrameNs);
  const auto t = feed_healthy(w, t0, 1, dts);
  w.on_packet(t + 100ms, dts - kFrameNs, 10.0);
  EXPECT_EQ(w.check(t + 100ms), std::nullopt);
}

TEST_F(StallWatchdogTest, RunawayRateTripsAfterWarmUpOnly) {
  StallWatchdog& w = start();
  // A burst at the start (a jitter buffer emptying) is forgiven.
  for (int i = 0; i < 50; ++i) w.on_packet(t0 + i * 2ms, dts += kFrameNs, 10.0);
  w.on_frame(t0 + 100ms, 1);
  EXPECT_EQ(w.check(t0 + 100ms), std::nullopt);
  // Later, 50 packets per second for a 10 fps stream is a stuck source replaying.
  std::optional<std::string> r;
  for (int i = 0; i < 200 && !r; ++i) {
    const auto t = t0 + 500ms + i * 20ms;
    w.on_packet(t, dts += kFrameNs, 10.0);
    w.on_frame(t, static_cast<std::uint64_t>(i) + 7);
    r = w.check(t);
  }
  expect_reason(r, "replaying");
}

// A starved engine reads its socket late and then drains it: a burst well above 3x the stream's rate, but of
// packets that were late. Measured at 48 cameras on 2 cores: it reconnected cameras as "a stuck source
// replaying". The media time never runs ahead of real time, so it must not trip.
TEST_F(StallWatchdogTest, CatchUpBurstAfterLateReadingIsNotARunaway) {
  WatchdogPolicy p = policy();  // rate window 1 s, factor 3
  p.stall_s = 5;
  StallWatchdog& w = start(p);
  auto t = feed_healthy(w, t0, 3, dts);  // warmed up, on time
  std::uint64_t sig = 50000;
  for (int round = 0; round < 3; ++round) {
    // Nothing read for 4 s, then the 40 frames sent meanwhile arrive within 200 ms (200 frames/s).
    t += 4s;
    for (int i = 0; i < 40; ++i) {
      t += 5ms;
      w.on_packet(t, dts += kFrameNs, 10.0);
      w.on_frame(t, ++sig);
      EXPECT_EQ(w.check(t), std::nullopt) << "round " << round << " packet " << i;
    }
    for (int i = 0; i < 15; ++i) {  // back on time for a while
      t += 100ms;
      w.on_packet(t, dts += kFrameNs, 10.0);
      w.on_frame(t, ++sig);
      EXPECT_EQ(w.check(t), std::nullopt) << "round " << round << " after, " << i;
    }
  }
}

TEST_F(StallWatchdogTest, FrozenPictureTripsAfterFrozenTime) {
  StallWatchdog& w = start();
  std::optional<std::string> r;
  int tripped_at = -1;
  for (int i = 0; i < 60 && !r; ++i) {
    const auto t = t0 + i * 100ms;
    w.on_packet(t, dts += kFrameNs, 10.0);
    w.on_frame(t, 42);  // the same picture every time
    r = w.check(t);
    if (r) tripped_at = i;
  }
  expect_reason(r, "not changed");
  EXPECT_GE(tripped_at, 30);
  EXPECT_LE(tripped_at, 31);
}

TEST_F(StallWatchdogTest, FrozenCheckCanBeDisabled) {
  WatchdogPolicy p = policy();
  p.frozen_s = 0;
  StallWatchdog& w = start(p);
  for (int i = 0; i < 60; ++i) {
    w.on_packet(t0 + i * 100ms, dts += kFrameNs, 10.0);
    w.on_frame(t0 + i * 100ms, 42);
    EXPECT_EQ(w.check(t0 + i * 100ms), std::nullopt);
  }
}

TEST(StallWatchdog, SignatureSeesAnyPixelChangeOnTheGrid) {
  Frame a = make_owned_frame(PixelFormat::kGray8, 640, 360);
  Frame b = make_owned_frame(PixelFormat::kGray8, 640, 360);
  std::memset(const_cast<std::uint8_t*>(a.plane[0]), 80, static_cast<std::size_t>(a.stride[0]) * 360);
  std::memset(const_cast<std::uint8_t*>(b.plane[0]), 80, static_cast<std::size_t>(b.stride[0]) * 360);
  EXPECT_EQ(frame_signature(a), frame_signature(b));
  // Noise-like change: every sampled pixel differs by one level.
  for (int y = 0; y < 360; ++y)
    for (int x = 0; x < 640; ++x) const_cast<std::uint8_t*>(b.plane[0])[y * b.stride[0] + x] = 81;
  EXPECT_NE(frame_signature(a), frame_signature(b));
  EXPECT_EQ(frame_signature(Frame{}), 0u);
}

}  // namespace
}  // namespace matthan
