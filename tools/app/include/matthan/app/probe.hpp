// `matthan probe`: what a camera sends, whether clips from it will start on time, and a config block for it.
#pragma once

#include <stop_token>
#include <string>
#include <vector>

#include "matthan/ingest/stream_probe.hpp"

namespace matthan {

struct ProbeRequest {
  std::string url;      // may hold credentials: printed only masked
  double seconds = 10;  // how long to measure after the first keyframe
  double pre_roll = 5;  // the clip pre-roll the camera's keyframe interval is judged against
  double timeout = 20;  // connecting and waiting for the first keyframe
};

struct TransportCheck {
  std::string name;  // "tcp", "udp"
  bool ok = false;
  double time_to_first_frame_s = -1;
  std::string error;  // credential-free
};

struct ProbeReport {
  std::string url;  // masked
  ProbeFailure failure = ProbeFailure::kNone;
  std::string reason;
  double connect_ms = -1;  // plain TCP connect to the camera's RTSP port
  StreamMeasurement stream;
  std::vector<TransportCheck> transports;
  double pre_roll = 5;
  bool clips_on_time = false;
  std::vector<std::string> warnings;
  std::string suggested_config;  // YAML, password masked; empty on failure
  bool ok() const { return failure == ProbeFailure::kNone; }
};

// Connects the way the engine would (rtspsrc, its default transport order), measures, then checks TCP and
// UDP one by one. Blocks for about seconds + a few seconds per transport; at most about 3 x timeout.
ProbeReport probe_camera(const ProbeRequest& request, std::stop_token stop = {});

std::string format_probe_text(const ProbeReport& report);
std::string format_probe_json(const ProbeReport& report);  // one JSON object, one line

// A `cameras:` block (itself a valid config file once the password is filled in).
std::string suggested_camera_yaml(const std::string& url, const StreamMeasurement& stream, double pre_roll);

}  // namespace matthan
