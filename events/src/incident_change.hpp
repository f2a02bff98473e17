// What the incident managers share (private to events/): media-time conversion, clamping, and when an
// open incident has changed enough to be worth an `update` event.
#pragma once

#include <algorithm>
#include <cmath>

#include "matthan/core/types.hpp"
#include "matthan/events/incident.hpp"

namespace matthan::detail {

inline MediaTimeNs seconds_to_ns(double s) {
  return static_cast<MediaTimeNs>(std::llround(s * kNsPerSecond));
}

// 0..1, NaN and infinities as 0.
inline double unit_interval(double v) {
  return std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.0;
}

inline bool box_changed(const Box& a, const Box& b, double epsilon) {
  return std::abs(a.x - b.x) > epsilon || std::abs(a.y - b.y) > epsilon || std::abs(a.w - b.w) > epsilon ||
         std::abs(a.h - b.h) > epsilon;
}

// Object and rule incidents: detector boxes jitter more than motion boxes, so their thresholds are wider.
inline constexpr double kObjectBoxEpsilon = 0.01;
inline constexpr double kObjectScoreEpsilon = 0.05;

inline bool object_incident_changed(const Incident& a, const Incident& b) {
  return a.label != b.label || a.zones != b.zones || std::abs(a.score - b.score) > kObjectScoreEpsilon ||
         box_changed(a.box, b.box, kObjectBoxEpsilon);
}

}  // namespace matthan::detail
