// The engine's configuration: typed, bounded, with defaults merged into each camera (docs/config.md).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/events/rules.hpp"
#include "matthan/review/settings.hpp"

namespace matthan {

using ConfigPoint = std::array<double, 2>;  // normalised 0..1
using ConfigPolygon = std::vector<ConfigPoint>;

// detect.objects: object detection on motion (docs/config.md). Absent: the camera raises motion incidents.
struct ObjectModelSettings {
  std::filesystem::path cfg, weights, names;  // resolved against the config file's folder
  int input = 320;                            // network input side
  bool operator==(const ObjectModelSettings&) const = default;
};

// detect.objects.crop: how the detector's crops are cut around the motion boxes (docs/config.md). A crop
// smaller than the model's input is stretched up to it: a zoom that lets a small model see small objects.
struct CropSettings {
  int min_side = 0;          // smallest crop side in frame pixels; 0: the model's input size (no zoom)
  double margin = 0.25;      // each motion box grows by this share of its size on every side
  double whole_frame = 0.6;  // crops covering at least this share of the frame give one whole-frame call
  // Two or more crops become one call on the square around them while every motion box in it still spans at
  // least this many pixels of the model's input; 0: never (docs/config.md, docs/ACCURACY.md "One pass").
  double one_pass_min_px = 0;
  bool operator==(const CropSettings&) const = default;
};

struct ObjectSettings {
  bool enabled = false;                      // true when a detect.objects block is present
  std::optional<ObjectModelSettings> model;  // none: OpenCV's built-in HOG people detector
  CropSettings crop;
  std::vector<std::string> labels{"person", "bicycle", "motorbike", "car", "bus", "truck"};
  std::map<std::string, double> min_score{{"default", 0.5}, {"person", 0.4}};
  int confirm_frames = 3;  // detections before a track counts (and may raise an incident)
  // Detection budget: motion explained by a confirmed track detected less than this long ago is not sent to
  // the detector again (0: every analysed frame with motion is). New motion is always looked at at once.
  // 1 s holds box recall and the incidents on the ground-truth clips (docs/ACCURACY.md "recheck_s"). A camera
  // with rules defaults to 0: between rechecks zones and lines see the last detected box, so a crossing would
  // be seen up to recheck_s late.
  double recheck_s = 1;
  bool recheck_s_given = false;  // set in the config (the camera's block or defaults)
  bool operator==(const ObjectSettings&) const = default;
};

// detect.mode: which decoded frames the analysis sees. kKeyframes drops every non-key access unit before the
// analysis decoder (recording still keeps every packet): about one analysed frame per GOP, at roughly a third
// of the decode cost, for dense nodes and weak machines (docs/config.md, docs/PERFORMANCE.md).
enum class DetectMode { kEveryFrame, kKeyframes };

struct DetectSettings {
  // The analysis copy's size; 0 x 0 (the default) is the camera's own size, with no scaling at all in the
  // pipeline: motion scales the luma plane itself, and the object detector crops from the full picture.
  int width = 0;
  int height = 0;
  int fps = 5;
  DetectMode mode = DetectMode::kEveryFrame;
  ObjectSettings objects;
  bool operator==(const DetectSettings&) const = default;
};

struct MotionSettings {
  double min_area = 0.002;  // fraction of the frame
  int start_frames = 3;
  double end_seconds = 5;
  // Global-change veto (docs/config.md `motion.veto_*`): a large share of the frame changing at once with
  // the scene's structure kept (lights, IR switch, exposure) re-learns the background and is no motion.
  double veto_fraction = 0.5;   // share of the frame; 1 disables
  double veto_structure = 0.3;  // the structure must have changed less than this (share of grid cells)
  // Persistence gate (docs/config.md `motion.gate_*`): what in the mask is worth an incident.
  bool gate = true;
  double gate_persist_s = 0.4;
  double gate_solid_persist_s = 0;  // a solid region where nothing habitually moves counts after this long
  double gate_travel = 0.05;
  double gate_activity_s = 10;
  double gate_nuisance = 0.4;
  double gate_travel_area = 0.003;
  double gate_light_match = 0.7;
  // Still-frame gate (docs/config.md `motion.still_*`): frames unchanged since the last processed frame,
  // whose mask was empty, skip the motion model.
  double still_level = 3;        // levels per 16x16 block; 0 disables
  double still_refresh_s = 2;    // a frame is processed at least this often
  bool operator==(const MotionSettings&) const = default;
};

struct ClipSettings {
  double pre_roll = 5;
  double post_roll = 5;
  double max_length = 300;
  bool operator==(const ClipSettings&) const = default;
};

// The stall watchdog (docs/operations.md): how long a camera may show each kind of stall.
struct WatchdogSettings {
  double stall_s = 5;            // no packets, or no decoded frames while packets arrive
  double frozen_s = 10;          // identical pictures (0 disables)
  double max_rate_factor = 3;    // packets arriving this many times faster than the stream's own rate
  bool operator==(const WatchdogSettings&) const = default;
};

// Tamper detection (docs/config.md `tamper:`): covered, turned or defocused views raise a `tamper` incident.
struct TamperSettings {
  bool enabled = true;
  double interval_s = 0.5;          // evaluation period
  double learn_s = 5;               // reference learnt for this long first
  double persist_s = 5;             // a condition must hold this long before the incident starts
  double clear_s = 3;               // normal for this long ends it
  double reference_time_s = 60;     // time constant of the reference's slow update
  double rebaseline_s = 300;        // a `turned` view held this long becomes the reference (0: never)
  double min_stddev = 6;            // near-uniform below this luma standard deviation
  double brightness_factor = 2.5;   // far darker or brighter than the reference by this factor
  double contrast_drop = 0.25;      // contrast below this fraction of the reference's
  double structure_change = 0.65;   // share of textured cells whose edges changed: turned above this
  double sharpness_drop = 0.45;     // sharpness below this fraction of the reference's: defocused
  bool operator==(const TamperSettings&) const = default;
};

// Per-camera `zones:`, `lines:` and `rules:` (docs/config.md "Rules"), in normalised 0..1 coordinates.
// With rules, a camera raises only rule incidents (zone_enter, line_cross, loiter); without, `object`
// incidents for its labels. Rules need a detect.objects block.
struct RuleSettings {
  std::vector<Zone> zones;
  std::vector<Line> lines;
  std::vector<Rule> rules;
  std::string time_zone = "Asia/Ho_Chi_Minh";  // the node's `time_zone`, copied into every camera
  bool operator==(const RuleSettings&) const = default;
};

struct CameraConfig {
  std::string id;
  std::string name;
  std::string url;  // may hold credentials: print only redact_url(url)
  // Optional low-resolution substream that detection reads while `url` is only recorded (never decoded).
  // Empty: detection decodes `url`. May hold credentials, like url.
  std::string detect_url;
  int rtsp_latency_ms = 200;
  std::string transport = "auto";  // auto | tcp | udp
  double offline_after = 30;       // seconds without video before a camera_offline incident
  WatchdogSettings watchdog;
  DetectSettings detect;
  MotionSettings motion;
  ClipSettings clip;
  TamperSettings tamper;
  std::vector<ConfigPolygon> masks;
  RuleSettings rules;

  bool operator==(const CameraConfig&) const = default;  // reload: an unchanged camera is left alone
};

struct LogSettings {
  std::string level = "info";
  bool json = false;
  bool operator==(const LogSettings&) const = default;
};

// Retention of clips under storage.root (storage.max_age_days, max_bytes, min_free_bytes, retention_interval).
struct RetentionSettings {
  double max_age_days = 30;                      // 0: keep clips whatever their age
  std::uint64_t max_bytes = 0;                   // 0: no quota
  std::uint64_t min_free_bytes = 256ull << 20;   // free-space floor on the storage filesystem
  double interval_s = 60;                        // how often the pass runs (also once at start-up)
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
  bool operator==(const IngestSettings&) const = default;
};

struct Config {
  std::filesystem::path source;  // the file it was read from (empty for an embedded config)
  std::string node = "matthan";
  // `time_zone:` the IANA zone rule schedules are read in (default Asia/Ho_Chi_Minh); checked against the
  // system tz database (core/time_zone.hpp) when the config loads.
  std::string time_zone = "Asia/Ho_Chi_Minh";
  std::filesystem::path storage_root = "./var";  // resolved against the config file's folder
  std::size_t ring_max_bytes = 64u << 20;         // per camera
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
