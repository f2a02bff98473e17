// YAML config loading: strict keys, typed and bounded values, defaults merged per camera, every
// problem reported with its file:line. Reading has no side effects (nothing is created or opened).
#include "matthan/app/config.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "matthan/core/time_zone.hpp"
#include "matthan/core/url.hpp"
#include "matthan/review/auth.hpp"

namespace matthan {
namespace {

using Keys = std::initializer_list<std::string_view>;

// Walks a YAML tree, collecting issues. Every reader leaves the target untouched when the key is absent,
// so applying the camera's block on top of the defaults block is what merges them.
class ConfigReader {
 public:
  ConfigReader(std::string file, std::vector<ConfigIssue>& issues) : file_(std::move(file)), issues_(issues) {}

  void issue(const YAML::Node& at, const std::string& key, std::string message) {
    ConfigIssue i;
    i.file = file_;
    i.key = key;
    i.message = std::move(message);
    if (at.IsDefined() && !at.Mark().is_null()) {
      i.line = at.Mark().line + 1;
      i.column = at.Mark().column + 1;
    }
    issues_.push_back(std::move(i));
  }

  bool expect_map(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) return true;
    issue(n, path, "must be a mapping (key: value)");
    return false;
  }

  // Reports keys that are not in `allowed`, with the nearest allowed spelling as a hint.
  void check_keys(const YAML::Node& map, const std::string& path, Keys allowed) {
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("<non-scalar>");
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string known;
      for (auto a : allowed) known += fmt::format("{}{}", known.empty() ? "" : ", ", a);
      issue(kv.first, join(path, key), fmt::format("unknown key (allowed here: {})", known));
    }
  }

  template <class T>
  void number(const YAML::Node& map, const char* key, const std::string& path, T& out, T lo, T hi) {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    const std::string p = join(path, key);
    T v{};
    if (!n.IsScalar() || !YAML::convert<T>::decode(n, v)) {
      issue(n, p, fmt::format("must be {}", std::is_integral_v<T> ? "an integer" : "a number"));
      return;
    }
    if (v < lo || v > hi) {
      issue(n, p, fmt::format("{} is out of range [{}, {}]", v, lo, hi));
      return;
    }
    out = v;
  }

  void boolean(const YAML::Node& map, const char* key, const std::string& path, bool& out) {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      issue(n, join(path, key), "must be true or false");
      return;
    }
    out = v;
  }

  // Returns the node when it is a string scalar; reports and returns an undefined node otherwise.
  bool string(const YAML::Node& map, const char* key, const std::string& path, std::string& out,
              std::size_t max_len = 1024) {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return false;
    if (!n.IsScalar()) {
      issue(n, join(path, key), "must be a string");
      return false;
    }
    if (n.Scalar().size() > max_len) {
      issue(n, join(path, key), fmt::format("is longer than {} characters", max_len));
      return false;
    }
    out = n.Scalar();
    return true;
  }

  std::filesystem::path base_dir;  // the config file's folder: relative paths in the config start here

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  }

 private:
  std::string file_;
  std::vector<ConfigIssue>& issues_;
};

// A model file path, relative to the config file; it must exist (a missing model is a config error).
void read_model_file(ConfigReader& r, const YAML::Node& n, const char* key, const std::string& path,
                     std::filesystem::path& out, bool required) {
  std::string text;
  if (!r.string(n, key, path, text, 4096)) {
    if (required && !n[key].IsDefined()) r.issue(n, ConfigReader::join(path, key), "is required");
    return;
  }
  std::filesystem::path p(text);
  if (p.is_relative()) p = r.base_dir / p;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) {
    r.issue(n[key], ConfigReader::join(path, key), fmt::format("model file {} does not exist", p.string()));
    return;
  }
  out = p.lexically_normal();
}

void read_object_model(ConfigReader& r, const YAML::Node& n, const std::string& path, ObjectSettings& o) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"cfg", "weights", "names", "input"});
  ObjectModelSettings m = o.model.value_or(ObjectModelSettings{});
  read_model_file(r, n, "cfg", path, m.cfg, true);
  read_model_file(r, n, "weights", path, m.weights, true);
  read_model_file(r, n, "names", path, m.names, false);
  r.number(n, "input", path, m.input, 96, 1280);
  if (m.input % 32 != 0) r.issue(n["input"], ConfigReader::join(path, "input"), "must be a multiple of 32");
  o.model = m;
}

void read_object_labels(ConfigReader& r, const YAML::Node& n, const std::string& path, ObjectSettings& o) {
  if (!n.IsSequence() || n.size() == 0) {
    r.issue(n, path, "must be a non-empty list of labels, e.g. [person, car]");
    return;
  }
  static const std::regex kLabel("[a-z][a-z0-9_]{0,63}");
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar() || !std::regex_match(n[i].Scalar(), kLabel)) {
      r.issue(n[i], fmt::format("{}[{}]", path, i), "must be a label such as person, motorbike, car");
      continue;
    }
    labels.push_back(n[i].Scalar());
  }
  o.labels = std::move(labels);
}

void read_min_scores(ConfigReader& r, const YAML::Node& n, const std::string& path, ObjectSettings& o) {
  if (!r.expect_map(n, path)) return;
  for (const auto& kv : n) {
    const std::string label = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    double v = 0;
    if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, v) || v < 0.01 || v > 1.0) {
      r.issue(kv.second, ConfigReader::join(path, label), "must be a score in [0.01, 1]");
      continue;
    }
    o.min_score[label] = v;
  }
}

