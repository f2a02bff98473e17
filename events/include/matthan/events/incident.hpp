// Incident lifecycle (start / update / end) for one camera, driven by per-frame observations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "matthan/core/types.hpp"

namespace matthan {

enum class IncidentPhase { kStart, kUpdate, kEnd };
std::string_view to_string(IncidentPhase phase);  // "start" | "update" | "end"

// What raised an incident (the wire's `kind`, docs/events.md).
enum class IncidentKind { kMotion, kObject, kZoneEnter, kLineCross, kLoiter, kTamper, kCameraOffline };
// "motion" | "object" | "zone_enter" | "line_cross" | "loiter" | "tamper" | "camera_offline"
std::string_view to_string(IncidentKind kind);
std::optional<IncidentKind> parse_incident_kind(std::string_view text);

// Which rule raised a zone_enter, line_cross or loiter incident (docs/events.md `rule`).
struct IncidentRule {
  std::string kind;  // zone_enter | line_cross | loiter
  std::string zone;  // zone_enter, loiter: the zone's name
  std::string line;  // line_cross: the line's name
};

struct Incident {
  std::string id;
  CameraId camera;
  IncidentKind kind = IncidentKind::kMotion;
  std::optional<std::string> label;   // object class; none for plain motion
  std::optional<std::int64_t> track;  // tracker id of the object; none for plain motion
  std::vector<std::string> zones;     // zones the object is in now (bottom-centre point)
  std::optional<IncidentRule> rule;   // rule incidents only
  double score = 0;                   // 0..1, see Observation::score
  Box box;                            // normalised, current (largest) box
  WallTime started_at{};
  MediaTimeNs start_pts = 0;
  std::optional<WallTime> ended_at;  // end = last frame with motion
  MediaTimeNs end_pts = 0;
  std::string end_reason;  // "quiet" | "max_length" | "shutdown" (or the reason given to close())
};

// Takes the incident out of `open` (which must hold one) and ends it at (pts, wall), never before its start: how a
// watch with one incident open at a time (tamper, camera_offline) ends it.
Incident take_ended(std::optional<Incident>& open, MediaTimeNs pts, WallTime wall, const std::string& reason);

// One step of an incident's life, as every source reports it (motion, object, rule, tamper, camera_offline).
struct IncidentChange {
  IncidentPhase phase = IncidentPhase::kStart;
  Incident incident;
};

struct IncidentPolicy {
  int start_frames = 3;            // consecutive motion frames needed to open an incident
  double end_seconds = 5;          // media time without motion that closes it
  double max_length_s = 300;       // an incident is cut at this length (a new one may follow)
  double update_interval_s = 1.0;  // at most one update per this much media time
};

// A camera's `clip:` block (docs/config.md), in seconds: how much video an incident's clip keeps around it
// (the recorder's ClipPolicy comes from it), and how long an incident may last (IncidentPolicy::max_length_s).
struct ClipSettings {
  double pre_roll = 5;
  double post_roll = 5;
  double max_length = 300;
  bool operator==(const ClipSettings&) const = default;
};

struct Observation {
  MediaTimeNs pts = 0;
  WallTime wall{};
  bool motion = false;
  Box box;  // the largest box of this frame (normalised)
  // 0..1. For motion: MotionResult::score, the share of the largest box that is foreground (a solid
  // object scores near 1, scattered noise low). Values outside 0..1 are clamped.
  double score = 0;
  // When this frame's motion was confirmed on evidence from earlier frames (the motion gate's region was first
  // seen then): the first of those frames. An incident this frame starts is dated from it. None: this frame.
  std::optional<MediaTimeNs> since_pts;
  WallTime since_wall{};
};

struct ObserveResult {
  std::vector<std::pair<IncidentPhase, Incident>> events;
  // This frame has the open incident's largest box so far (always true on the start frame): take the
  // snapshot from it. Never set while no incident is open.
  bool best_frame = false;
};

// "<camera>-<UTC stamp>-<ms><random hex>": unique across restarts and across nodes in practice.
std::string make_incident_id(const CameraId& camera, WallTime at);

// Pure logic, one per camera, no threads or sockets: driven by plain values so tests can replay any
// sequence. Media time (pts) decides every duration; wall time is only carried into the incident.
class IncidentManager {
 public:
  IncidentManager(CameraId camera, IncidentPolicy policy);

  ObserveResult observe(const Observation& o);
  // Force-ends the open incident (shutdown, camera removed, stream lost) with `reason`. If motion was
  // still going on at the last observation, the incident lasted at least until `pts`/`wall`; otherwise
  // it ends at its last motion frame. nullopt when nothing is open. Also forgets a pending start run.
  std::optional<Incident> close(MediaTimeNs pts, WallTime wall, std::string reason);

  bool active() const { return current_.has_value(); }
  const std::optional<Incident>& current() const { return current_; }
  const IncidentPolicy& policy() const { return policy_; }

 private:
  ObserveResult observe_idle(const Observation& o);
  ObserveResult observe_active(const Observation& o);
  Incident finish(MediaTimeNs end_pts, WallTime end_wall, std::string reason);

  CameraId camera_;
  IncidentPolicy policy_;
  std::optional<Incident> current_;

  // While idle: the current run of consecutive motion frames.
  int run_length_ = 0;
  Observation run_first_;

  // While active.
  Observation last_motion_;
  bool last_was_motion_ = false;
  MediaTimeNs last_published_pts_ = 0;  // start or last update
  Box published_box_;
  double published_score_ = 0;
  double best_area_ = 0;
};

}  // namespace matthan
