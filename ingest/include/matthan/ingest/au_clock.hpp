// Timestamps for access units that leave the parser without one.
#pragma once

#include <cstdint>

namespace matthan {

// baseparse (h264parse, h265parse) uses each upstream timestamp once: when two access units arrive with the
// same PTS (rtpjitterbuffer does that when it clamps a timestamp that would go backwards), the second leaves
// the parser with no PTS and no DTS. Such a unit gets the previous unit's time plus its duration, so nothing
// downstream (the ring, the clips, the decoder, the stall watchdog) sees an unknown time. Times are in ns,
// -1 for "none". Not thread-safe: one streaming thread owns it.
class AccessUnitClock {
 public:
  // The unit's time: `pts` itself when known, else interpolated; -1 when no unit had a time yet.
  // `duration` is the unit's own (-1 when unknown), `period` the stream's nominal frame period (0 unknown).
  std::int64_t stamp(std::int64_t pts, std::int64_t duration, std::int64_t period) {
    const std::int64_t step = duration > 0 ? duration : period > 0 ? period : kFallbackStep;
    if (pts >= 0) {
      last_ = pts;
      last_step_ = step;
      return pts;
    }
    if (last_ < 0) return -1;
    last_ += last_step_ > 0 ? last_step_ : step;
    last_step_ = step;
    ++stamped_;
    return last_;
  }
  // Units that had no time of their own (and got one).
  std::uint64_t stamped() const { return stamped_; }
  void reset() { *this = AccessUnitClock{}; }

 private:
  static constexpr std::int64_t kFallbackStep = 40'000'000;  // 25 fps, when neither is known
  std::int64_t last_ = -1;
  std::int64_t last_step_ = 0;
  std::uint64_t stamped_ = 0;
};

}  // namespace matthan