void read_crop(ConfigReader& r, const YAML::Node& n, const std::string& path, CropSettings& c) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"min_side", "margin", "whole_frame", "one_pass_min_px"});
  r.number(n, "min_side", path, c.min_side, 0, 4096);
  if (c.min_side > 0 && c.min_side < 32)
    r.issue(n["min_side"], ConfigReader::join(path, "min_side"),
            fmt::format("{} is too small: at least 32 pixels, or 0 for the model's input size", c.min_side));
  r.number(n, "margin", path, c.margin, 0.0, 2.0);
  r.number(n, "whole_frame", path, c.whole_frame, 0.05, 1.0);
  r.number(n, "one_pass_min_px", path, c.one_pass_min_px, 0.0, 4096.0);
}

void read_objects(ConfigReader& r, const YAML::Node& n, const std::string& path, ObjectSettings& o) {
  o.enabled = true;
  if (n.IsNull()) return;  // `objects:` alone: every default (HOG people detector)
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"model", "labels", "min_score", "confirm_frames", "crop", "recheck_s"});
  if (n["model"].IsDefined()) read_object_model(r, n["model"], ConfigReader::join(path, "model"), o);
  if (n["labels"].IsDefined()) read_object_labels(r, n["labels"], ConfigReader::join(path, "labels"), o);
  if (n["min_score"].IsDefined()) read_min_scores(r, n["min_score"], ConfigReader::join(path, "min_score"), o);
  r.number(n, "confirm_frames", path, o.confirm_frames, 1, 50);
  r.number(n, "recheck_s", path, o.recheck_s, 0.0, 10.0);
  if (n["recheck_s"].IsDefined()) o.recheck_s_given = true;
  if (n["crop"].IsDefined()) read_crop(r, n["crop"], ConfigReader::join(path, "crop"), o.crop);
}

void read_detect(ConfigReader& r, const YAML::Node& n, const std::string& path, DetectSettings& d) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"width", "height", "fps", "mode", "objects"});
  r.number(n, "width", path, d.width, 0, 3840);
  r.number(n, "height", path, d.height, 0, 2160);
  for (const auto& [key, v] : {std::pair<const char*, int>{"width", d.width}, {"height", d.height}})
    if (v > 0 && v < 64)
      r.issue(n[key], ConfigReader::join(path, key), fmt::format("{} is too small: at least 64, or 0 for the camera's own size", v));
  if ((d.width == 0) != (d.height == 0))
    r.issue(n, path, "set width and height together (or neither: the camera's own size)");
  r.number(n, "fps", path, d.fps, 1, 30);
  if (std::string mode; r.string(n, "mode", path, mode, 16)) {
    if (mode == "every_frame") d.mode = DetectMode::kEveryFrame;
    else if (mode == "keyframes") d.mode = DetectMode::kKeyframes;
    else r.issue(n["mode"], ConfigReader::join(path, "mode"), fmt::format("'{}' is not every_frame or keyframes", mode));
  }
  if (n["objects"].IsDefined()) read_objects(r, n["objects"], ConfigReader::join(path, "objects"), d.objects);
}

void read_motion(ConfigReader& r, const YAML::Node& n, const std::string& path, MotionSettings& m) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"min_area", "start_frames", "end_seconds", "veto_fraction", "veto_structure", "gate",
                         "gate_persist_s", "gate_solid_persist_s", "gate_travel", "gate_activity_s", "gate_nuisance", "gate_travel_area",
                         "gate_light_match", "still_level", "still_refresh_s"});
  r.number(n, "min_area", path, m.min_area, 0.00001, 0.9);
  r.number(n, "start_frames", path, m.start_frames, 1, 100);
  r.number(n, "end_seconds", path, m.end_seconds, 0.5, 600.0);
  r.number(n, "veto_fraction", path, m.veto_fraction, 0.1, 1.0);
  r.number(n, "veto_structure", path, m.veto_structure, 0.05, 1.0);
  r.boolean(n, "gate", path, m.gate);
  r.number(n, "gate_persist_s", path, m.gate_persist_s, 0.0, 10.0);
  r.number(n, "gate_solid_persist_s", path, m.gate_solid_persist_s, 0.0, 10.0);
  r.number(n, "gate_travel", path, m.gate_travel, 0.0, 1.0);
  r.number(n, "gate_activity_s", path, m.gate_activity_s, 1.0, 600.0);
  r.number(n, "gate_nuisance", path, m.gate_nuisance, 0.05, 1.0);
  r.number(n, "gate_travel_area", path, m.gate_travel_area, 0.0, 0.5);
  r.number(n, "gate_light_match", path, m.gate_light_match, 0.1, 1.0);
  r.number(n, "still_level", path, m.still_level, 0.0, 64.0);
  r.number(n, "still_refresh_s", path, m.still_refresh_s, 0.2, 60.0);
}

void read_clip(ConfigReader& r, const YAML::Node& n, const std::string& path, ClipSettings& c) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"pre_roll", "post_roll", "max_length"});
  r.number(n, "pre_roll", path, c.pre_roll, 0.0, 60.0);
  r.number(n, "post_roll", path, c.post_roll, 0.0, 300.0);
  r.number(n, "max_length", path, c.max_length, 10.0, 3600.0);
}

