// CameraState names, as the wire and the review page spell them.
#include "matthan/core/camera_health.hpp"

namespace matthan {

std::string_view to_string(CameraState state) {
  switch (state) {
    case CameraState::kConnecting:
      return "connecting";
    case CameraState::kStreaming:
      return "streaming";
    case CameraState::kStalled:
      return "stalled";
    case CameraState::kBackoff:
      return "backoff";
    case CameraState::kStopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace matthan
