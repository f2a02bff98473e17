// Rules on tracked objects, per camera, in normalised 0..1 coordinates: zone entry, line crossing (with a
// direction, jitter-proof) and loitering, each with a label filter and a daily schedule in local time.
// Pure logic driven by plain values; an object's position is its box's bottom-centre point (where it
// touches the ground).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

using RulePoint = std::array<double, 2>;  // {x, y}, 0..1, y down

struct Zone {
  std::string name;
  std::vector<RulePoint> polygon;  // at least 3 points
  bool operator==(const Zone&) const = default;
};

enum class LineDirection { kAToB, kBToA, kBoth };

// A directed segment from `a` to `b`. a_to_b counts objects crossing from the segment's left to its
// right as seen walking from a to b on the image (y down), b_to_a the opposite way.
struct Line {
  std::string name;
  RulePoint a{}, b{};
  LineDirection direction = LineDirection::kBoth;
  bool operator==(const Line&) const = default;
};

// A daily window "HH:MM-HH:MM" in local time; start > end wraps past midnight ("22:00-05:00").
struct Schedule {
  int start_minute = 0;
  int end_minute = 24 * 60;  // exclusive
  static Result<Schedule> parse(std::string_view text);
  bool contains(int minute_of_day) const;
  bool operator==(const Schedule&) const = default;
};

enum class RuleKind { kZoneEnter, kLineCross, kLoiter };
std::string_view to_string(RuleKind kind);  // "zone_enter" | "line_cross" | "loiter"

struct Rule {
  RuleKind kind = RuleKind::kZoneEnter;
  std::string target;                // zone name (zone_enter, loiter) or line name (line_cross)
  std::set<std::string> labels;      // empty: any label
  std::optional<Schedule> schedule;  // none: always
  double seconds = 60;               // loiter: time in the zone before it fires
  bool operator==(const Rule&) const = default;
};

// A camera's `zones:`, `lines:` and `rules:` (docs/config.md "Rules"), in normalised 0..1 coordinates.
// With rules, a camera raises only rule incidents (zone_enter, line_cross, loiter); without, `object`
// incidents for its labels. Rules need a detect.objects block.
struct RuleSettings {
  std::vector<Zone> zones;
  std::vector<Line> lines;
  std::vector<Rule> rules;
  std::string time_zone = "Asia/Ho_Chi_Minh";  // the node's `time_zone`, copied into every camera
  bool operator==(const RuleSettings&) const = default;
};

struct RuleHit {
  RuleKind kind;
  std::string target;
  std::size_t rule = 0;  // index into the rules
};

// Minutes since local midnight for a fixed UTC offset (Asia/Ho_Chi_Minh is +07:00 all year, no DST).
int minute_of_day(WallTime t, int utc_offset_minutes);

class RuleEngine {
 public:
  // `hysteresis`: how far (frame fraction) the point must get from a line before its side counts, so an
  // object standing on the line and jittering is not crossing it again and again.
  RuleEngine(std::vector<Zone> zones, std::vector<Line> lines, std::vector<Rule> rules, double hysteresis = 0.02);

  // Zones whose polygon holds the box's bottom-centre point, in config order.
  std::vector<std::string> zones_of(const Box& box) const;
  // Feeds one sighting of a track; returns the rules it fires now. `minute` is the local minute of day.
  std::vector<RuleHit> observe(std::int64_t track, const std::string& label, const Box& box, MediaTimeNs pts,
                               int minute);
  // Forgets a track (lost by the tracker).
  void forget(std::int64_t track);

  bool empty() const { return rules_.empty(); }

 private:
  struct TrackState {
    std::map<std::string, MediaTimeNs> inside_since;  // zone -> pts it entered
    std::map<std::string, int> line_side;             // line -> -1 / +1 once known
    std::set<std::size_t> loiter_fired;               // rule indices fired for the current stay
  };

  const Zone* zone(const std::string& name) const;
  const Line* line(const std::string& name) const;
  bool applies(const Rule& r, const std::string& label, int minute) const;

  std::vector<Zone> zones_;
  std::vector<Line> lines_;
  std::vector<Rule> rules_;
  double hysteresis_;
  std::map<std::int64_t, TrackState> tracks_;
};

}  // namespace matthan