void read_watchdog(ConfigReader& r, const YAML::Node& n, const std::string& path, WatchdogSettings& w) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"stall_s", "frozen_s", "max_rate_factor"});
  r.number(n, "stall_s", path, w.stall_s, 1.0, 120.0);
  r.number(n, "frozen_s", path, w.frozen_s, 0.0, 3600.0);
  r.number(n, "max_rate_factor", path, w.max_rate_factor, 1.5, 100.0);
}

void read_tamper(ConfigReader& r, const YAML::Node& n, const std::string& path, TamperSettings& t) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"enabled", "interval_s", "learn_s", "persist_s", "clear_s", "reference_time_s", "rebaseline_s",
                         "min_stddev", "brightness_factor", "contrast_drop", "structure_change", "sharpness_drop"});
  r.boolean(n, "enabled", path, t.enabled);
  r.number(n, "interval_s", path, t.interval_s, 0.1, 10.0);
  r.number(n, "learn_s", path, t.learn_s, 1.0, 600.0);
  r.number(n, "persist_s", path, t.persist_s, 0.5, 600.0);
  r.number(n, "clear_s", path, t.clear_s, 0.5, 600.0);
  r.number(n, "reference_time_s", path, t.reference_time_s, 5.0, 86400.0);
  r.number(n, "rebaseline_s", path, t.rebaseline_s, 0.0, 86400.0);
  r.number(n, "min_stddev", path, t.min_stddev, 0.5, 64.0);
  r.number(n, "brightness_factor", path, t.brightness_factor, 1.2, 50.0);
  r.number(n, "contrast_drop", path, t.contrast_drop, 0.01, 0.9);
  r.number(n, "structure_change", path, t.structure_change, 0.1, 1.0);
  r.number(n, "sharpness_drop", path, t.sharpness_drop, 0.05, 0.95);
  if (t.rebaseline_s > 0 && t.rebaseline_s <= t.persist_s)
    r.issue(n, path, "rebaseline_s must be 0 (never) or longer than persist_s");
}

// The per-camera blocks that `defaults` may also set.
void read_camera_settings(ConfigReader& r, const YAML::Node& n, const std::string& path, CameraConfig& c) {
  if (n["detect"].IsDefined()) read_detect(r, n["detect"], ConfigReader::join(path, "detect"), c.detect);
  if (n["motion"].IsDefined()) read_motion(r, n["motion"], ConfigReader::join(path, "motion"), c.motion);
  if (n["clip"].IsDefined()) read_clip(r, n["clip"], ConfigReader::join(path, "clip"), c.clip);
  if (n["tamper"].IsDefined()) read_tamper(r, n["tamper"], ConfigReader::join(path, "tamper"), c.tamper);
  r.number(n, "rtsp_latency_ms", path, c.rtsp_latency_ms, 0, 10000);
  if (n["watchdog"].IsDefined()) read_watchdog(r, n["watchdog"], ConfigReader::join(path, "watchdog"), c.watchdog);
  r.number(n, "offline_after", path, c.offline_after, 1.0, 86400.0);
  if (r.string(n, "transport", path, c.transport, 8) && c.transport != "auto" && c.transport != "tcp" &&
      c.transport != "udp")
    r.issue(n["transport"], ConfigReader::join(path, "transport"), "must be one of auto, tcp, udp");
}

void read_masks(ConfigReader& r, const YAML::Node& n, const std::string& path, std::vector<ConfigPolygon>& out) {
  if (!n.IsSequence()) {
    r.issue(n, path, "must be a list of polygons, each a list of [x, y] points in 0..1");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node poly = n[i];
    const std::string pp = fmt::format("{}[{}]", path, i);
    if (!poly.IsSequence() || poly.size() < 3) {
      r.issue(poly, pp, "must be a list of at least 3 [x, y] points");
      continue;
    }
    ConfigPolygon polygon;
    bool good = true;
    for (std::size_t j = 0; j < poly.size(); ++j) {
      const YAML::Node pt = poly[j];
      ConfigPoint p{};
      if (!pt.IsSequence() || pt.size() != 2 || !YAML::convert<double>::decode(pt[0], p[0]) ||
          !YAML::convert<double>::decode(pt[1], p[1])) {
        r.issue(pt, fmt::format("{}[{}]", pp, j), "must be a point [x, y]");
        good = false;
        continue;
      }
      if (p[0] < 0 || p[0] > 1 || p[1] < 0 || p[1] > 1) {
        r.issue(pt, fmt::format("{}[{}]", pp, j), "coordinates must be within 0..1 (fractions of the frame)");
        good = false;
        continue;
      }
      polygon.push_back(p);
    }
    if (good) out.push_back(std::move(polygon));
  }
}

// ---- zones, lines and rules (docs/config.md "Rules") ----

// One [x, y] point in 0..1; reports and returns false otherwise.
bool read_rule_point(ConfigReader& r, const YAML::Node& pt, const std::string& path, RulePoint& p) {
  if (!pt.IsSequence() || pt.size() != 2 || !YAML::convert<double>::decode(pt[0], p[0]) ||
      !YAML::convert<double>::decode(pt[1], p[1])) {
    r.issue(pt, path, "must be a point [x, y]");
    return false;
  }
  if (!(p[0] >= 0 && p[0] <= 1 && p[1] >= 0 && p[1] <= 1)) {
    r.issue(pt, path, "coordinates must be within 0..1 (fractions of the frame)");
    return false;
  }
  return true;
}

