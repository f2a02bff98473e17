// Object incidents: one per confirmed track of a wanted label, updated at most once a second, ended when
// the track has not been seen for a while; still objects seen again (a parked car) do not re-fire.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "matthan/core/types.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/parked_objects.hpp"

namespace matthan {

// What the incident logic needs to know about one track this frame (the detect module's Track, reduced
// to plain values so events does not depend on detect).
struct TrackObservation {
  std::int64_t id = 0;
  std::string label;
  double score = 0;
  Box box;
  bool confirmed = false;
  bool seen = false;          // detected in this frame
  double speed = 0;           // frame fractions per second
  MediaTimeNs last_seen = 0;  // pts of the latest detection
  std::vector<std::string> zones;
};

struct ObjectIncidentPolicy {
  std::vector<std::string> labels;  // wanted labels; empty: all
  IncidentKind kind = IncidentKind::kObject;
  double end_seconds = 5;          // a track unseen this long ends its incident
  double update_interval_s = 1.0;  // at most one update per this much media time
  double max_length_s = 300;       // an incident is cut here; the same track does not fire again
  // A still object whose incident ended is remembered this long: a new track of the same label that is
  // also still and overlaps it by `parked_iou` is the same object seen again, and raises nothing.
  double parked_memory_s = 3600;
  double parked_iou = 0.5;
  double still_speed = 0.03;  // frame fractions per second below which an object counts as still
};

struct ObjectObserveResult {
  std::vector<std::pair<IncidentPhase, Incident>> events;
  // Incidents whose object scored its best in this frame: take (or refresh) their snapshot from it.
  std::vector<std::string> best_frame_ids;
};

// Pure logic, one per camera, driven by plain values. Media time decides every duration.
class ObjectIncidentManager {
 public:
  ObjectIncidentManager(CameraId camera, ObjectIncidentPolicy policy);

  ObjectObserveResult observe(const std::vector<TrackObservation>& tracks, MediaTimeNs pts, WallTime wall);
  // Ends every open incident (shutdown, stream lost) with `reason`.
  std::vector<Incident> close_all(MediaTimeNs pts, WallTime wall, const std::string& reason);

  std::size_t open_count() const { return open_.size(); }
  // The open incident with this id, as it stands now; nullopt when none is open.
  std::optional<Incident> find(const std::string& id) const;
  const ObjectIncidentPolicy& policy() const { return policy_; }

 private:
  struct Open {
    Incident incident;
    MediaTimeNs last_seen_pts = 0;
    WallTime last_seen_wall{};
    MediaTimeNs last_published_pts = 0;
    Incident published;
    double best_score = 0;
    double speed = 0;
  };

  bool wanted(const std::string& label) const;
  void start(const TrackObservation& t, MediaTimeNs pts, WallTime wall, ObjectObserveResult& out);
  void follow(Open& o, const TrackObservation& t, MediaTimeNs pts, WallTime wall, ObjectObserveResult& out);
  Incident finish(Open& o, std::string reason);

  CameraId camera_;
  ObjectIncidentPolicy policy_;
  std::map<std::int64_t, Open> open_;         // by track id
  std::map<std::int64_t, MediaTimeNs> done_;  // tracks that had (or must not have) an incident: by last pts
  ParkedObjects parked_;
};

}  // namespace matthan
