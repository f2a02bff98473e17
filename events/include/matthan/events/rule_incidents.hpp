// Rule incidents: zone_enter, line_cross and loiter, raised by a RuleEngine on confirmed tracks.
//
// Lifecycle (docs/events.md "Rule incidents"):
// - zone_enter starts when a wanted object enters the zone (or is confirmed inside it) while the rule's
//   schedule holds. It stays open while the object stays in the zone and ends `end_seconds` after its last
//   sighting inside the zone ("left_zone": an object dithering on the zone's edge keeps the one incident),
//   or when it is unseen for `end_seconds` or dropped by the tracker ("quiet"), or at `max_length_s`.
// - loiter starts when the object has been in the zone for the rule's seconds, and ends like zone_enter.
// - line_cross is a moment: it starts and ends on the frame of the crossing ("crossed"); its clip is the
//   usual pre-roll and post-roll around that frame.
// One open incident per (track, rule): a rule firing again for an open one (re-entry within the grace
// time) continues it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "matthan/core/types.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/object_incidents.hpp"
#include "matthan/events/parked_objects.hpp"
#include "matthan/events/rules.hpp"

namespace matthan {

struct RuleIncidentPolicy {
  double end_seconds = 5;          // unseen (or out of the zone) this long ends a zone incident
  double update_interval_s = 1.0;  // at most one update per this much media time
  double max_length_s = 300;       // an incident is cut here
  // As for object incidents: a still object whose zone incident ended is remembered this long, and a new
  // track of the same label, also still and overlapping it by `parked_iou`, is that object seen again
  // (a car parked in the zone, re-detected when someone walks past): its zone rules raise nothing.
  double parked_memory_s = 3600;
  double parked_iou = 0.5;
  double still_speed = 0.03;  // frame fractions per second below which an object counts as still
};

// Pure logic, one per camera, driven by plain values. Media time decides every duration; `minute` (local
// minute of day, for schedules) comes from the frame's wall time.
class RuleIncidentManager {
 public:
  RuleIncidentManager(CameraId camera, std::vector<Zone> zones, std::vector<Line> lines, std::vector<Rule> rules,
                      RuleIncidentPolicy policy);

  // `tracks`: every track the tracker holds this frame. Only confirmed tracks seen in this frame are fed
  // to the rules; tracks absent from the list are forgotten (their open incidents end "quiet").
  ObjectObserveResult observe(const std::vector<TrackObservation>& tracks, MediaTimeNs pts, WallTime wall, int minute);
  // Ends every open incident (shutdown, stream lost) with `reason`.
  std::vector<Incident> close_all(const std::string& reason);

  std::size_t open_count() const { return open_.size(); }
  std::optional<Incident> find(const std::string& id) const;
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  struct Open {
    Incident incident;
    MediaTimeNs last_seen_pts = 0;  // last sighting of the object
    WallTime last_seen_wall{};
    MediaTimeNs last_inside_pts = 0;  // last sighting inside the rule's zone
    WallTime last_inside_wall{};
    MediaTimeNs last_published_pts = 0;
    Incident published;
    double best_score = 0;
    double speed = 0;
  };
  using Key = std::pair<std::int64_t, std::size_t>;  // track, rule index

  void start(const Key& key, const TrackObservation& t, MediaTimeNs pts, WallTime wall, ObjectObserveResult& out);
  void follow(Open& o, const TrackObservation& t, bool inside, MediaTimeNs pts, WallTime wall,
              ObjectObserveResult& out);
  Incident finish(Open& o, std::string reason);

  CameraId camera_;
  std::vector<Rule> rules_;
  RuleEngine engine_;
  RuleIncidentPolicy policy_;
  std::map<Key, Open> open_;
  ParkedObjects parked_;
  std::set<std::int64_t> known_;  // tracks the engine has seen (forgotten when the tracker drops them)
};

}  // namespace matthan
