// StreamSizeWatch: notices a camera's picture size changing mid-stream, so the analysis can restart its models.
#pragma once

#include <cstdint>

#include "matthan/core/types.hpp"

namespace matthan {

// Notices when the camera's own picture size (Frame::source_width/height) changes: a reconfigured camera.
// What the models learnt of the old picture says nothing about the new one, even when the analysis size
// stays the same (the detect size scales both), so the caller restarts them. Pure: frames in, a flag out.
class StreamSizeWatch {
 public:
  // True when this frame's source size differs from the last known one (an unknown size, 0, never counts).
  bool changed(const Frame& frame) {
    if (frame.source_width <= 0 || frame.source_height <= 0) return false;
    const bool differs = width_ > 0 && (frame.source_width != width_ || frame.source_height != height_);
    width_ = frame.source_width;
    height_ = frame.source_height;
    if (differs) ++changes_;
    return differs;
  }
  std::uint64_t changes() const { return changes_; }

 private:
  int width_ = 0, height_ = 0;
  std::uint64_t changes_ = 0;
};

}  // namespace matthan
