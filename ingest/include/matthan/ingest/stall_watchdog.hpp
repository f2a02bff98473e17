// The stall watchdog: decides, from plain observations of one streaming attempt, whether the camera has
// stalled (no packets, no frames, time going backwards, a runaway replay, a frozen picture).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "matthan/core/types.hpp"

namespace matthan {

struct WatchdogPolicy {
  double stall_s = 5;            // no packet, or no decoded frame while packets arrive, for this long
  double frozen_s = 10;          // identical decoded frames for this long (0 disables)
  double backwards_s = 0.5;      // a decode timestamp going back by more than this
  double max_rate_factor = 3.0;  // packets arriving faster than this many times the stream's own rate
  double rate_window_s = 3;      // the window the rate is measured over (after the same warm-up)
  // false for a stream that is recorded but never decoded (its camera detects on a detect_url): the
  // no-frames and frozen-picture rules do not apply to it.
  bool expect_frames = true;
  bool operator==(const WatchdogPolicy&) const = default;  // config reload: an unchanged camera is left alone
};

// A cheap fingerprint of a frame's luma (a sampled grid), equal for bit-identical pictures.
std::uint64_t frame_signature(const Frame& frame);

// Pure logic, no threads: the supervisor feeds it and asks check() a few times a second. Not thread-safe;
// the caller serialises (the supervisor holds a mutex around it).
class StallWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StallWatchdog(WatchdogPolicy policy = {}) : policy_(policy) {}

  void reset(Clock::time_point now);  // a new attempt started streaming
  // nominal_fps: the stream's own frame rate (0 when unknown: the rate check is skipped). A negative dts
  // (no timestamp) counts as a packet but is left out of the backwards-time rule.
  void on_packet(Clock::time_point now, MediaTimeNs dts, double nominal_fps);
  void on_frame(Clock::time_point now, std::uint64_t signature);
  // An access unit went into the decoder. Once reported, "nothing decoded" needs the decoder to have taken
  // in kStuckDecoderUnits units since the last frame (a starved decoder takes in nothing), or
  // kStarvedDecoderFactor x stall_s without a frame.
  void on_decoder_input(Clock::time_point now);
  static constexpr int kStuckDecoderUnits = 4;
  static constexpr double kStarvedDecoderFactor = 6;
  // A reason when the stream counts as stalled; nullopt while it is healthy.
  std::optional<std::string> check(Clock::time_point now) const;

  std::optional<Clock::time_point> last_frame() const { return last_frame_; }
  const WatchdogPolicy& policy() const { return policy_; }

 private:
  struct Arrival {
    Clock::time_point at;
    std::optional<std::int64_t> lead_ns;  // media time minus arrival (steady) time; none for an untimed packet
  };
  void note_arrival(Clock::time_point now, std::optional<std::int64_t> lead_ns);
  bool running_ahead() const;  // media time ran ahead of real time in the rate window (see check())

  WatchdogPolicy policy_;
  Clock::time_point started_{};
  Clock::time_point last_packet_{};
  std::optional<Clock::time_point> last_frame_;
  std::optional<MediaTimeNs> max_dts_;
  std::optional<std::string> tripped_;                  // a one-off condition seen on a packet (backwards time)
  std::deque<Arrival> arrivals_;                        // packet arrivals within the rate window
  std::optional<std::int64_t> max_lead_before_window_;  // the largest lead of the packets that left the window
  double nominal_fps_ = 0;
  std::uint64_t frozen_signature_ = 0;
  std::optional<Clock::time_point> frozen_since_;
  bool decoder_fed_ = false;   // on_decoder_input was called in this attempt
  int units_since_frame_ = 0;  // decoder input since the last decoded frame
};

}  // namespace matthan
