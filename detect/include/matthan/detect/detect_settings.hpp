// A camera's motion and object-detection settings as the config file gives them (docs/config.md `motion:` and
// `detect:`), in the file's own units. The config's field tables bind to these members; the analysis derives the
// detectors' own configs (MotionConfig, MotionGateConfig, TrackerConfig, CropPlan) from them.
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace matthan {

using ConfigPoint = std::array<double, 2>;  // normalised 0..1
using ConfigPolygon = std::vector<ConfigPoint>;

// detect.objects.model: a Darknet model for object detection on motion. Absent: OpenCV's HOG people detector.
struct ObjectModelSettings {
  std::filesystem::path cfg, weights, names;  // resolved against the config file's folder
  int input = 320;                            // network input side
  bool operator==(const ObjectModelSettings&) const = default;
};

// detect.objects.crop: how the detector's crops are cut around the motion boxes. A crop smaller than the
// model's input is stretched up to it: a zoom that lets a small model see small objects.
struct CropSettings {
  int min_side = 0;          // smallest crop side in frame pixels; 0: the model's input size (no zoom)
  double margin = 0.25;      // each motion box grows by this share of its size on every side
  double whole_frame = 0.6;  // crops covering at least this share of the frame give one whole-frame call
  // Two or more crops become one call on the square around them while every motion box in it still spans at
  // least this many pixels of the model's input; 0: never (docs/config.md;
  // bench/journal/2026-12-07-crops-per-call-one-pass.md).
  double one_pass_min_px = 0;
  bool operator==(const CropSettings&) const = default;
};

// detect.objects: object detection on motion. Absent: the camera raises motion incidents.
struct ObjectSettings {
  bool enabled = false;                      // true when a detect.objects block is present
  std::optional<ObjectModelSettings> model;  // none: OpenCV's built-in HOG people detector
  CropSettings crop;
  std::vector<std::string> labels{"person", "bicycle", "motorbike", "car", "bus", "truck"};
  std::map<std::string, double> min_score{{"default", 0.5}, {"person", 0.4}};
  int confirm_frames = 3;  // detections before a track counts (and may raise an incident)
  // Detection budget: motion explained by a confirmed track detected less than this long ago is not sent to
  // the detector again (0: every analysed frame with motion is). New motion is always looked at at once.
  // 1 s holds box recall and the incidents on the ground-truth clips
  // (bench/journal/2026-12-07-forward-call-and-detection-budget.md). A camera with rules defaults to 0: between
  // rechecks zones and lines see the last detected box, so a crossing would be seen up to recheck_s late.
  double recheck_s = 1;
  bool recheck_s_given = false;  // set in the config (the camera's block or defaults)
  bool operator==(const ObjectSettings&) const = default;
};

// detect.mode: which decoded frames the analysis sees. kKeyframes drops every non-key access unit before the
// analysis decoder (recording still keeps every packet): about one analysed frame per GOP, at roughly a third
// of the decode cost, for dense nodes and weak machines (docs/config.md; bench/journal/2026-11-29-keyframes-mode.md).
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

// motion: what moves, and what of it is worth an incident (feeds MotionConfig, MotionGateConfig and the motion
// incidents' IncidentPolicy).
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
  double still_level = 3;      // levels per 16x16 block; 0 disables
  double still_refresh_s = 2;  // a frame is processed at least this often
  bool operator==(const MotionSettings&) const = default;
};

}  // namespace matthan
