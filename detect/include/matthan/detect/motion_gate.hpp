// The persistence gate between the motion mask and motion incidents: swaying foliage, rain and flickering
// screens move in place, real objects persist and travel. The mask stays sharp; this decides what counts.
#pragma once

#include <cstdint>
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
  double learn_s = 2;  // after a start (or a size change) the map is learnt this long before anything counts
  double min_area = 0.002;  // smallest novel region, fraction of the frame
  // A novel region counts once it has been seen for persist_s AND it has travelled min_travel (its centre
  // from where it was first seen, in frame widths/heights) or it is solid (fill of its box ≥ solid_fill)
  // and large (≥ solid_area of the frame). Once it counts, it counts until it is lost.
  double persist_s = 0.4;
  double min_travel = 0.05;
  double solid_fill = 0.75;
  double solid_area = 0.03;
  double max_gap_s = 0.5;  // a region unseen this long is forgotten
};

struct GateResult {
  bool motion = false;  // some region counts
  Box box;              // the largest region that counts (normalised)
  double score = 0;     // its fill, 0..1
  int regions = 0;      // novel regions tracked now (counting or not)
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
  GateResult update(const std::vector<std::uint8_t>& mask, int width, int height, MediaTimeNs pts);
  void reset();
  const MotionGateConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
