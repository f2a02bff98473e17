// The persistence gate between the motion mask and motion incidents: swaying foliage, rain and flickering
// screens move in place, real objects persist and travel. The mask stays sharp; this decides what counts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "matthan/core/types.hpp"

namespace matthan {

struct MotionGateConfig {
  bool enabled = true;  // false: every frame with motion counts (the mask's boxes, as before the gate)
  // Activity map: per pixel, the share of recent time it was foreground (exponential, this time constant).
  // Foreground where the map is at or above `nuisance_level` is habitual (trees, a flickering screen) and
  // does not count; the rest is "novel" foreground.
  double activity_s = 10;
  double nuisance_level = 0.4;
  // A large region (≥ solid_area) whose fill exceeds the mean activity of its box by this much is a
  // candidate even where foreground is habitual: someone walking in front of the trees.
  double dense_excess = 0.4;
  double learn_s = 2;       // after a start (or a size change) the map is learnt this long before anything counts
  double min_area = 0.002;  // smallest novel region, fraction of the frame
  // A novel region counts once it has been seen for persist_s AND it has travelled min_travel (its centre
  // from where it was first seen, in frame widths/heights) or it is solid (fill of its box ≥ solid_fill)
  // and large (≥ solid_area of the frame). Once it counts, it counts until it is lost.
  double persist_s = 0.4;
  // ... and has been seen in at least min_frames analysed frames (motion.start_frames: the incident's start
  // and the gate's persistence are counted in one window, not one after the other).
  int min_frames = 1;
  // A solid region (fill >= solid_fill, >= solid_area of the frame) that appeared where nothing habitually
  // moves (at most a tenth of its box is habitual foreground) and is not a change of light counts once it has
  // been seen this long instead of persist_s (and min_frames does not apply): a person or a car stepping
  // into an empty scene is confirmed on its first frame. A negative value: solid regions wait persist_s like
  // the others (the behaviour before this key).
  double solid_persist_s = 0;
  double min_travel = 0.05;
  // ... and a region counts by travel only once it is at least this big (fraction of the frame): flicker and
  // light throw off small pieces that drift, while the novel part of a person is rarely this small.
  double travel_area = 0.003;
  double solid_fill = 0.75;
  double solid_area = 0.03;
  double travel_window_s = 1;  // travel counts only within this long (the region's path is kept this far)
  double max_gap_s = 0.5;      // a region unseen this long is forgotten
  // Gradual lighting (a lamp warming up, daylight creeping over a wall) grows and drifts like a slow object,
  // but under it the surface looks as before, only brighter or darker. A region whose picture is the
  // background's times one gain in at least this share of its pixels (MotionDetector::background_match) is
  // light, not an object, and does not count while it is. 1 or more disables the check.
  double light_match = 0.7;
};

// How much of a region (normalised box) is the background times one gain, 0..1; see light_match.
using BackgroundMatch = std::function<double(const Box&)>;

struct GateResult {
  bool motion = false;  // some region counts
  Box box;              // the largest region that counts (normalised)
  double score = 0;     // its fill, 0..1
  int regions = 0;      // novel regions tracked now (counting or not)
  // When `motion`: the pts of the oldest frame in which the counting region was seen within its kept path (at
  // most travel_window_s back): where the candidate run began, which an incident is dated from.
  MediaTimeNs since = 0;
};

class MotionGate {
 public:
  explicit MotionGate(MotionGateConfig config);
  ~MotionGate();
  MotionGate(MotionGate&&) noexcept;
  MotionGate& operator=(MotionGate&&) noexcept;

  // `mask`: the motion mask (0 / non-zero), row-major, tightly packed, `width` x `height`; empty (while the
  // detector warms up or re-learns) counts nothing and forgets the regions. A new size restarts learning.
  // Frames must come in pts order.
  // `background`, when given, is asked about regions that would otherwise start to count (light_match).
  GateResult update(const std::vector<std::uint8_t>& mask, int width, int height, MediaTimeNs pts,
                    const BackgroundMatch& background = {});
  void reset();
  const MotionGateConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
