// TamperWatch: one camera's TamperDetector turned into `tamper` incidents (label covered | turned | defocused).
// Pure logic driven by frames, no threads or sockets (analysis worker only, like the IncidentManager).
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "matthan/analysis/stream_size_watch.hpp"
#include "matthan/detect/tamper_detector.hpp"
#include "matthan/events/incident.hpp"

namespace matthan {

class TamperWatch {
 public:
  TamperWatch(CameraId camera, const TamperConfig& config) : camera_(std::move(camera)), detector_(config) {}

  // The incident that starts or ends with this frame, if any. A start dates back to when the condition
  // began (its pts, and the wall time that far before this frame's), so the clip's pre-roll shows the act.
  std::optional<IncidentChange> observe(const Frame& frame) {
    // A reconfigured camera (new picture size) is not a turned one: the reference is learnt again. An open
    // incident keeps its detector, so it still ends when the view is back.
    if (size_watch_.changed(frame) && !open_) detector_.reset();
    const TamperEvent ev = detector_.process(frame);
    if (ev.phase == TamperPhase::kStart) {
      Incident inc;
      inc.started_at =
          frame.wall - std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(frame.pts - ev.since));
      inc.id = make_incident_id(camera_, inc.started_at);
      inc.camera = camera_;
      inc.kind = IncidentKind::kTamper;
      inc.label = ev.reason;
      inc.score = ev.score;
      inc.box = Box{0, 0, 1, 1};
      inc.start_pts = ev.since;
      open_ = inc;
      return IncidentChange{IncidentPhase::kStart, inc};
    }
    if (ev.phase == TamperPhase::kEnd && open_)
      return IncidentChange{IncidentPhase::kEnd, take_ended(open_, frame.pts, frame.wall, ev.end_reason)};
    return std::nullopt;
  }

  // Ends the open incident (shutdown); nullopt when none is open.
  std::optional<Incident> close(MediaTimeNs pts, WallTime wall, const std::string& reason) {
    if (!open_) return std::nullopt;
    detector_.reset();
    return take_ended(open_, pts, wall, reason);
  }

  bool active() const { return open_.has_value(); }

 private:
  CameraId camera_;
  TamperDetector detector_;
  StreamSizeWatch size_watch_;
  std::optional<Incident> open_;
};

}  // namespace matthan
