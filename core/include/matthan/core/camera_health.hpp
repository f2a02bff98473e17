// A camera stream's state and counters, as its supervisor reports them: a value type the health events, the review
// page and the metrics all read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "matthan/core/types.hpp"

namespace matthan {

enum class CameraState { kConnecting, kStreaming, kStalled, kBackoff, kStopped };
std::string_view to_string(CameraState state);

struct CameraHealth {
  CameraState state = CameraState::kStopped;
  std::string reason;
  std::uint64_t packets = 0, frames = 0, reconnects = 0;
  std::uint64_t decode_errors = 0, stalls = 0;
  std::uint64_t untimed_packets = 0;  // dropped: no time, ahead of the stream's first timed unit
  double last_frame_age_s = -1;       // seconds since the last decoded frame; -1 before the first one
  double retry_in_s = -1;             // in backoff: the delay before the next attempt; -1 otherwise
  WallTime since{};                   // when the state was entered
};

}  // namespace matthan
