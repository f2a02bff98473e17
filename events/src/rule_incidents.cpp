// RuleIncidentManager: zone_enter / line_cross / loiter incidents from RuleEngine hits on confirmed tracks.
#include "matthan/events/rule_incidents.hpp"

#include <algorithm>
#include <cmath>

#include "incident_change.hpp"

namespace matthan {
namespace {

using detail::seconds_to_ns;
constexpr auto changed = detail::object_incident_changed;
constexpr auto unit = detail::unit_interval;

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

RuleIncidentManager::RuleIncidentManager(CameraId camera, std::vector<Zone> zones, std::vector<Line> lines,
                                         std::vector<Rule> rules, RuleIncidentPolicy policy)
    : camera_(std::move(camera)),
      rules_(rules),
      engine_(std::move(zones), std::move(lines), std::move(rules)),
      policy_(policy),
      parked_(policy_.parked_memory_s, policy_.parked_iou, policy_.still_speed) {}

void RuleIncidentManager::start(const Key& key, const TrackObservation& t, MediaTimeNs pts, WallTime wall,
                                ObjectObserveResult& out) {
  const Rule& r = rules_[key.second];
  Open o;
  Incident& inc = o.incident;
  inc.id = make_incident_id(camera_, wall);
  inc.camera = camera_;
  inc.kind = r.kind == RuleKind::kZoneEnter   ? IncidentKind::kZoneEnter
             : r.kind == RuleKind::kLineCross ? IncidentKind::kLineCross
                                              : IncidentKind::kLoiter;
  inc.label = t.label;
  inc.track = t.id;
  inc.score = unit(t.score);
  inc.box = t.box;
  inc.zones = engine_.zones_of(t.box);
  IncidentRule rule{std::string(to_string(r.kind)), {}, {}};
  (r.kind == RuleKind::kLineCross ? rule.line : rule.zone) = r.target;
  inc.rule = rule;
  inc.started_at = wall;
  inc.start_pts = pts;
  inc.end_pts = pts;
  o.last_seen_pts = o.last_inside_pts = o.last_published_pts = pts;
  o.last_seen_wall = o.last_inside_wall = wall;
  o.best_score = inc.score;
  o.speed = t.speed;
  o.published = inc;
  out.events.emplace_back(IncidentPhase::kStart, inc);
  if (r.kind == RuleKind::kLineCross) {  // a moment: over on the frame it happened
    out.events.emplace_back(IncidentPhase::kEnd, finish(o, "crossed"));
    return;
  }
  out.best_frame_ids.push_back(inc.id);
  open_.emplace(key, std::move(o));
}

void RuleIncidentManager::follow(Open& o, const TrackObservation& t, bool inside, MediaTimeNs pts, WallTime wall,
                                 ObjectObserveResult& out) {
  Incident& inc = o.incident;
  inc.label = t.label;
  inc.score = unit(t.score);
  inc.box = t.box;
  inc.zones = engine_.zones_of(t.box);
  inc.end_pts = pts;
  o.last_seen_pts = pts;
  o.last_seen_wall = wall;
  o.speed = t.speed;
  if (inside) {
    o.last_inside_pts = pts;
    o.last_inside_wall = wall;
  }
  if (inc.score > o.best_score) {
    o.best_score = inc.score;
    out.best_frame_ids.push_back(inc.id);
  }
  if (pts - o.last_published_pts < seconds_to_ns(policy_.update_interval_s) || !changed(inc, o.published)) return;
  o.last_published_pts = pts;
  o.published = inc;
  out.events.emplace_back(IncidentPhase::kUpdate, inc);
}

Incident RuleIncidentManager::finish(Open& o, std::string reason) {
  // Left the zone: it ended at the last frame inside it. Otherwise at the last sighting.
  const bool left = reason == "left_zone";
  o.incident.ended_at = left ? o.last_inside_wall : o.last_seen_wall;
  o.incident.end_pts = left ? o.last_inside_pts : o.last_seen_pts;
  o.incident.end_reason = std::move(reason);
  if (o.incident.kind != IncidentKind::kLineCross && parked_.still(o.speed) && o.incident.label)
    parked_.remember(*o.incident.label, o.incident.box, o.last_seen_pts);
  return o.incident;
}

ObjectObserveResult RuleIncidentManager::observe(const std::vector<TrackObservation>& tracks, MediaTimeNs pts,
                                                 WallTime wall, int minute) {
  ObjectObserveResult out;
  std::map<std::int64_t, const TrackObservation*> by_id;
  for (const auto& t : tracks) by_id[t.id] = &t;

  // The rules see each confirmed track's sightings.
  std::vector<std::pair<Key, const TrackObservation*>> hits;
  for (const auto& t : tracks) {
    if (!t.confirmed || !t.seen) continue;
    known_.insert(t.id);
    for (const RuleHit& h : engine_.observe(t.id, t.label, t.box, pts, minute)) hits.push_back({{t.id, h.rule}, &t});
  }

  // Follow or end what is open.
  for (auto it = open_.begin(); it != open_.end();) {
    Open& o = it->second;
    const Rule& r = rules_[it->first.second];
    auto found = by_id.find(it->first.first);
    if (found != by_id.end() && found->second->seen)
      follow(o, *found->second, has(engine_.zones_of(found->second->box), r.target), pts, wall, out);
    std::string reason;
    if (found == by_id.end() || pts - o.last_seen_pts > seconds_to_ns(policy_.end_seconds))
      reason = "quiet";
    else if (pts - o.last_inside_pts > seconds_to_ns(policy_.end_seconds))
      reason = "left_zone";
    else if (pts - o.incident.start_pts >= seconds_to_ns(policy_.max_length_s))
      reason = "max_length";
    if (reason.empty()) {
      ++it;
      continue;
    }
    out.events.emplace_back(IncidentPhase::kEnd, finish(o, reason));
    it = open_.erase(it);
  }

  // Start what fired now, unless that (track, rule) is still open (it came back into the zone in time).
  // A still object seen again where a zone incident of its kind ended is not a new arrival.
  for (const auto& [key, t] : hits) {
    if (open_.count(key)) continue;
    if (rules_[key.second].kind != RuleKind::kLineCross && parked_.seen_again(t->label, t->box, t->speed, pts))
      continue;
    start(key, *t, pts, wall, out);
  }

  // Tracks the tracker has forgotten are forgotten by the rules too.
  for (auto it = known_.begin(); it != known_.end();) {
    if (by_id.count(*it)) {
      ++it;
      continue;
    }
    engine_.forget(*it);
    it = known_.erase(it);
  }
  return out;
}

std::optional<Incident> RuleIncidentManager::find(const std::string& id) const {
  for (const auto& [key, o] : open_)
    if (o.incident.id == id) return o.incident;
  return std::nullopt;
}

std::vector<Incident> RuleIncidentManager::close_all(const std::string& reason) {
  std::vector<Incident> ended;
  for (auto& [key, o] : open_) ended.push_back(finish(o, reason));
  open_.clear();
  return ended;
}

}  // namespace matthan
