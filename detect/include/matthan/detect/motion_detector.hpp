// Motion detection on the luma plane of small analysis frames: background subtraction, masks, boxes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "matthan/core/types.hpp"

namespace matthan {

using Point2 = std::array<double, 2>;  // normalised 0..1, {x, y}
using Polygon = std::vector<Point2>;

struct MotionConfig {
  double min_area = 0.002;     // smallest box kept, as a fraction of the frame area
  std::vector<Polygon> masks;  // ignore motion inside these polygons (normalised; fewer than 3 points: ignored)
  int analysis_width = 320;    // the picture is downscaled (INTER_AREA) to this width if wider
  // Model colour when the frame has chroma (I420): the planes are scaled to the analysis size and converted
  // to BGR there. Luma alone misses objects whose brightness matches the background but whose colour does
  // not (a grey car on grey asphalt, a dark coat on a dark floor): on the shared clips luma-only KNN
  // recalled 0.47-0.67 of the ground-truth pixels, colour 0.84-0.96 (bench/journal/2026-11-29-colour-motion-model.md;
  // the mask rows of bench/detect/accuracy.sh and test EvalAccuracy keep it). GRAY8 frames are
  // always modelled on luma. In colour the analysis size is kept even (I420 needs it).
  bool use_color = true;
  int warmup_frames = 10;  // frames used to learn the background before any motion is reported
  // The first frame of a fresh model (a start, a size change, a vetoed global change) is learnt this many
  // more times. KNN needs about ten frames to fill its samples; at keyframe rates (one frame every 2 s) ten
  // real frames take 20 s, and until then most of the picture reads as foreground and trips the global-change
  // veto again and again. 0 (the default at full rates) learns from real frames only.
  int prime_repeats = 0;

  // Background model: KNN, OpenCV's algorithm and decisions in our own code (detect/src/knn_background.hpp).
  // history: frames the model remembers; a larger value adapts more slowly to lighting changes but keeps slow
  // walkers as foreground longer.
  int history = 500;
  // Squared distance between a pixel and its background samples above which it is foreground.
  // ~200 keeps sensor noise and compression shimmer in the background on 8-bit luma.
  double dist2_threshold = 200.0;
  // KNN marks shadows separately (grey 127); we always count them as background, and this flag only
  // decides whether the model spends time looking for them (it makes shadows less likely to be foreground).
  bool detect_shadows = true;
  // Median blur removes speckle; closing joins the pieces of one object (a walker's legs and body).
  // Both sizes are given for a frame `kernel_reference_width` wide and scaled to the analysis width
  // (kept odd, at least 1), so changing analysis_width does not change what counts as one object.
  int median_kernel = 5;
  int close_kernel = 11;
  int kernel_reference_width = 320;  // the reference's sizes (bench/journal/2026-11-29-colour-motion-model.md)
  // Two boxes are merged when their intersection covers this fraction of the smaller one.
  double merge_overlap = 0.5;

  // Global-change veto. When at least `veto_fraction` of the frame turns foreground at once (before
  // morphology) while the scene's brightness-normalised structure has changed in less than `veto_structure`
  // of its grid cells against the background (the same comparison tamper detection uses), only the light
  // changed (lights switched, the IR day/night switch, auto-exposure, headlights): the frame gives no motion
  // and the background is learnt afresh (a new warm-up). veto_fraction 1 (or more) disables the veto.
  double veto_fraction = 0.5;
  double veto_structure = 0.3;

  // Still-frame gate. Before the colour conversion and the model update, an 80-wide INTER_AREA thumbnail of
  // the planes (luma, and chroma in colour: one cell per 16x16 block of a 1280-wide picture) is compared with
  // the thumbnail of the last fully processed frame. When that frame's cleaned mask was empty and no cell
  // differs by more than `still_level` (0..255 levels) in any plane, the frame is skipped: no conversion, no
  // KNN update, no morphology; its result is the empty one and last_mask() stays the empty mask. Comparing
  // with the last *processed* frame lets slow drift add up until it is processed, and a frame is processed
  // at least every `still_refresh_s` of media time (and after 50 skips in a row) so the model keeps following
  // the light. 0 disables the gate.
  double still_level = 3.0;
  double still_refresh_s = 2.0;
};

struct MotionResult {
  bool motion = false;
  std::vector<Box> boxes;          // normalised 0..1, largest first
  double foreground_fraction = 0;  // foreground pixels outside masks / all pixels, after morphology
  // 0..1: the share of the largest box's pixels that are foreground. A solid moving object fills
  // most of its box; scattered noise (foliage, rain) that closing happened to join fills little of it.
  double score = 0;
  bool global_change = false;  // this frame was vetoed as a global change (then motion is false)
};

class MotionDetector {
 public:
  explicit MotionDetector(MotionConfig config);
  ~MotionDetector();
  MotionDetector(MotionDetector&&) noexcept;
  MotionDetector& operator=(MotionDetector&&) noexcept;
  MotionDetector(const MotionDetector&) = delete;
  MotionDetector& operator=(const MotionDetector&) = delete;

  // Uses the luma plane (plane[0]/stride[0]) and, with use_color on an I420 frame, the chroma planes; the
  // frame is only read. Never throws: an OpenCV
  // error gives an empty result (logged once). A change of frame size restarts the warm-up.
  MotionResult process(const Frame& frame);
  // Forgets the background (e.g. after a reconnect or a camera move); the warm-up starts again.
  void reset();
  // The cleaned foreground mask (0 / 255) of the last processed frame at the analysis size, row-major
  // and tightly packed; empty during warm-up. For evaluation against ground-truth masks.
  std::vector<std::uint8_t> last_mask(int& width, int& height) const;

  const MotionConfig& config() const;
  // How much of the last frame inside `region` (normalised, as the boxes, plus a small margin) is the
  // background model's picture times one common gain: the share of pixels within 15 % of the median
  // brightness ratio, 0..1. Near 1 when only the light changed on an unchanged surface (a lamp warming up,
  // daylight creeping across a wall); low where something stands in front of the background (measured on
  // Wallflower TimeOfDay: 0.82-1.0 for the lighting ramp, 0.07-0.47 for the person). 1 when there is no
  // picture to compare (warm-up). The background image is fetched on demand, once per frame.
  double background_match(const Box& region) const;
  // Frames vetoed as global changes since construction (each one also restarted the warm-up).
  std::uint64_t global_changes() const;
  // Frames the still-frame gate skipped since construction (still_level).
  std::uint64_t still_skipped() const;
  // While held, the still-frame gate skips nothing: every frame is processed. The camera holds it while an
  // incident is open, so the small moves of a person sitting still keep reaching the model and the incident.
  void hold_still_gate(bool hold);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
