// ClipDecoder: decodes a video file frame by frame (libavformat + libavcodec) into engine Frames, for
// `matthan eval` (OpenCV's videoio is not part of our build).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

// How a decoded frame's pts is set.
enum class ClipTiming {
  kFrameIndex,  // index / fps: frame i is exactly i / fps seconds (ground-truth alignment in `eval`)
  kStream,      // the stream's own timestamps from its first frame (variable-rate phone video, `scan`)
};

class ClipDecoder {
 public:
  static Result<std::unique_ptr<ClipDecoder>> open(const std::filesystem::path& path,
                                                   ClipTiming timing = ClipTiming::kFrameIndex);
  ~ClipDecoder();
  ClipDecoder(const ClipDecoder&) = delete;
  ClipDecoder& operator=(const ClipDecoder&) = delete;

  // The next frame in decode order: I420 (GRAY8 for other pixel formats: luma only), pts in ns from the
  // frame index and the clip's frame rate, so frame i is exactly i / fps seconds. nullopt at the end.
  std::optional<Frame> next();
  double fps() const;
  // Whether the frame next() returned last was a keyframe (an intra picture).
  bool keyframe() const;
  int width() const;
  int height() const;
  // Frames the container says it holds, or duration x fps; 0 when neither is known.
  std::int64_t estimated_frames() const;
  // The container's creation_time tag (phones and most DVR exports write it), if present and sane.
  std::optional<WallTime> creation_time() const;
  // Frames get this camera id and wall time = `start` + pts (default: the Unix epoch + 56 years + pts).
  void set_camera(CameraId camera);
  void set_start(WallTime start);

 private:
  struct Impl;
  explicit ClipDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
