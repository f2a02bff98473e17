// Maps a camera's media time to wall-clock time, for the wall times of frames (an incident's started_at, its
// id, a rule's schedule).
#pragma once

#include <algorithm>
#include <cstdint>

namespace matthan {

// The offset (wall − pts) is the lower envelope of the packets' (arrival − pts): a packet can reach us late
// (a start-up burst, the jitter buffer releasing a backlog, a scheduling hiccup) but never early, so the
// smallest difference seen is the truest. A packet that arrives with a smaller difference lowers the offset at
// once (so one late first packet no longer skews a whole session, as it did by up to 650 ms). At a keyframe at
// least `window_ns` after the last re-anchor, the offset is re-taken as the smallest difference of that window,
// so it also follows a camera clock that drifts slower than ours. Not thread-safe: one streaming thread feeds it.
class WallAnchor {
 public:
  explicit WallAnchor(std::int64_t window_ns = 2'000'000'000) : window_ns_(window_ns) {}

  // One packet: its arrival (ns since the Unix epoch) and its media time. Returns the offset now in force.
  std::int64_t observe(std::int64_t arrival_ns, std::int64_t pts_ns, bool keyframe) {
    const std::int64_t diff = arrival_ns - pts_ns;
    if (!have_) {
      have_ = true;
      offset_ = window_min_ = diff;
      anchor_pts_ = pts_ns;
      return offset_;
    }
    window_min_ = std::min(window_min_, diff);
    if (diff < offset_) {
      offset_ = diff;
    } else if (keyframe && pts_ns - anchor_pts_ >= window_ns_) {
      offset_ = window_min_;
      window_min_ = diff;
      anchor_pts_ = pts_ns;
    }
    return offset_;
  }

  bool has_offset() const { return have_; }
  std::int64_t offset() const { return offset_; }
  void reset() { have_ = false; }

 private:
  std::int64_t window_ns_;
  bool have_ = false;
  std::int64_t offset_ = 0;
  std::int64_t window_min_ = 0;
  std::int64_t anchor_pts_ = 0;
};

}  // namespace matthan