// A unique `name` for a zone or line: 1..64 characters, no control characters (it appears in events).
bool read_rule_name(ConfigReader& r, const YAML::Node& n, const std::string& path, std::set<std::string>& seen,
                    std::string& out, const char* what) {
  if (!r.string(n, "name", path, out, 64)) {
    if (!n["name"].IsDefined()) r.issue(n, ConfigReader::join(path, "name"), "is required");
    return false;
  }
  if (out.empty() || std::any_of(out.begin(), out.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; })) {
    r.issue(n["name"], ConfigReader::join(path, "name"), "must be 1 to 64 printable characters");
    return false;
  }
  if (!seen.insert(out).second) {
    r.issue(n["name"], ConfigReader::join(path, "name"), fmt::format("duplicate {} name '{}'", what, out));
    return false;
  }
  return true;
}

void read_zones(ConfigReader& r, const YAML::Node& n, const std::string& path, std::vector<Zone>& out) {
  if (!n.IsSequence()) {
    r.issue(n, path, "must be a list of {name, polygon}");
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string zp = fmt::format("{}[{}]", path, i);
    if (!r.expect_map(n[i], zp)) continue;
    r.check_keys(n[i], zp, {"name", "polygon"});
    Zone z;
    bool good = read_rule_name(r, n[i], zp, seen, z.name, "zone");
    const YAML::Node poly = n[i]["polygon"];
    const std::string pp = ConfigReader::join(zp, "polygon");
    if (!poly.IsDefined()) {
      r.issue(n[i], pp, "is required: a list of at least 3 [x, y] points in 0..1");
      continue;
    }
    if (!poly.IsSequence() || poly.size() < 3) {
      r.issue(poly, pp, "must be a list of at least 3 [x, y] points");
      continue;
    }
    for (std::size_t j = 0; j < poly.size(); ++j) {
      RulePoint p{};
      if (read_rule_point(r, poly[j], fmt::format("{}[{}]", pp, j), p)) z.polygon.push_back(p);
      else good = false;
    }
    if (good) out.push_back(std::move(z));
  }
}

void read_lines(ConfigReader& r, const YAML::Node& n, const std::string& path, std::vector<Line>& out) {
  if (!n.IsSequence()) {
    r.issue(n, path, "must be a list of {name, from, to, direction}");
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string lp = fmt::format("{}[{}]", path, i);
    if (!r.expect_map(n[i], lp)) continue;
    r.check_keys(n[i], lp, {"name", "from", "to", "direction"});
    Line l;
    bool good = read_rule_name(r, n[i], lp, seen, l.name, "line");
    for (const char* key : {"from", "to"}) {
      RulePoint& p = std::string_view(key) == "from" ? l.a : l.b;
      if (!n[i][key].IsDefined()) {
        r.issue(n[i], ConfigReader::join(lp, key), "is required: a point [x, y] in 0..1");
        good = false;
      } else if (!read_rule_point(r, n[i][key], ConfigReader::join(lp, key), p)) {
        good = false;
      }
    }
    if (good && l.a == l.b) {
      r.issue(n[i]["to"], ConfigReader::join(lp, "to"), "must differ from `from`: a line needs two points");
      good = false;
    }
    std::string direction = "both";
    if (r.string(n[i], "direction", lp, direction, 16)) {
      if (direction == "a_to_b") l.direction = LineDirection::kAToB;
      else if (direction == "b_to_a") l.direction = LineDirection::kBToA;
      else if (direction == "both") l.direction = LineDirection::kBoth;
      else {
        r.issue(n[i]["direction"], ConfigReader::join(lp, "direction"), "must be one of a_to_b, b_to_a, both");
        good = false;
      }
    }
    if (good) out.push_back(std::move(l));
  }
}

