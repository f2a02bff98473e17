// CameraAnalysis: everything one camera's frames go through, in one place so that the engine and
// `matthan eval` run exactly the same code: motion -> (object detection on the moving parts -> tracking)
// -> incidents.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "matthan/analysis/settings.hpp"
#include "matthan/analysis/stream_size_watch.hpp"
#include "matthan/core/result.hpp"
#include "matthan/core/time_zone.hpp"
#include "matthan/core/types.hpp"
#include "matthan/detect/motion_detector.hpp"
#include "matthan/detect/motion_gate.hpp"
#include "matthan/detect/object_detector.hpp"
#include "matthan/detect/tracker.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/object_incidents.hpp"
#include "matthan/events/rule_incidents.hpp"
#include "matthan/events/rules.hpp"

namespace matthan {

struct AnalysisOutput {
  MotionResult motion;
  bool detector_ran = false;
  std::vector<Detection> detections;  // this frame's objects (whole-frame coordinates), empty without a run
  // With detect.objects.recheck_s: the confirmed tracks whose motion this frame was not sent to the detector
  // (it lay in their predicted boxes) and that no crop of the detector covered either, at that predicted box
  // with their label and latest score. What the camera believes is there without looking; `matthan eval`
  // scores these boxes beside `detections`.
  std::vector<Detection> tracked;
  // What the frame cost, for /metrics: the motion detector's call, and the object detector's call (all of
  // this frame's crops) when detector_ran.
  double motion_seconds = 0;
  double detector_seconds = 0;
  std::size_t detector_crops = 0;  // the crops of that call (one network input each)
  std::vector<IncidentChange> events;
  // Open incidents for which this frame is the best so far: snapshot them from it.
  std::vector<Incident> best_frame;
};

class CameraAnalysis {
 public:
  // Builds the camera's detectors. A configured model that cannot be loaded is an error naming the file.
  static Result<std::unique_ptr<CameraAnalysis>> create(const AnalysisSettings& camera);
  // The same with the object detector given (a camera with detect.objects; tests pass a fake one).
  // With `detector` null the camera runs motion incidents only, whatever its config says.
  static Result<std::unique_ptr<CameraAnalysis>> create(const AnalysisSettings& camera,
                                                        std::unique_ptr<ObjectDetector> detector);

  AnalysisOutput process(const Frame& frame);
  // Ends every open incident (shutdown, stream lost).
  std::vector<Incident> close(MediaTimeNs pts, WallTime wall, const std::string& reason);

  // "motion only", or the object detector in use: for the start-up log.
  std::string describe() const;
  bool objects_enabled() const { return detector_ != nullptr; }
  // True when the camera has rules: it raises zone_enter / line_cross / loiter instead of `object`.
  bool rules_enabled() const { return rule_incidents_ != nullptr; }
  const MotionDetector& motion() const { return motion_; }
  // Global changes (lights, IR switch, exposure) vetoed so far: for the camera's health.
  std::uint64_t global_changes() const { return motion_.global_changes(); }
  // Frames the still-frame gate let skip the motion model (motion.still_level): for the camera's health.
  std::uint64_t still_skipped() const { return motion_.still_skipped(); }
  const ObjectDetector* detector() const { return detector_.get(); }
  // How many times the camera's own picture size changed under the analysis (each restarted its models).
  std::uint64_t stream_size_changes() const { return size_watch_.changes(); }

 private:
  CameraAnalysis(const AnalysisSettings& camera, std::unique_ptr<ObjectDetector> detector, TimeZone time_zone);
  void process_motion_incidents(const Frame& frame, AnalysisOutput& out);
  void process_objects(const Frame& frame, AnalysisOutput& out);
  std::vector<TrackObservation> track_observations(MediaTimeNs pts) const;
  // The motion boxes the detector must look at: with detect.objects.recheck_s, those not already explained
  // by a confirmed track it saw less than recheck_s ago; and the tracks (id, predicted box) that explained
  // the others.
  struct DetectionBudget {
    std::vector<Box> to_detect;
    std::vector<std::pair<std::int64_t, Box>> explaining;
  };
  DetectionBudget boxes_to_detect(const std::vector<Box>& motion, MediaTimeNs pts) const;
  // The explaining tracks the detector neither saw on this frame nor looked for (none of the crops it ran on,
  // `looked_at`, covers them), as `AnalysisOutput::tracked` boxes.
  std::vector<Detection> tracked_boxes(const std::vector<std::pair<std::int64_t, Box>>& explaining,
                                       const std::vector<Box>& looked_at, MediaTimeNs pts) const;

  CameraId camera_;
  MotionDetector motion_;
  IncidentManager motion_incidents_;
  std::unique_ptr<MotionGate> motion_gate_;                    // null: gate disabled
  std::deque<std::pair<MediaTimeNs, WallTime>> recent_walls_;  // analysed frames' pts and wall, last 3 s
  std::unique_ptr<ObjectDetector> detector_;
  CropPlan crop_plan_;
  double recheck_s_ = 0;  // detect.objects.recheck_s
  Tracker tracker_;
  std::unique_ptr<ObjectIncidentManager> object_incidents_;
  // Rules (docs/config.md "Rules"): the camera's zones name where each object is; with rules configured,
  // the rule incidents replace the `object` ones. Schedules run on the frame's wall time in `time_zone_`.
  RuleEngine zone_map_;
  std::unique_ptr<RuleIncidentManager> rule_incidents_;
  TimeZone time_zone_;
  MediaTimeNs last_pts_ = 0;
  StreamSizeWatch size_watch_;
};

}  // namespace matthan
