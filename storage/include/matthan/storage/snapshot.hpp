// Incident snapshots: one JPEG of the analysed frame with the detection boxes drawn on it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

struct SnapshotBox {
  Box box;            // normalised 0..1 of the frame
  std::string label;  // may be empty
};

// JPEG of `frame` (I420 or GRAY8) converted to BGR, resized to the camera's aspect ratio
// (frame.source_width/height when set), with the boxes drawn; written atomically (temp file + rename).
// Creates the parent directory.
Status write_snapshot(const Frame& frame, const std::vector<SnapshotBox>& boxes, const std::filesystem::path& path,
                      int quality = 85);

}  // namespace matthan
