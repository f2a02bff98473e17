// The engine's configuration: typed, bounded, with defaults merged into each camera (docs/config.md).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "matthan/analysis/settings.hpp"
#include "matthan/core/result.hpp"
#include "matthan/detect/detect_settings.hpp"
#include "matthan/detect/tamper_detector.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/rules.hpp"
#include "matthan/ingest/stall_watchdog.hpp"
#include "matthan/ingest/transport.hpp"
#include "matthan/review/settings.hpp"

namespace matthan {

// The per-camera settings live with the modules that use them: motion and detection in detect
// (detect_settings.hpp), tamper in detect (TamperConfig), the stall watchdog and transport in ingest, clip and
// rules in events. The field tables in config_fields.cpp bind each key to one of their members.

struct CameraConfig {
  std::string id;
  std::string name;
  std::string url;  // may hold credentials: print only redact_url(url)
  // Optional low-resolution substream that detection reads while `url` is only recorded (never decoded).
  // Empty: detection decodes `url`. May hold credentials, like url.
  std::string detect_url;
  int rtsp_latency_ms = 200;
  RtspTransport transport = RtspTransport::kAuto;
  double offline_after = 30;  // seconds without video before a camera_offline incident
  WatchdogPolicy watchdog;    // stall_s, frozen_s and max_rate_factor come from the file
  DetectSettings detect;
  MotionSettings motion;
  ClipSettings clip;
  TamperConfig tamper;
  std::vector<ConfigPolygon> masks;
  RuleSettings rules;

  bool operator==(const CameraConfig&) const = default;  // reload: an unchanged camera is left alone
  // What the camera's analysis is configured with (matthan::analysis knows nothing of this file).
  AnalysisSettings analysis() const { return {id, detect, motion, clip, masks, rules, tamper, offline_after}; }
};

struct LogSettings {
  std::string level = "info";
  bool json = false;
  bool operator==(const LogSettings&) const = default;
};

// Retention of clips under storage.root (storage.max_age_days, max_bytes, min_free_bytes, retention_interval).
struct RetentionSettings {
  double max_age_days = 30;                     // 0: keep clips whatever their age
  std::uint64_t max_bytes = 0;                  // 0: no quota
  std::uint64_t min_free_bytes = 256ull << 20;  // free-space floor on the storage filesystem
  double interval_s = 60;                       // how often the pass runs (also once at start-up)
  bool operator==(const RetentionSettings&) const = default;
};

// `metrics:` a /metrics listener of its own (the review server serves /metrics too, when it runs).
struct MetricsSettings {
  std::string listen;  // HOST:PORT; empty = no listener of its own
  bool operator==(const MetricsSettings&) const = default;
};

// `control:` the Unix socket `matthan reload` talks to (docs/operations.md).
struct ControlSettings {
  std::filesystem::path socket;  // empty in the file: <storage.root>/control.sock (resolved when loading)
  bool operator==(const ControlSettings&) const = default;
};

// `ingest:` how the node's cameras connect (docs/config.md).
struct IngestSettings {
  // At most this many cameras connect at once (from an attempt's start to its first packet); 0: no bound.
  int max_connecting = 8;
  // Ordinary failures wait at most this long before the next attempt (ingest's backoff_policy); 401 / 404 keep
  // their slower steps.
  double backoff_max_s = 10;
  bool operator==(const IngestSettings&) const = default;
};

struct Config {
  std::filesystem::path source;  // the file it was read from (empty for an embedded config)
  std::string node = "matthan";
  // `time_zone:` the IANA zone rule schedules are read in (default Asia/Ho_Chi_Minh); checked against the
  // system tz database (core/time_zone.hpp) when the config loads.
  std::string time_zone = "Asia/Ho_Chi_Minh";
  std::filesystem::path storage_root = "./var";  // resolved against the config file's folder
  std::size_t ring_max_bytes = 64u << 20;        // per camera
  RetentionSettings retention;
  std::string events_bind = "tcp://127.0.0.1:5560";
  double heartbeat_s = 10;  // health.heartbeat_s: how often the `heartbeat` message goes out
  LogSettings log;
  std::vector<CameraConfig> cameras;
  ReviewSettings review;  // `review:` block; review.enabled is false without one
  MetricsSettings metrics;
  ControlSettings control;
  IngestSettings ingest;
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

// The key tables of docs/config.md, generated from the field tables: each marked block's name (the `NAME` of
// `<!-- config-keys NAME -->`) and its markdown table. `matthan config-keys` prints them.
std::vector<std::pair<std::string, std::string>> config_key_tables();

// Reads and validates a YAML config file, reporting every issue rather than the first.
ConfigLoad load_config_file(const std::filesystem::path& path);
// The same for YAML text; `name` stands for the file in messages, `base_dir` anchors relative paths.
ConfigLoad load_config_text(const std::string& yaml, const std::string& name, const std::filesystem::path& base_dir);

// One camera's settings from a config file, for the offline tools that analyse a clip as that camera would
// (`scan --camera-like`, `eval --camera`): the camera named `id`, or the first when `id` is empty. An invalid
// config, or no such camera, is an error that names the file and `option`.
Result<CameraConfig> camera_settings_from(const std::filesystem::path& path, const std::string& id,
                                          const std::string& option);

}  // namespace matthan