// Rules refer to the camera's zones and lines by name and to its detect.objects labels, so they are read
// after the rest of the camera (defaults merged).
void read_rules(ConfigReader& r, const YAML::Node& cam, const std::string& cam_path, CameraConfig& c) {
  const YAML::Node n = cam["rules"];
  const std::string path = ConfigReader::join(cam_path, "rules");
  if (!n.IsSequence()) {
    r.issue(n, path, "must be a list of {kind, zone | line, labels, schedule, seconds}");
    return;
  }
  if (n.size() > 0 && !c.detect.objects.enabled)
    r.issue(n, path, "rules apply to tracked objects: add a detect.objects block to this camera (or to defaults)");
  auto has_zone = [&](const std::string& name) {
    return std::any_of(c.rules.zones.begin(), c.rules.zones.end(), [&](const Zone& z) { return z.name == name; });
  };
  auto has_line = [&](const std::string& name) {
    return std::any_of(c.rules.lines.begin(), c.rules.lines.end(), [&](const Line& l) { return l.name == name; });
  };
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node rn = n[i];
    const std::string rp = fmt::format("{}[{}]", path, i);
    if (!r.expect_map(rn, rp)) continue;
    r.check_keys(rn, rp, {"kind", "zone", "line", "labels", "schedule", "seconds"});
    Rule rule;
    bool good = true;
    std::string kind;
    if (!r.string(rn, "kind", rp, kind, 32)) {
      if (!rn["kind"].IsDefined()) r.issue(rn, ConfigReader::join(rp, "kind"), "is required: zone_enter, line_cross or loiter");
      continue;
    }
    if (kind == "zone_enter") rule.kind = RuleKind::kZoneEnter;
    else if (kind == "line_cross") rule.kind = RuleKind::kLineCross;
    else if (kind == "loiter") rule.kind = RuleKind::kLoiter;
    else {
      r.issue(rn["kind"], ConfigReader::join(rp, "kind"), "must be one of zone_enter, line_cross, loiter");
      continue;
    }
    // The target: a zone for zone_enter and loiter, a line for line_cross.
    const bool wants_line = rule.kind == RuleKind::kLineCross;
    const char* target_key = wants_line ? "line" : "zone";
    const char* other_key = wants_line ? "zone" : "line";
    if (rn[other_key].IsDefined()) {
      r.issue(rn[other_key], ConfigReader::join(rp, other_key), fmt::format("does not apply to {} (use `{}`)", kind, target_key));
      good = false;
    }
    if (!r.string(rn, target_key, rp, rule.target, 64)) {
      if (!rn[target_key].IsDefined())
        r.issue(rn, ConfigReader::join(rp, target_key), fmt::format("is required for {}", kind));
      good = false;
    } else if (wants_line ? !has_line(rule.target) : !has_zone(rule.target)) {
      r.issue(rn[target_key], ConfigReader::join(rp, target_key),
              fmt::format("unknown {} '{}' (this camera's {}: {})", target_key, rule.target, wants_line ? "lines" : "zones",
                          [&] {
                            std::vector<std::string> names;
                            if (wants_line) for (const auto& l : c.rules.lines) names.push_back(l.name);
                            else for (const auto& z : c.rules.zones) names.push_back(z.name);
                            return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
                          }()));
      good = false;
    }
    if (const YAML::Node ln = rn["labels"]; ln.IsDefined()) {
      const std::string lp = ConfigReader::join(rp, "labels");
      if (!ln.IsSequence() || ln.size() == 0) {
        r.issue(ln, lp, "must be a non-empty list of labels (omit it for every label of detect.objects.labels)");
        good = false;
      } else {
        const auto& wanted = c.detect.objects.labels;
        for (std::size_t j = 0; j < ln.size(); ++j) {
          const std::string label = ln[j].IsScalar() ? ln[j].Scalar() : std::string();
          if (c.detect.objects.enabled && std::find(wanted.begin(), wanted.end(), label) == wanted.end()) {
            r.issue(ln[j], fmt::format("{}[{}]", lp, j),
                    fmt::format("'{}' is not in detect.objects.labels [{}]", label, fmt::join(wanted, ", ")));
            good = false;
            continue;
          }
          rule.labels.insert(label);
        }
      }
    }
    std::string schedule;
    if (r.string(rn, "schedule", rp, schedule, 32)) {
      auto s = Schedule::parse(schedule);
      if (!s.ok()) {
        r.issue(rn["schedule"], ConfigReader::join(rp, "schedule"), s.error().message);
        good = false;
      } else {
        rule.schedule = s.value();
      }
    }
    if (rule.kind == RuleKind::kLoiter) {
      rule.seconds = 0;
      r.number(rn, "seconds", rp, rule.seconds, 0.0, 86400.0);
      if (!(rule.seconds > 0)) {
        r.issue(rn["seconds"].IsDefined() ? rn["seconds"] : rn, ConfigReader::join(rp, "seconds"),
                "loiter needs seconds > 0: how long an object stays in the zone before the rule fires");
        good = false;
      }
    } else if (rn["seconds"].IsDefined()) {
      r.issue(rn["seconds"], ConfigReader::join(rp, "seconds"), "only applies to loiter rules");
      good = false;
    }
    if (good) c.rules.rules.push_back(std::move(rule));
  }
}

void read_camera_rules(ConfigReader& r, const YAML::Node& n, const std::string& path, CameraConfig& c) {
  if (n["zones"].IsDefined()) read_zones(r, n["zones"], ConfigReader::join(path, "zones"), c.rules.zones);
  if (n["lines"].IsDefined()) read_lines(r, n["lines"], ConfigReader::join(path, "lines"), c.rules.lines);
  if (n["rules"].IsDefined()) read_rules(r, n, path, c);
}

void check_url(ConfigReader& r, const YAML::Node& n, const std::string& path, const std::string& url) {
  std::string why;
  auto parsed = parse_url(url, &why);
  if (!parsed) {
    r.issue(n, path, fmt::format("invalid URL '{}': {}", redact_url(url), why));
    return;
  }
  if (parsed->scheme != "rtsp" && parsed->scheme != "rtsps" && parsed->scheme != "http" && parsed->scheme != "https") {
    r.issue(n, path,
            fmt::format("scheme '{}' is not supported for cameras (use rtsp:// or rtsps://, or http(s):// for an MJPEG "
                        "camera)",
                        parsed->scheme));
  }
}

