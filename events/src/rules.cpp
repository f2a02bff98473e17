// RuleEngine: zone membership by bottom-centre point, hysteresis line crossing, loiter timers, schedules.
#include "matthan/events/rules.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>

namespace matthan {
namespace {

RulePoint bottom_centre(const Box& b) {
  return {b.x + b.w / 2, b.y + b.h};
}

// Even-odd ray casting.
bool inside(const std::vector<RulePoint>& poly, const RulePoint& p) {
  bool in = false;
  for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const auto& a = poly[i];
    const auto& b = poly[j];
    if ((a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]) in = !in;
  }
  return in;
}

// Signed distance of p from the line through a->b (positive: right of a->b on an image, y down) and the
// position of p's projection along the segment (0 at a, 1 at b).
std::pair<double, double> side_and_along(const Line& l, const RulePoint& p) {
  const double dx = l.b[0] - l.a[0], dy = l.b[1] - l.a[1];
  const double len = std::max(std::hypot(dx, dy), 1e-9);
  const double cross = dx * (p[1] - l.a[1]) - dy * (p[0] - l.a[0]);
  const double along = (dx * (p[0] - l.a[0]) + dy * (p[1] - l.a[1])) / (len * len);
  return {cross / len, along};
}

}  // namespace

std::string_view to_string(RuleKind kind) {
  switch (kind) {
    case RuleKind::kZoneEnter:
      return "zone_enter";
    case RuleKind::kLineCross:
      return "line_cross";
    case RuleKind::kLoiter:
      return "loiter";
  }
  return "unknown";
}

Result<Schedule> Schedule::parse(std::string_view text) {
  int h1, m1, h2, m2;
  char extra;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%d:%d-%d:%d%c", &h1, &m1, &h2, &m2, &extra) != 4 || h1 < 0 || h1 > 24 || h2 < 0 ||
      h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 || h1 * 60 + m1 > 1440 || h2 * 60 + m2 > 1440)
    return make_error(fmt::format("schedule '{}' must be HH:MM-HH:MM (local time; may wrap past midnight)", s));
  return Schedule{h1 * 60 + m1, h2 * 60 + m2};
}

bool Schedule::contains(int minute) const {
  if (start_minute == end_minute) return true;  // "00:00-00:00" or "00:00-24:00": all day
  if (start_minute < end_minute) return minute >= start_minute && minute < end_minute;
  return minute >= start_minute || minute < end_minute;  // wraps past midnight
}

int minute_of_day(WallTime t, int utc_offset_minutes) {
  const auto minutes =
      std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count() + utc_offset_minutes;
  return static_cast<int>(((minutes % 1440) + 1440) % 1440);
}

RuleEngine::RuleEngine(std::vector<Zone> zones, std::vector<Line> lines, std::vector<Rule> rules, double hysteresis)
    : zones_(std::move(zones)), lines_(std::move(lines)), rules_(std::move(rules)), hysteresis_(hysteresis) {}

const Zone* RuleEngine::zone(const std::string& name) const {
  for (const auto& z : zones_)
    if (z.name == name) return &z;
  return nullptr;
}

const Line* RuleEngine::line(const std::string& name) const {
  for (const auto& l : lines_)
    if (l.name == name) return &l;
  return nullptr;
}

bool RuleEngine::applies(const Rule& r, const std::string& label, int minute) const {
  return (r.labels.empty() || r.labels.count(label)) && (!r.schedule || r.schedule->contains(minute));
}

std::vector<std::string> RuleEngine::zones_of(const Box& box) const {
  std::vector<std::string> out;
  const RulePoint p = bottom_centre(box);
  for (const auto& z : zones_)
    if (z.polygon.size() >= 3 && inside(z.polygon, p)) out.push_back(z.name);
  return out;
}

std::vector<RuleHit> RuleEngine::observe(std::int64_t track, const std::string& label, const Box& box, MediaTimeNs pts,
                                         int minute) {
  TrackState& st = tracks_[track];
  const RulePoint p = bottom_centre(box);
  std::vector<RuleHit> hits;

  // Zones: entries this frame, and how long the point has been inside.
  std::set<std::string> entered;
  for (const auto& z : zones_) {
    const bool in = z.polygon.size() >= 3 && inside(z.polygon, p);
    const bool was = st.inside_since.count(z.name) > 0;
    if (in && !was) {
      st.inside_since[z.name] = pts;
      entered.insert(z.name);
    } else if (!in && was) {
      st.inside_since.erase(z.name);
      for (std::size_t i = 0; i < rules_.size(); ++i)
        if (rules_[i].kind == RuleKind::kLoiter && rules_[i].target == z.name) st.loiter_fired.erase(i);
    }
  }

  // Lines: a crossing is a change of the known side, where the side is only updated once the point is
  // clearly (beyond the hysteresis) on one side, and only along the segment itself.
  std::map<std::string, int> crossed;  // line -> new side
  for (const auto& l : lines_) {
    const auto [dist, along] = side_and_along(l, p);
    if (std::abs(dist) < hysteresis_ || along < 0.0 || along > 1.0) continue;
    const int side = dist > 0 ? 1 : -1;
    auto it = st.line_side.find(l.name);
    if (it != st.line_side.end() && it->second != side) crossed[l.name] = side;
    st.line_side[l.name] = side;
  }

  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_[i];
    if (!applies(r, label, minute)) continue;
    switch (r.kind) {
      case RuleKind::kZoneEnter:
        if (entered.count(r.target)) hits.push_back({r.kind, r.target, i});
        break;
      case RuleKind::kLineCross: {
        auto c = crossed.find(r.target);
        const Line* l = line(r.target);
        if (c == crossed.end() || !l) break;
        // Left (-1) to right (+1) of a->b is a_to_b.
        const bool a_to_b = c->second > 0;
        if (l->direction == LineDirection::kBoth || (l->direction == LineDirection::kAToB) == a_to_b)
          hits.push_back({r.kind, r.target, i});
        break;
      }
      case RuleKind::kLoiter: {
        auto in = st.inside_since.find(r.target);
        if (in == st.inside_since.end() || st.loiter_fired.count(i)) break;
        if (static_cast<double>(pts - in->second) / kNsPerSecond >= r.seconds) {
          st.loiter_fired.insert(i);
          hits.push_back({r.kind, r.target, i});
        }
        break;
      }
    }
  }
  return hits;
}

void RuleEngine::forget(std::int64_t track) {
  tracks_.erase(track);
}

}  // namespace matthan
