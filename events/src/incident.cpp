// Incident lifecycle state machine: consecutive-motion start, throttled updates, quiet / max-length end.
#include "matthan/events/incident.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "incident_change.hpp"
#include "matthan/core/time.hpp"

namespace matthan {
namespace {

// Box coordinates and scores jitter by a pixel or so from frame to frame; an update is only worth
// publishing when something moved by more than that.
constexpr double kBoxEpsilon = 0.005;
constexpr double kScoreEpsilon = 0.01;

using detail::seconds_to_ns;

bool box_changed(const Box& a, const Box& b) {
  return detail::box_changed(a, b, kBoxEpsilon);
}

Observation sanitised(Observation o) {
  o.score = std::isfinite(o.score) ? std::clamp(o.score, 0.0, 1.0) : 0.0;
  return o;
}

std::uint32_t random_suffix() {
  thread_local std::mt19937 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count())};
    return std::mt19937(seq);
  }());
  return static_cast<std::uint32_t>(rng());
}

}  // namespace

Incident take_ended(std::optional<Incident>& open, MediaTimeNs pts, WallTime wall, const std::string& reason) {
  Incident inc = std::move(*open);
  open.reset();
  inc.ended_at = wall;
  inc.end_pts = std::max(inc.start_pts, pts);
  inc.end_reason = reason;
  return inc;
}

std::string_view to_string(IncidentKind kind) {
  switch (kind) {
    case IncidentKind::kMotion:
      return "motion";
    case IncidentKind::kObject:
      return "object";
    case IncidentKind::kZoneEnter:
      return "zone_enter";
    case IncidentKind::kLineCross:
      return "line_cross";
    case IncidentKind::kLoiter:
      return "loiter";
    case IncidentKind::kTamper:
      return "tamper";
    case IncidentKind::kCameraOffline:
      return "camera_offline";
  }
  return "unknown";
}

std::optional<IncidentKind> parse_incident_kind(std::string_view text) {
  for (IncidentKind k :
       {IncidentKind::kMotion, IncidentKind::kObject, IncidentKind::kZoneEnter, IncidentKind::kLineCross,
        IncidentKind::kLoiter, IncidentKind::kTamper, IncidentKind::kCameraOffline})
    if (to_string(k) == text) return k;
  return std::nullopt;
}

std::string_view to_string(IncidentPhase phase) {
  switch (phase) {
    case IncidentPhase::kStart:
      return "start";
    case IncidentPhase::kUpdate:
      return "update";
    case IncidentPhase::kEnd:
      return "end";
  }
  return "unknown";
}

std::string make_incident_id(const CameraId& camera, WallTime at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const long millis = static_cast<long>(((ms % 1000) + 1000) % 1000);
  return fmt::format("{}-{}-{:03}{:08x}", camera, format_file_stamp(at), millis, random_suffix());
}

IncidentManager::IncidentManager(CameraId camera, IncidentPolicy policy)
    : camera_(std::move(camera)), policy_(policy) {}

ObserveResult IncidentManager::observe(const Observation& raw) {
  const Observation o = sanitised(raw);
  return current_ ? observe_active(o) : observe_idle(o);
}

ObserveResult IncidentManager::observe_idle(const Observation& o) {
  if (!o.motion) {
    run_length_ = 0;
    return {};
  }
  if (run_length_ == 0) {
    run_first_ = o;
    if (o.since_pts && *o.since_pts < o.pts) {
      run_first_.pts = *o.since_pts;
      run_first_.wall = o.since_wall;
    }
  }
  if (++run_length_ < std::max(1, policy_.start_frames)) return {};

  Incident inc;
  inc.id = make_incident_id(camera_, run_first_.wall);
  inc.camera = camera_;
  inc.score = o.score;
  inc.box = o.box;
  inc.started_at = run_first_.wall;
  inc.start_pts = run_first_.pts;
  current_ = inc;
  run_length_ = 0;
  last_motion_ = o;
  last_was_motion_ = true;
  last_published_pts_ = o.pts;
  published_box_ = o.box;
  published_score_ = o.score;
  best_area_ = o.box.area();

  ObserveResult result;
  result.events.emplace_back(IncidentPhase::kStart, std::move(inc));
  result.best_frame = true;
  return result;
}

ObserveResult IncidentManager::observe_active(const Observation& o) {
  ObserveResult result;
  last_was_motion_ = o.motion;
  if (o.motion) {
    last_motion_ = o;
    current_->box = o.box;
    current_->score = o.score;
    if (o.box.area() > best_area_) {
      best_area_ = o.box.area();
      result.best_frame = true;
    }
  }

  if (!o.motion && o.pts - last_motion_.pts >= seconds_to_ns(policy_.end_seconds)) {
    result.events.emplace_back(IncidentPhase::kEnd, finish(last_motion_.pts, last_motion_.wall, "quiet"));
    return result;
  }
  if (o.pts - current_->start_pts >= seconds_to_ns(policy_.max_length_s)) {
    result.events.emplace_back(IncidentPhase::kEnd, finish(last_motion_.pts, last_motion_.wall, "max_length"));
    return result;
  }
  const bool due = o.pts - last_published_pts_ >= seconds_to_ns(policy_.update_interval_s);
  const bool changed = box_changed(o.box, published_box_) || std::abs(o.score - published_score_) > kScoreEpsilon;
  if (o.motion && due && changed) {
    last_published_pts_ = o.pts;
    published_box_ = o.box;
    published_score_ = o.score;
    result.events.emplace_back(IncidentPhase::kUpdate, *current_);
  }
  return result;
}

Incident IncidentManager::finish(MediaTimeNs end_pts, WallTime end_wall, std::string reason) {
  Incident inc = std::move(*current_);
  current_.reset();
  inc.ended_at = end_wall;
  inc.end_pts = end_pts;
  inc.end_reason = std::move(reason);
  run_length_ = 0;
  last_was_motion_ = false;
  return inc;
}

std::optional<Incident> IncidentManager::close(MediaTimeNs pts, WallTime wall, std::string reason) {
  run_length_ = 0;
  if (!current_) return std::nullopt;
  // Motion was still on screen when we stopped watching, so the incident lasted at least until now.
  if (last_was_motion_ && pts > last_motion_.pts) return finish(pts, wall, std::move(reason));
  return finish(last_motion_.pts, last_motion_.wall, std::move(reason));
}

}  // namespace matthan
