// Object detection on the parts of analysis frames that moved: the ObjectDetector interface, its two
// implementations (cv::dnn Darknet model, OpenCV's HOG people detector) and the crop planning that
// decides which parts of a frame are worth a forward call.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

// One object found in a frame. The label is ours (see docs/events.md: person, bicycle, car, motorbike,
// bus, truck, ... as named in the model's names file).
struct Detection {
  std::string label;
  double score = 0;  // 0..1
  Box box;           // normalised 0..1 of the whole frame (not of the crop)
};

// A region of one frame to look at. The frame must outlive the detect() call.
struct CropRequest {
  const Frame* frame = nullptr;
  Box region;  // normalised 0..1 of the frame
};

// Implementations are not thread-safe: one instance per analysis thread or camera, or a caller-side lock.
class ObjectDetector {
 public:
  virtual ~ObjectDetector() = default;

  // Human-readable description for start-up logs, e.g. "dnn yolo-fastest-1.1.weights @320".
  virtual std::string describe() const = 0;
  // The side, in pixels, the detector wants to see an object region at (model input; HOG window height).
  virtual int input_size() const = 0;
  // One result list per request, in order. Crops may come from several frames and cameras: a detector
  // that can batch sends them in one forward call. Never throws; an internal error gives empty lists.
  virtual std::vector<std::vector<Detection>> detect(std::span<const CropRequest> crops) = 0;

  // How many forward calls (network runs, or HOG scans) were made, and on how many crops.
  std::uint64_t forward_calls() const { return forward_calls_; }
  std::uint64_t crops_seen() const { return crops_seen_; }

 protected:
  std::uint64_t forward_calls_ = 0;
  std::uint64_t crops_seen_ = 0;
};

struct DnnModelConfig {
  std::filesystem::path cfg;      // Darknet .cfg
  std::filesystem::path weights;  // Darknet .weights
  std::filesystem::path names;    // one class name a line; empty: COCO's 80 darknet names
  int input = 320;                // network input side (multiple of 32)
  double nms_iou = 0.45;
  // Per-label score floors; "default" applies to labels not listed. Labels outside `labels` are dropped.
  std::map<std::string, double> min_score{{"default", 0.25}};
  std::vector<std::string> labels;  // wanted labels; empty: every label of the model
  int max_batch = 8;                // crops per forward call
};

// Loads the model. Errors name the file that is missing or that cv::dnn refused. Detectors of one model (same
// cfg, weights and input) share its networks: a forward call borrows one, so a node holds about one network per
// call running at once (its analysis workers), not one per camera. Safe to call detect() on different detectors of
// one model from different threads; one detector is used by one thread at a time.
Result<std::unique_ptr<ObjectDetector>> make_dnn_detector(const DnnModelConfig& config);
// How many networks every DNN detector of this process holds now, in use or idle (health, tests).
std::size_t dnn_networks_in_memory();

struct HogConfig {
  double min_score = 0.5;  // SVM margin mapped to 0..1 (see hog_detector.cpp)
  // Crops are scaled so their height is at least this many pixels before the 64x128 window scan; people
  // in a 360-line analysis frame are often under 128 px tall.
  int min_scan_height = 256;
};
// OpenCV's built-in HOG + linear SVM people detector; reports label "person" only. Works on luma alone.
std::unique_ptr<ObjectDetector> make_hog_detector(const HogConfig& config = {});

// ---- crop planning (pure geometry; unit tested) ----
struct CropPlan {
  double margin = 0.25;  // each motion box grows by this share of its size on every side
  // A crop is at least this many frame pixels on each side (clamped to the frame): the detector's input
  // size, so small objects are not shrunk further; smaller values zoom in on small objects.
  int min_side = 320;
  // When the crops together cover at least this share of the frame, the whole frame is used instead.
  double whole_frame_fraction = 0.6;
  // The detector's input side (every crop is stretched to input x input); 0: min_side.
  int input = 0;
  // One pass instead of several: two crops become one, the square around both, while every motion box in it
  // still spans at least this many input pixels (geometric mean of its width and height on the input).
  // Each crop costs a whole forward pass, so n crops joined cost one. 0: crops are never joined.
  double one_pass_min_px = 0;
};

// One region the detector looks at, and the crops it stands for: one_pass_min_px joins several crops into
// one pass, which also sees what lies between them; the pass's detections count only where one of its
// crops was (mostly inside one of `crops`), so it finds what the separate crops would have, at less cost.
struct CropPass {
  Box region;
  std::vector<Box> crops;  // {region} when nothing was joined
};

// Turns one frame's motion boxes (normalised) into the regions (normalised) to run the detector on:
// grown by the margin, squared up to at least min_side, shifted inside the frame, overlapping crops
// merged, then (one_pass_min_px) crops joined while their motion boxes stay resolved. Empty when there are
// no boxes: no motion, no forward call.
std::vector<CropPass> plan_crop_passes(const std::vector<Box>& motion_boxes, int frame_width, int frame_height,
                                       const CropPlan& plan);
// The regions of plan_crop_passes.
std::vector<Box> plan_crops(const std::vector<Box>& motion_boxes, int frame_width, int frame_height,
                            const CropPlan& plan);
// Whether a detection of that pass lies where one of its crops was (at least half of its box inside one);
// always true for a pass that joined nothing.
bool within_crops(const CropPass& pass, const Box& detection);

// Class-aware non-maximum suppression of detections (in any common coordinates): within one label a box
// overlapping a better one by more than `iou` goes. Also used to merge detections of overlapping crops.
std::vector<Detection> suppress_duplicates(std::vector<Detection> detections, double iou);

}  // namespace matthan
