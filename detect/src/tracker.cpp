// Tracker: greedy association of detections to predicted track boxes, constant-velocity prediction.
#include "matthan/detect/tracker.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace matthan {
namespace {

constexpr double kVelocitySmoothing = 0.5;  // weight of the newest velocity sample

double seconds(MediaTimeNs ns) {
  return static_cast<double>(ns) / kNsPerSecond;
}

bool is_vehicle(const std::string& l) {
  return l == "car" || l == "truck" || l == "bus";
}

// How well detection `d` fits a track predicted at `p` (0 = not at all). IoU wins over centroid distance.
double affinity(const Box& p, const Detection& d, const TrackerConfig& c) {
  const double overlap = iou(p, d.box);
  if (overlap >= c.iou_match) return 1.0 + overlap;
  const double dx = (p.x + p.w / 2) - (d.box.x + d.box.w / 2);
  const double dy = (p.y + p.h / 2) - (d.box.y + d.box.h / 2);
  const double size = std::max({p.w, p.h, 1e-6});
  const double dist = std::hypot(dx, dy) / size;
  // Sizes must agree roughly too, or a big and a small object swap ids.
  const double ratio = std::min(p.area(), d.box.area()) / std::max({p.area(), d.box.area(), 1e-12});
  if (dist > c.centroid_gate || ratio < 0.25) return 0.0;
  return 1.0 - dist / (c.centroid_gate + 1e-9);
}

}  // namespace

bool labels_compatible(const std::string& a, const std::string& b) {
  return a == b || (is_vehicle(a) && is_vehicle(b));
}

Box Track::predicted(MediaTimeNs pts, double horizon_s) const {
  const double dt = std::clamp(seconds(pts - last_seen), 0.0, horizon_s);
  return Box{box.x + vx * dt, box.y + vy * dt, box.w, box.h};
}

double Track::speed() const {
  return std::hypot(vx, vy);
}

Tracker::Tracker(TrackerConfig config) : config_(config) {}

void Tracker::refresh(Track& t, const Detection& d, MediaTimeNs pts) const {
  const double dt = seconds(pts - t.last_seen);
  if (dt > 0) {
    const double nvx = ((d.box.x + d.box.w / 2) - (t.box.x + t.box.w / 2)) / dt;
    const double nvy = ((d.box.y + d.box.h / 2) - (t.box.y + t.box.h / 2)) / dt;
    const double a = t.hits <= 1 ? 1.0 : kVelocitySmoothing;
    t.vx = a * nvx + (1 - a) * t.vx;
    t.vy = a * nvy + (1 - a) * t.vy;
  }
  t.box = d.box;
  t.label = d.label;
  t.score = d.score;
  t.best_score = std::max(t.best_score, d.score);
  t.last_seen = pts;
  t.seen = true;
  ++t.hits;
  if (t.hits >= config_.confirm_hits) t.confirmed = true;
}

void Tracker::match(const std::vector<Detection>& detections, MediaTimeNs pts, std::vector<bool>& used) {
  // All plausible (track, detection) pairs, best first; each side is taken at most once.
  std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    const Box p = tracks_[t].predicted(pts, config_.predict_horizon_s);
    for (std::size_t d = 0; d < detections.size(); ++d) {
      if (!labels_compatible(tracks_[t].label, detections[d].label)) continue;
      const double a = affinity(p, detections[d], config_);
      // Confirmed tracks go first on ties: an established object keeps its id over a newcomer.
      if (a > 0) pairs.emplace_back(a + (tracks_[t].confirmed ? 1e-3 : 0.0), t, d);
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<bool> track_taken(tracks_.size(), false);
  for (const auto& [a, t, d] : pairs) {
    if (track_taken[t] || used[d]) continue;
    track_taken[t] = true;
    used[d] = true;
    refresh(tracks_[t], detections[d], pts);
  }
}

const std::vector<Track>& Tracker::update(const std::vector<Detection>& detections, MediaTimeNs pts) {
  for (auto& t : tracks_) t.seen = false;
  std::vector<bool> used(detections.size(), false);
  match(detections, pts, used);
  for (std::size_t d = 0; d < detections.size(); ++d) {
    if (used[d]) continue;
    Track t;
    t.id = next_id_++;
    t.first_seen = pts;
    t.last_seen = pts;
    refresh(t, detections[d], pts);
    tracks_.push_back(std::move(t));
  }
  return age(pts);
}

const std::vector<Track>& Tracker::age(MediaTimeNs pts) {
  std::erase_if(tracks_, [&](const Track& t) {
    const double unseen = seconds(pts - t.last_seen);
    return unseen > (t.confirmed ? config_.max_unseen_s : config_.tentative_unseen_s);
  });
  return tracks_;
}

}  // namespace matthan
