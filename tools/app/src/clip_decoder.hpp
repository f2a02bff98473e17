// ClipDecoder: decodes a video file frame by frame (libavformat + libavcodec) into engine Frames, for
// `matthan eval` (OpenCV's videoio is not part of our build).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

class ClipDecoder {
 public:
  static Result<std::unique_ptr<ClipDecoder>> open(const std::filesystem::path& path);
  ~ClipDecoder();
  ClipDecoder(const ClipDecoder&) = delete;
  ClipDecoder& operator=(const ClipDecoder&) = delete;

  // The next frame in decode order: I420 (GRAY8 for other pixel formats: luma only), pts in ns from the
  // frame index and the clip's frame rate, so frame i is exactly i / fps seconds. nullopt at the end.
  std::optional<Frame> next();
  double fps() const;
  int width() const;
  int height() const;

 private:
  struct Impl;
  explicit ClipDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
