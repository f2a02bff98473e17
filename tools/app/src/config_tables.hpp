// The config file's field tables (docs/config.md): one declaration per key, bound to its module's settings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>

#include "config_fields.hpp"
#include "matthan/app/config.hpp"

namespace matthan::config {

// The top level. `defaults` and `cameras` are read by config.cpp (after the rest: cameras take the node's
// time_zone); every other key reads itself.
const Table<Config>& root_table();
// A camera's keys. id, name, url, detect_url, masks, zones, lines and rules are read by config.cpp.
const Table<CameraConfig>& camera_table();
// The keys `defaults` may set (each reads itself): the camera's keys but its identity, stream URLs and geometry.
const Table<CameraConfig>& camera_settings_table();

// Reads every key of the table (in the order issues have always been reported in).
void read_root_settings(ConfigReader& r, const YAML::Node& root, Config& cfg);
void read_camera_settings(ConfigReader& r, const YAML::Node& n, const std::string& path, CameraConfig& c);

// HOST:PORT, for review.listen and metrics.listen.
bool valid_listen_address(const std::string& listen);

// `review:` (config_review.cpp), which the root table's `review` key reads.
const Table<ReviewSettings>& review_table();
void read_review(ConfigReader& r, const YAML::Node& n, ReviewSettings& out);

// The items of a camera's `zones:`, `lines:` and `rules:` lists (config.cpp reads them: a rule refers to zones and
// lines by name).
const Table<Zone>& zone_table();
const Table<Line>& line_table();
const Table<Rule>& rule_table();

}  // namespace matthan::config
