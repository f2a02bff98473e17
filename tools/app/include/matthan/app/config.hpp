// The engine's configuration: typed, bounded, with defaults merged into each camera (docs/config.md).
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"

namespace matthan {

using ConfigPoint = std::array<double, 2>;  // normalised 0..1
using ConfigPolygon = std::vector<ConfigPoint>;

// detect.objects: object detection on motion (docs/config.md). Absent: the camera raises motion incidents.
struct ObjectModelSettings {
  std::filesystem::path cfg, weights, names;  // resolved against the config file's folder
  int input = 320;                            // network input side
};

struct ObjectSettings {
  bool enabled = false;                      // true when a detect.objects block is present
  std::optional<ObjectModelSettings> model;  // none: OpenCV's built-in HOG people detector
  std::vector<std::string> labels{"person", "bicycle", "motorbike", "car", "bus", "truck"};
  std::map<std::string, double> min_score{{"default", 0.5}, {"person", 0.4}};
  int confirm_frames = 3;  // detections before a track counts (and may raise an incident)
};

struct DetectSettings {
  int width = 640;
  int height = 360;
  int fps = 5;
  ObjectSettings objects;
};

struct MotionSettings {
  double min_area = 0.002;  // fraction of the frame
  int start_frames = 3;
  double end_seconds = 5;
};

struct ClipSettings {
  double pre_roll = 5;
  double post_roll = 5;
  double max_length = 300;
};

struct CameraConfig {
  std::string id;
  std::string name;
  std::string url;  // may hold credentials: print only redact_url(url)
  int rtsp_latency_ms = 200;
  DetectSettings detect;
  MotionSettings motion;
  ClipSettings clip;
  std::vector<ConfigPolygon> masks;
};

struct LogSettings {
  std::string level = "info";
  bool json = false;
};

struct Config {
  std::filesystem::path source;  // the file it was read from (empty for an embedded config)
  std::string node = "matthan";
  std::filesystem::path storage_root = "./var";  // resolved against the config file's folder
  std::size_t ring_max_bytes = 64u << 20;         // per camera
  std::string events_bind = "tcp://127.0.0.1:5560";
  LogSettings log;
  std::vector<CameraConfig> cameras;
};

// One problem found in a config, located at its file and line (1-based; 0 when unknown).
struct ConfigIssue {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;  // dotted path, e.g. cameras[1].url
  std::string message;
  std::string to_string() const;  // "FILE:LINE:COL: KEY: MESSAGE"
};

struct ConfigLoad {
  Config config;
  std::vector<ConfigIssue> issues;  // empty when the config is valid
  bool ok() const { return issues.empty(); }
  std::string error_text() const;  // every issue, one per line
};

// Reads and validates a YAML config file, reporting every issue rather than the first.
ConfigLoad load_config_file(const std::filesystem::path& path);
// The same for YAML text; `name` stands for the file in messages, `base_dir` anchors relative paths.
ConfigLoad load_config_text(const std::string& yaml, const std::string& name, const std::filesystem::path& base_dir);

}  // namespace matthan
