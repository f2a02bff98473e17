// YAML config loading: strict keys, typed and bounded values, defaults merged per camera, every
// problem reported with its file:line. Reading has no side effects (nothing is created or opened).
#include "matthan/app/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config_tables.hpp"
#include "matthan/core/url.hpp"

namespace matthan {
namespace config {
namespace {

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
    r.check_keys(n[i], zp, keys_of(zone_table()));
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
      if (read_rule_point(r, poly[j], fmt::format("{}[{}]", pp, j), p))
        z.polygon.push_back(p);
      else
        good = false;
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
    r.check_keys(n[i], lp, keys_of(line_table()));
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
      if (direction == "a_to_b")
        l.direction = LineDirection::kAToB;
      else if (direction == "b_to_a")
        l.direction = LineDirection::kBToA;
      else if (direction == "both")
        l.direction = LineDirection::kBoth;
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
    r.check_keys(rn, rp, keys_of(rule_table()));
    Rule rule;
    bool good = true;
    std::string kind;
    if (!r.string(rn, "kind", rp, kind, 32)) {
      if (!rn["kind"].IsDefined())
        r.issue(rn, ConfigReader::join(rp, "kind"), "is required: zone_enter, line_cross or loiter");
      continue;
    }
    if (kind == "zone_enter")
      rule.kind = RuleKind::kZoneEnter;
    else if (kind == "line_cross")
      rule.kind = RuleKind::kLineCross;
    else if (kind == "loiter")
      rule.kind = RuleKind::kLoiter;
    else {
      r.issue(rn["kind"], ConfigReader::join(rp, "kind"), "must be one of zone_enter, line_cross, loiter");
      continue;
    }
    // The target: a zone for zone_enter and loiter, a line for line_cross.
    const bool wants_line = rule.kind == RuleKind::kLineCross;
    const char* target_key = wants_line ? "line" : "zone";
    const char* other_key = wants_line ? "zone" : "line";
    if (rn[other_key].IsDefined()) {
      r.issue(rn[other_key], ConfigReader::join(rp, other_key),
              fmt::format("does not apply to {} (use `{}`)", kind, target_key));
      good = false;
    }
    if (!r.string(rn, target_key, rp, rule.target, 64)) {
      if (!rn[target_key].IsDefined())
        r.issue(rn, ConfigReader::join(rp, target_key), fmt::format("is required for {}", kind));
      good = false;
    } else if (wants_line ? !has_line(rule.target) : !has_zone(rule.target)) {
      r.issue(rn[target_key], ConfigReader::join(rp, target_key),
              fmt::format("unknown {} '{}' (this camera's {}: {})", target_key, rule.target,
                          wants_line ? "lines" : "zones", [&] {
                            std::vector<std::string> names;
                            if (wants_line)
                              for (const auto& l : c.rules.lines) names.push_back(l.name);
                            else
                              for (const auto& z : c.rules.zones) names.push_back(z.name);
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
  r.check_keys(n, path, keys_of(camera_table()));
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

void read_root(ConfigReader& r, const YAML::Node& root, const std::filesystem::path& base_dir, Config& cfg) {
  if (!r.expect_map(root, "")) return;
  r.check_keys(root, "", keys_of(root_table()));
  read_root_settings(r, root, cfg);  // all but defaults and cameras, which come last
  if (cfg.storage_root.is_relative()) cfg.storage_root = (base_dir / cfg.storage_root).lexically_normal();
  if (cfg.control.socket.empty()) cfg.control.socket = cfg.storage_root / "control.sock";

  CameraConfig defaults;
  if (const YAML::Node d = root["defaults"]; d.IsDefined() && r.expect_map(d, "defaults")) {
    r.check_keys(d, "defaults", keys_of(camera_settings_table()));
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
}  // namespace config

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
  config::ConfigReader reader(name, result.issues);
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
    config::read_root(reader, root, base_dir, result.config);
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