void read_camera(ConfigReader& r, const YAML::Node& n, const std::string& path, CameraConfig& c) {
  if (!r.expect_map(n, path)) return;
  r.check_keys(n, path, {"id", "name", "url", "detect_url", "masks", "detect", "motion", "clip", "rtsp_latency_ms", "transport",
                         "watchdog", "offline_after", "tamper", "zones", "lines", "rules"});
  static const std::regex kId("[a-z0-9_-]{1,64}");
  if (!r.string(n, "id", path, c.id, 64)) {
    if (!n["id"].IsDefined()) r.issue(n, ConfigReader::join(path, "id"), "is required");
  } else if (!std::regex_match(c.id, kId)) {
    r.issue(n["id"], ConfigReader::join(path, "id"), fmt::format("'{}' must match [a-z0-9_-]+ (at most 64)", c.id));
  }
  r.string(n, "name", path, c.name, 200);
  if (c.name.empty()) c.name = c.id;
  if (r.string(n, "url", path, c.url, 2048)) {
    check_url(r, n["url"], ConfigReader::join(path, "url"), c.url);
  } else if (!n["url"].IsDefined()) {
    r.issue(n, ConfigReader::join(path, "url"), "is required");
  }
  if (r.string(n, "detect_url", path, c.detect_url, 2048)) {
    const std::string where = ConfigReader::join(path, "detect_url");
    if (c.detect_url.empty()) {
      r.issue(n["detect_url"], where, "is empty: give the camera's substream URL, or leave the key out");
    } else if (c.detect_url == c.url) {
      r.issue(n["detect_url"], where, "is the same stream as url: leave it out, detection then decodes url");
    } else {
      check_url(r, n["detect_url"], where, c.detect_url);
    }
  }
  if (n["masks"].IsDefined()) read_masks(r, n["masks"], ConfigReader::join(path, "masks"), c.masks);
  read_camera_settings(r, n, path, c);
  read_camera_rules(r, n, path, c);
  // A rule camera's alert must not wait for a recheck: zones and lines judge the last detected box.
  if (!c.rules.rules.empty() && !c.detect.objects.recheck_s_given) c.detect.objects.recheck_s = 0;
}

void check_cross_field(ConfigReader& r, const YAML::Node& n, const std::string& path, const CameraConfig& c) {
  if (c.clip.pre_roll + c.clip.post_roll >= c.clip.max_length)
    r.issue(n, ConfigReader::join(path, "clip"), "pre_roll + post_roll must be shorter than max_length");
}

// `review:` (the officers' web page and API). Present = enabled; defaults listen on loopback only.
void read_review_users(ConfigReader& r, const YAML::Node& n, ReviewSettings& out) {
  if (!n.IsSequence()) {
    r.issue(n, "review.users", "must be a list of {name, role, password_hash}");
    return;
  }
  static const std::regex kName("[A-Za-z0-9_.@-]{1,64}");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string path = fmt::format("review.users[{}]", i);
    if (!r.expect_map(n[i], path)) continue;
    r.check_keys(n[i], path, {"name", "role", "password_hash"});
    ReviewUser u;
    std::string role = "viewer";
    if (!r.string(n[i], "name", path, u.name, 64) || !std::regex_match(u.name, kName))
      r.issue(n[i], ConfigReader::join(path, "name"), "is required and must match [A-Za-z0-9_.@-]+ (at most 64)");
    else if (!seen.insert(u.name).second)
      r.issue(n[i]["name"], ConfigReader::join(path, "name"), fmt::format("duplicate user '{}'", u.name));
    if (r.string(n[i], "role", path, role, 16) && !parse_role(role, u.role))
      r.issue(n[i]["role"], ConfigReader::join(path, "role"), "must be viewer, officer or admin");
    if (!r.string(n[i], "password_hash", path, u.password_hash, 256) || !looks_like_password_hash(u.password_hash))
      r.issue(n[i], ConfigReader::join(path, "password_hash"), "is required: an argon2id hash made by `matthan passwd`");
    out.users.push_back(std::move(u));
  }
}

void read_review_tokens(ConfigReader& r, const YAML::Node& n, ReviewSettings& out) {
  if (!n.IsSequence()) {
    r.issue(n, "review.api_tokens", "must be a list of {name, role, token}");
    return;
  }
  static const std::regex kSha("sha256:[0-9a-fA-F]{64}");
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string path = fmt::format("review.api_tokens[{}]", i);
    if (!r.expect_map(n[i], path)) continue;
    r.check_keys(n[i], path, {"name", "role", "token"});
    ApiToken t;
    t.name = fmt::format("token-{}", i);
    std::string role = "viewer";
    r.string(n[i], "name", path, t.name, 64);
    if (r.string(n[i], "role", path, role, 16) && !parse_role(role, t.role))
      r.issue(n[i]["role"], ConfigReader::join(path, "role"), "must be viewer, officer or admin");
    if (!r.string(n[i], "token", path, t.token, 512)) {
      r.issue(n[i], ConfigReader::join(path, "token"), "is required: the token, or sha256:<64 hex> of it");
    } else if (t.token.rfind("sha256:", 0) == 0 ? !std::regex_match(t.token, kSha) : t.token.size() < 16) {
      r.issue(n[i]["token"], ConfigReader::join(path, "token"),
              "must be at least 16 characters, or sha256: followed by 64 hex digits");
    }
    out.api_tokens.push_back(std::move(t));
  }
}

bool valid_listen_address(const std::string& listen) {
  static const std::regex kListen(R"(([0-9.]+|localhost|\[[0-9a-fA-F:]+\]):\d{1,5})");
  return std::regex_match(listen, kListen);
}

