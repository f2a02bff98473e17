// The wall-clock time of a camera's media time: one map for its packets and its frames.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace matthan {

// When a camera captured an access unit is unknown; what the engine knows is when the unit arrived and its
// media time (pts: the camera's RTP clock, rtspsrc buffer-mode=synced). arrival - pts is the camera-to-engine
// delay plus a constant, and the delay is never negative, so the smallest arrival - pts seen is the best
// estimate of the constant:
//
//   wall(pts) = pts + offset,   offset = the lower envelope of (arrival - pts)
//
// A unit's wall time is then never later than its arrival, whatever the session began with: a first packet
// that came late, or a burst of buffered frames sent at once on connect. (Fixing the offset from the first
// packet instead dated incidents up to half a second after their own publication.)
//
// The envelope is the minimum over a window of recent arrivals, so it follows a camera clock that runs slow
// against the engine's (about 4 s a day at 50 ppm). The offset falls at once to a new minimum (a wall time
// must never be in the future), and rises towards the window's minimum by at most `max_rise` per second of
// arrivals, so wall times move forward smoothly. A rise larger than `max_step` is a discontinuity of the
// camera's clock and is taken at once.
//
// Times are nanoseconds: arrival on the wall clock (since the epoch), pts in media time. Thread-safe: the
// packets' and the frames' streaming threads share one map.
class WallMap {
 public:
  struct Options {
    std::int64_t window_ns = 30'000'000'000;  // the envelope's memory of arrivals
    std::int64_t bucket_ns = 1'000'000'000;   // its resolution
    double max_rise = 0.001;                  // at most 1 ms per second of arrivals
    std::int64_t max_step = 2'000'000'000;    // a larger rise is a jump of the camera's clock
    std::int64_t settle_ns = 1'000'000'000;   // see settled()
  };

  WallMap() = default;
  explicit WallMap(Options options) : options_(options) {}

  // A unit of media time `pts` arrived at `arrival_ns`.
  void observe(std::int64_t arrival_ns, std::int64_t pts);
  // The wall time of `pts`, or nothing before the first observation.
  std::optional<std::int64_t> wall_ns(std::int64_t pts) const;
  // The wall time of `pts`; before any observation, `now_ns` is taken as its arrival.
  std::int64_t wall_ns_or_observe(std::int64_t now_ns, std::int64_t pts);
  // True once `settle_ns` of arrivals have passed since the first one: a burst on connect is over, and the
  // offset will only move by the slow rise or a drift-sized fall. Wall times handed out before then can be
  // later than the settled map's by the size of the burst.
  bool settled(std::int64_t now_ns) const;
  void reset();

 private:
  struct Bucket {
    std::int64_t start_ns;  // arrival of the bucket's first unit
    std::int64_t min_delta;
  };
  void observe_locked(std::int64_t arrival_ns, std::int64_t pts);

  const Options options_{};
  mutable std::mutex mu_;
  std::deque<Bucket> buckets_;  // arrival order; the last window_ns
  std::optional<std::int64_t> offset_;
  std::int64_t first_arrival_ns_ = 0;
  std::int64_t last_arrival_ns_ = 0;
};

}  // namespace matthan
