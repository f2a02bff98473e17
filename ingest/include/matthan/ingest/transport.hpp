#pragma once
// The RTSP lower transport, shared by the camera source and the probe (one connection logic).
#include <string_view>

namespace matthan {

// kAuto (the engine's default) tries interleaved TCP first and falls back to UDP when the server refuses TCP
// (461) or sends nothing over it; real cameras and servers often offer only one of the two.
enum class RtspTransport { kAuto, kTcp, kUdp };

// "auto", "tcp" or "udp": also the value rtspsrc's `protocols` property takes for kTcp and kUdp.
constexpr std::string_view to_string(RtspTransport transport) {
  switch (transport) {
    case RtspTransport::kTcp:
      return "tcp";
    case RtspTransport::kUdp:
      return "udp";
    case RtspTransport::kAuto:
      break;
  }
  return "auto";
}

}  // namespace matthan
