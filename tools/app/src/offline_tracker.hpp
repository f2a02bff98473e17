// OfflineTracker: when a camera has been without video for longer than `offline_after`, a camera_offline
// incident starts; it ends when video is back. Pure logic driven by plain values (one per camera, storage
// thread only).
#pragma once

#include <chrono>
#include <optional>

namespace matthan {

class OfflineTracker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Action { kNone, kStart, kEnd };

  // A camera counts as offline from `now` until it first streams.
  OfflineTracker(double offline_after_s, Clock::time_point now) : after_s_(offline_after_s), offline_since_(now) {}

  // Called on every state change and periodically; says when an incident starts or ends.
  Action update(bool online, Clock::time_point now) {
    if (online) {
      offline_since_.reset();
      if (!open_) return Action::kNone;
      open_ = false;
      return Action::kEnd;
    }
    if (!offline_since_) offline_since_ = now;
    if (open_ || std::chrono::duration<double>(now - *offline_since_).count() < after_s_) return Action::kNone;
    open_ = true;
    return Action::kStart;
  }

  bool open() const { return open_; }
  // Since when the camera has been without video (nullopt while online).
  std::optional<Clock::time_point> offline_since() const { return offline_since_; }

 private:
  double after_s_;
  std::optional<Clock::time_point> offline_since_;
  bool open_ = false;
};

}  // namespace matthan
