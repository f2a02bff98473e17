// `matthan eval`: runs a camera's analysis (the engine's own code) offline over a clip, frame by frame,
// and scores it against ground truth (docs/ACCURACY.md).
#pragma once

#include <filesystem>
#include <string>

namespace matthan {

struct EvalOptions {
  std::filesystem::path clip;
  std::filesystem::path config;    // optional: the camera's settings (detect.objects, motion, masks)
  std::string camera;              // which camera of the config (default: the first)
  std::filesystem::path gt_masks;  // folder of gtNNNNNN.png (CDnet values); ROI.bmp / temporalROI.txt next to it
  std::filesystem::path gt_boxes;  // gt_summary.csv
  int gt_offset = 0;               // ground-truth number = decoded frame index + offset
  // "every_frame" or "keyframes"; empty: the camera's detect.mode (every_frame without --config). keyframes
  // analyses only the frames a camera in detect.mode keyframes would: one every `gop_s` seconds of the clip
  // (0: the clip's own keyframes), so its accuracy is comparable whatever GOP the clip was encoded with.
  std::string mode;
  double gop_s = 2.0;
  double min_box_area = 0.005;  // ground-truth blobs smaller than this share of the frame are not counted
  // Optional CSV of the boxes scored, one a line: frame,source,label,score,x,y,w,h (normalised 0..1), to look
  // at what the false alarms and misses are. Source: pred (the detector's box, or a motion box without
  // objects), track (a confirmed track's predicted box on a frame detect.objects.recheck_s spared it the
  // detector; scored like pred), gt.
  std::filesystem::path dump_boxes;
  bool json = false;
};

// Prints the report (text, or one JSON object with --json) to stdout. Returns the process exit code:
// 0 done, 2 bad input (clip, config or ground truth unreadable).
int run_eval(const EvalOptions& options);

}  // namespace matthan
