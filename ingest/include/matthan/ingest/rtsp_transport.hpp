// The RTSP lower transport, shared by the camera source (gst_source.hpp) and `matthan probe` (stream_probe.hpp).
#pragma once

#include <string_view>

namespace matthan {

// kTcp / kUdp pin rtspsrc's `protocols`. kAuto means "let the caller pick": the camera source tries
// interleaved TCP first and falls back to UDP when the server refuses TCP (461) or sends nothing over it;
// the probe leaves rtspsrc's own default order (UDP, then TCP) in place.
enum class RtspTransport { kAuto, kTcp, kUdp };

// "auto", "tcp", "udp" (the config's `transport` values and rtspsrc's `protocols` names).
constexpr std::string_view to_string(RtspTransport transport) {
  switch (transport) {
    case RtspTransport::kAuto:
      return "auto";
    case RtspTransport::kTcp:
      return "tcp";
    case RtspTransport::kUdp:
      return "udp";
  }
  return "auto";
}

}  // namespace matthan
