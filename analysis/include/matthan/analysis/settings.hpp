// AnalysisSettings: what one camera's analysis is configured with, in the modules' own settings structs (the config
// file's field tables bind each key to one of their members; this module never reads the file).
#pragma once

#include <vector>

#include "matthan/core/types.hpp"
#include "matthan/detect/detect_settings.hpp"
#include "matthan/detect/tamper_detector.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/rules.hpp"

namespace matthan {

struct AnalysisSettings {
  CameraId id;
  DetectSettings detect;
  MotionSettings motion;
  ClipSettings clip;  // clip.max_length: an incident is cut at this length
  std::vector<ConfigPolygon> masks;
  RuleSettings rules;
  TamperConfig tamper;
  double offline_after = 30;  // seconds without video before a camera_offline incident
};

}  // namespace matthan
