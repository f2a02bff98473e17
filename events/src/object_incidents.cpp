// ObjectIncidentManager: per-track incident lifecycle with throttled updates and parked-object memory.
#include "matthan/events/object_incidents.hpp"

#include <algorithm>
#include <cmath>

#include "incident_change.hpp"

namespace matthan {
namespace {

using detail::seconds_to_ns;
constexpr auto changed = detail::object_incident_changed;
constexpr auto unit = detail::unit_interval;

}  // namespace

ObjectIncidentManager::ObjectIncidentManager(CameraId camera, ObjectIncidentPolicy policy)
    : camera_(std::move(camera)),
      policy_(std::move(policy)),
      parked_(policy_.parked_memory_s, policy_.parked_iou, policy_.still_speed) {}

bool ObjectIncidentManager::wanted(const std::string& label) const {
  return policy_.labels.empty() ||
         std::find(policy_.labels.begin(), policy_.labels.end(), label) != policy_.labels.end();
}

void ObjectIncidentManager::start(const TrackObservation& t, MediaTimeNs pts, WallTime wall, ObjectObserveResult& out) {
  Open o;
  o.incident.id = make_incident_id(camera_, wall);
  o.incident.camera = camera_;
  o.incident.kind = policy_.kind;
  o.incident.label = t.label;
  o.incident.track = t.id;
  o.incident.score = unit(t.score);
  o.incident.box = t.box;
  o.incident.zones = t.zones;
  o.incident.started_at = wall;
  o.incident.start_pts = pts;
  o.incident.end_pts = pts;
  o.last_seen_pts = pts;
  o.last_seen_wall = wall;
  o.last_published_pts = pts;
  o.published = o.incident;
  o.best_score = o.incident.score;
  o.speed = t.speed;
  out.events.emplace_back(IncidentPhase::kStart, o.incident);
  out.best_frame_ids.push_back(o.incident.id);
  open_.emplace(t.id, std::move(o));
}

void ObjectIncidentManager::follow(Open& o, const TrackObservation& t, MediaTimeNs pts, WallTime wall,
                                   ObjectObserveResult& out) {
  if (!t.seen) return;
  o.incident.label = t.label;
  o.incident.score = unit(t.score);
  o.incident.box = t.box;
  o.incident.zones = t.zones;
  o.incident.end_pts = pts;
  o.last_seen_pts = pts;
  o.last_seen_wall = wall;
  o.speed = t.speed;
  if (o.incident.score > o.best_score) {
    o.best_score = o.incident.score;
    out.best_frame_ids.push_back(o.incident.id);
  }
  if (pts - o.last_published_pts < seconds_to_ns(policy_.update_interval_s) || !changed(o.incident, o.published))
    return;
  o.last_published_pts = pts;
  o.published = o.incident;
  out.events.emplace_back(IncidentPhase::kUpdate, o.incident);
}

Incident ObjectIncidentManager::finish(Open& o, std::string reason) {
  o.incident.ended_at = o.last_seen_wall;
  o.incident.end_pts = o.last_seen_pts;
  o.incident.end_reason = std::move(reason);
  if (parked_.still(o.speed) && o.incident.label) parked_.remember(*o.incident.label, o.incident.box, o.last_seen_pts);
  return o.incident;
}

ObjectObserveResult ObjectIncidentManager::observe(const std::vector<TrackObservation>& tracks, MediaTimeNs pts,
                                                   WallTime wall) {
  ObjectObserveResult out;
  std::map<std::int64_t, const TrackObservation*> by_id;
  for (const auto& t : tracks) by_id[t.id] = &t;

  // Follow or end what is open.
  for (auto it = open_.begin(); it != open_.end();) {
    auto found = by_id.find(it->first);
    if (found != by_id.end()) follow(it->second, *found->second, pts, wall, out);
    std::string reason;
    if (found == by_id.end() || pts - it->second.last_seen_pts > seconds_to_ns(policy_.end_seconds))
      reason = "quiet";
    else if (pts - it->second.incident.start_pts >= seconds_to_ns(policy_.max_length_s))
      reason = "max_length";
    if (reason.empty()) {
      ++it;
      continue;
    }
    out.events.emplace_back(IncidentPhase::kEnd, finish(it->second, reason));
    done_[it->first] = pts;
    it = open_.erase(it);
  }

  // Start incidents for newly confirmed wanted tracks, once per track.
  for (const auto& t : tracks) {
    if (!t.confirmed || !t.seen || !wanted(t.label) || open_.count(t.id) || done_.count(t.id)) continue;
    if (parked_.seen_again(t.label, t.box, t.speed, pts)) {
      done_[t.id] = pts;
      continue;
    }
    start(t, pts, wall, out);
  }

  // Tracks the tracker has forgotten can be forgotten here too.
  std::erase_if(done_, [&](const auto& kv) { return !by_id.count(kv.first); });
  return out;
}

std::optional<Incident> ObjectIncidentManager::find(const std::string& id) const {
  for (const auto& [track, o] : open_)
    if (o.incident.id == id) return o.incident;
  return std::nullopt;
}

std::vector<Incident> ObjectIncidentManager::close_all(MediaTimeNs /*pts*/, WallTime /*wall*/,
                                                       const std::string& reason) {
  std::vector<Incident> ended;
  for (auto& [id, o] : open_) ended.push_back(finish(o, reason));
  open_.clear();
  return ended;
}

}  // namespace matthan