void read_review(ConfigReader& r, const YAML::Node& n, const std::filesystem::path& base_dir, ReviewSettings& out) {
  if (!r.expect_map(n, "review")) return;
  r.check_keys(n, "review", {"listen", "users", "api_tokens", "session_ttl", "login_max_failures", "login_lockout",
                             "time_zone", "tls", "secure_cookie", "metrics_public"});
  out.enabled = true;
  if (r.string(n, "listen", "review", out.listen, 128)) {
    if (!valid_listen_address(out.listen)) r.issue(n["listen"], "review.listen", "must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  if (n["users"].IsDefined()) read_review_users(r, n["users"], out);
  if (n["api_tokens"].IsDefined()) read_review_tokens(r, n["api_tokens"], out);
  r.number(n, "session_ttl", "review", out.session_ttl_s, 60, 30 * 24 * 3600);
  r.number(n, "login_max_failures", "review", out.login_max_failures, 1, 100);
  r.number(n, "login_lockout", "review", out.login_lockout_s, 1, 24 * 3600);
  if (r.string(n, "time_zone", "review", out.time_zone, 64)) {
    static const std::regex kZone("[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}");
    if (!std::regex_match(out.time_zone, kZone)) r.issue(n["time_zone"], "review.time_zone", "must be an IANA zone such as Asia/Ho_Chi_Minh");
  }
  r.boolean(n, "secure_cookie", "review", out.secure_cookie);
  r.boolean(n, "metrics_public", "review", out.metrics_public);
  if (const YAML::Node t = n["tls"]; t.IsDefined() && r.expect_map(t, "review.tls")) {
    r.check_keys(t, "review.tls", {"cert", "key"});
    std::string cert, key;
    r.string(t, "cert", "review.tls", cert);
    r.string(t, "key", "review.tls", key);
    if (cert.empty() || key.empty()) r.issue(t, "review.tls", "needs both cert and key (PEM files)");
    out.tls.cert = cert.empty() ? std::filesystem::path() : (base_dir / cert).lexically_normal();
    out.tls.key = key.empty() ? std::filesystem::path() : (base_dir / key).lexically_normal();
  }
  if (out.users.empty() && out.api_tokens.empty())
    r.issue(n, "review", "lists no users and no api_tokens: nobody could log in (make a hash with `matthan passwd`)");
}

void read_root(ConfigReader& r, const YAML::Node& root, const std::filesystem::path& base_dir, Config& cfg) {
  if (!r.expect_map(root, "")) return;
  r.check_keys(root, "", {"node", "storage", "events", "defaults", "cameras", "log", "review", "health", "metrics",
                          "control", "time_zone", "ingest"});
  static const std::regex kNode("[A-Za-z0-9_.-]{1,64}");
  if (r.string(root, "node", "", cfg.node, 64) && !std::regex_match(cfg.node, kNode))
    r.issue(root["node"], "node", "must match [A-Za-z0-9_.-]+ (at most 64)");
  if (r.string(root, "time_zone", "", cfg.time_zone, 64)) {
    if (auto tz = TimeZone::load(cfg.time_zone); !tz.ok()) r.issue(root["time_zone"], "time_zone", tz.error().message);
  }

  if (const YAML::Node s = root["storage"]; s.IsDefined() && r.expect_map(s, "storage")) {
    r.check_keys(s, "storage",
                 {"root", "ring_max_bytes", "max_age_days", "max_bytes", "min_free_bytes", "retention_interval"});
    std::string rootdir;
    if (r.string(s, "root", "storage", rootdir)) {
      if (rootdir.empty()) r.issue(s["root"], "storage.root", "must not be empty");
      cfg.storage_root = rootdir;
    }
    r.number(s, "ring_max_bytes", "storage", cfg.ring_max_bytes, std::size_t{1} << 20, std::size_t{1} << 32);
    RetentionSettings& rs = cfg.retention;
    r.number(s, "max_age_days", "storage", rs.max_age_days, 0.0, 36500.0);
    r.number(s, "max_bytes", "storage", rs.max_bytes, std::uint64_t{0}, std::uint64_t{1} << 56);
    r.number(s, "min_free_bytes", "storage", rs.min_free_bytes, std::uint64_t{0}, std::uint64_t{1} << 56);
    r.number(s, "retention_interval", "storage", rs.interval_s, 1.0, 86400.0);
  }
  if (cfg.storage_root.is_relative()) cfg.storage_root = (base_dir / cfg.storage_root).lexically_normal();

  if (const YAML::Node e = root["events"]; e.IsDefined() && r.expect_map(e, "events")) {
    r.check_keys(e, "events", {"bind"});
    if (r.string(e, "bind", "events", cfg.events_bind)) {
      static const std::regex kEndpoint(R"((tcp://[^\s]+:(\d+|\*))|(ipc://[^\s]+)|(inproc://[^\s]+))");
      if (!std::regex_match(cfg.events_bind, kEndpoint))
        r.issue(e["bind"], "events.bind", "must be a ZeroMQ endpoint such as tcp://127.0.0.1:5560 or ipc:///run/matthan.sock");
    }
  }

  if (const YAML::Node h = root["health"]; h.IsDefined() && r.expect_map(h, "health")) {
    r.check_keys(h, "health", {"heartbeat_s"});
    r.number(h, "heartbeat_s", "health", cfg.heartbeat_s, 0.5, 3600.0);
  }

  if (const YAML::Node i = root["ingest"]; i.IsDefined() && r.expect_map(i, "ingest")) {
    r.check_keys(i, "ingest", {"max_connecting"});
    r.number(i, "max_connecting", "ingest", cfg.ingest.max_connecting, 0, 1024);
  }

  if (const YAML::Node l = root["log"]; l.IsDefined() && r.expect_map(l, "log")) {
    r.check_keys(l, "log", {"level", "json"});
    if (r.string(l, "level", "log", cfg.log.level)) {
      static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error"};
      if (!kLevels.count(cfg.log.level)) r.issue(l["level"], "log.level", "must be one of trace, debug, info, warn, error");
    }
    r.boolean(l, "json", "log", cfg.log.json);
  }

  if (const YAML::Node rv = root["review"]; rv.IsDefined()) read_review(r, rv, base_dir, cfg.review);
  if (const YAML::Node m = root["metrics"]; m.IsDefined() && r.expect_map(m, "metrics")) {
    r.check_keys(m, "metrics", {"listen"});
    if (r.string(m, "listen", "metrics", cfg.metrics.listen, 128) && !valid_listen_address(cfg.metrics.listen))
      r.issue(m["listen"], "metrics.listen", "must be HOST:PORT, e.g. 127.0.0.1:9108");
  }

  // An explicit socket path must fit sockaddr_un; the default one that does not is skipped with a warning.
  if (const YAML::Node c = root["control"]; c.IsDefined() && r.expect_map(c, "control")) {
    r.check_keys(c, "control", {"socket"});
    std::string sock;
    if (r.string(c, "socket", "control", sock)) {
      if (sock.empty()) r.issue(c["socket"], "control.socket", "must not be empty");
      std::filesystem::path p = sock;
      if (p.is_relative()) p = (base_dir / p).lexically_normal();
      if (p.string().size() > 107) r.issue(c["socket"], "control.socket", "is too long for a Unix socket (at most 107 bytes)");
      cfg.control.socket = p;
    }
  }
  if (cfg.control.socket.empty()) cfg.control.socket = cfg.storage_root / "control.sock";

  CameraConfig defaults;
  if (const YAML::Node d = root["defaults"]; d.IsDefined() && r.expect_map(d, "defaults")) {
    r.check_keys(d, "defaults",
                 {"detect", "motion", "clip", "rtsp_latency_ms", "transport", "watchdog", "offline_after", "tamper"});
    read_camera_settings(r, d, "defaults", defaults);
  }

  const YAML::Node cams = root["cameras"];
  if (!cams.IsDefined() || cams.IsNull()) {
    r.issue(root, "cameras", "is required: list at least one camera");
    return;
  }
  if (!cams.IsSequence()) {
    r.issue(cams, "cameras", "must be a list of cameras");
    return;
  }
  if (cams.size() == 0) r.issue(cams, "cameras", "is empty: list at least one camera");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < cams.size(); ++i) {
    const std::string path = fmt::format("cameras[{}]", i);
    CameraConfig cam = defaults;
    read_camera(r, cams[i], path, cam);
    if (!cams[i].IsMap()) continue;
    check_cross_field(r, cams[i], path, cam);
    if (!cam.id.empty() && !seen.insert(cam.id).second)
      r.issue(cams[i]["id"], ConfigReader::join(path, "id"), fmt::format("duplicate camera id '{}'", cam.id));
    cam.rules.time_zone = cfg.time_zone;
    cfg.cameras.push_back(std::move(cam));
  }
}

}  // namespace

