// OfflineWatch: when a camera has been without video for longer than `offline_after`, a camera_offline incident
// starts; it ends when video is back, or when the camera is stopped. Pure logic driven by plain values (the
// storage thread calls it on every state change and periodically).
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "matthan/events/incident.hpp"

namespace matthan {

class OfflineWatch {
 public:
  using Clock = std::chrono::steady_clock;

  // A camera counts as offline from `now` until it first streams.
  OfflineWatch(CameraId camera, double offline_after_s, Clock::time_point now)
      : camera_(std::move(camera)), after_s_(offline_after_s), offline_since_(now) {}

  // `last_pts`: the media time of the newest packet seen. The clip of the incident reaches back pre_roll before
  // it and on past the reconnection (media time keeps running across reconnects, so the gap sits inside it).
  std::optional<IncidentChange> update(bool online, Clock::time_point now, WallTime wall_now, MediaTimeNs last_pts) {
    if (online) {
      offline_since_.reset();
      if (!open_) return std::nullopt;
      return IncidentChange{IncidentPhase::kEnd, take_ended(open_, last_pts, wall_now, "back_online")};
    }
    if (!offline_since_) offline_since_ = now;
    if (open_ || std::chrono::duration<double>(now - *offline_since_).count() < after_s_) return std::nullopt;
    Incident inc;
    const auto wall_since = wall_now - std::chrono::duration_cast<WallTime::duration>(now - *offline_since_);
    inc.id = make_incident_id(camera_, wall_since);
    inc.camera = camera_;
    inc.kind = IncidentKind::kCameraOffline;
    inc.score = 1.0;
    inc.box = Box{0, 0, 1, 1};
    inc.started_at = wall_since;
    inc.start_pts = last_pts;
    open_ = inc;
    return IncidentChange{IncidentPhase::kStart, inc};
  }

  // Ends the open incident (the camera is stopped); nullopt when none is open.
  std::optional<Incident> close(WallTime wall_now, MediaTimeNs last_pts, const std::string& reason) {
    if (!open_) return std::nullopt;
    return take_ended(open_, last_pts, wall_now, reason);
  }

  bool open() const { return open_.has_value(); }

 private:
  CameraId camera_;
  double after_s_;
  std::optional<Clock::time_point> offline_since_;
  std::optional<Incident> open_;
};

}  // namespace matthan
