// Memory of still objects whose incident ended (a parked car, a person sitting): a later track of the
// same label, also still and overlapping one by `iou`, is that object seen again and raises nothing.
// Shared by object and rule incidents. Pure logic, one per camera.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "matthan/core/types.hpp"

namespace matthan {

class ParkedObjects {
 public:
  // `memory_s`: how long an object is remembered after it was last seen (renewed each time it is seen
  // again); `iou`: overlap that makes two sightings the same object; `still_speed`: frame fractions per
  // second below which an object counts as still.
  ParkedObjects(double memory_s, double iou, double still_speed)
      : memory_(static_cast<MediaTimeNs>(std::llround(memory_s * kNsPerSecond))),
        iou_(iou),
        still_speed_(still_speed) {}

  bool still(double speed) const { return speed <= still_speed_; }

  // An incident of a still object ended: remember where it stands.
  void remember(const std::string& label, const Box& box, MediaTimeNs last_seen) {
    parked_.push_back(Parked{label, box, last_seen + memory_});
  }

  // Is this still sighting a remembered object? Renews the memory when it is; forgets expired ones.
  bool seen_again(const std::string& label, const Box& box, double speed, MediaTimeNs pts) {
    std::erase_if(parked_, [&](const Parked& p) { return p.until < pts; });
    if (!still(speed)) return false;
    for (auto& p : parked_) {
      if (p.label != label || iou(p.box, box) < iou_) continue;
      p.until = pts + memory_;  // still there: remember it longer
      return true;
    }
    return false;
  }

 private:
  struct Parked {
    std::string label;
    Box box;
    MediaTimeNs until = 0;
  };
  MediaTimeNs memory_;
  double iou_;
  double still_speed_;
  std::vector<Parked> parked_;
};

}  // namespace matthan