std::string ConfigIssue::to_string() const {
  if (line > 0) return fmt::format("{}:{}:{}: {}: {}", file, line, column, key.empty() ? "(top)" : key, message);
  return fmt::format("{}: {}: {}", file, key.empty() ? "(top)" : key, message);
}

std::string ConfigLoad::error_text() const {
  std::string out;
  for (const auto& i : issues) out += i.to_string() + "\n";
  return out;
}

ConfigLoad load_config_text(const std::string& yaml, const std::string& name, const std::filesystem::path& base_dir) {
  ConfigLoad result;
  ConfigReader reader(name, result.issues);
  reader.base_dir = base_dir;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    ConfigIssue i;
    i.file = name;
    i.line = e.mark.is_null() ? 0 : e.mark.line + 1;
    i.column = e.mark.is_null() ? 0 : e.mark.column + 1;
    i.message = fmt::format("YAML syntax error: {}", e.msg);
    result.issues.push_back(std::move(i));
    return result;
  }
  if (!root.IsDefined() || root.IsNull()) {
    result.issues.push_back(ConfigIssue{name, 0, 0, "", "the config is empty"});
    return result;
  }
  try {
    read_root(reader, root, base_dir, result.config);
  } catch (const YAML::Exception& e) {  // a malformed tree yaml-cpp refuses to walk
    result.issues.push_back(ConfigIssue{name, e.mark.is_null() ? 0 : e.mark.line + 1, 0, "", e.what()});
  }
  return result;
}

ConfigLoad load_config_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigLoad result;
    result.issues.push_back(ConfigIssue{path.string(), 0, 0, "", "cannot open the config file"});
    return result;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec);
  ConfigLoad result = load_config_text(ss.str(), path.string(), abs.parent_path());
  result.config.source = abs;
  return result;
}

Result<CameraConfig> camera_settings_from(const std::filesystem::path& path, const std::string& id,
                                          const std::string& option) {
  ConfigLoad load = load_config_file(path);
  if (!load.ok()) return make_error(load.error_text());
  for (const auto& cam : load.config.cameras)
    if (id.empty() || cam.id == id) return cam;
  if (id.empty()) return make_error(fmt::format("{}: no camera to take settings from", path.string()));
  return make_error(fmt::format("{}: no camera '{}' ({})", path.string(), id, option));
}

}  // namespace matthan
