// Health on the wire: `health.<camera>` on every supervisor state change and a periodic `heartbeat`
// (schemas/health.schema.json, schemas/heartbeat.schema.json), plus the process figures the heartbeat
// carries.
#pragma once

#include <cstdint>
#include <string>

#include "matthan/core/types.hpp"
#include "matthan/ingest/supervisor.hpp"

namespace matthan {

inline constexpr const char* kHealthSchemaId = "matthan.health/1";
inline constexpr const char* kHeartbeatSchemaId = "matthan.heartbeat/1";

// The engine's own per-camera counts, next to the supervisor's.
struct AnalysisCounters {
  std::uint64_t analysed = 0;
  std::uint64_t dropped = 0;
};

std::string health_topic(const CameraId& camera);  // "health.<camera>"

// stream: "record" (the camera's url) or "detect" (its detect_url); "record" is left out of the JSON.
std::string health_event_json(const CameraId& camera, const CameraHealth& health, const AnalysisCounters& analysis,
                              std::uint64_t seq, const std::string& node, const std::string& stream = "record");

struct HeartbeatFigures {
  double uptime_s = 0;
  int cameras = 0, streaming = 0, stalled = 0, offline = 0, open_incidents = 0;
  int analysis_workers = 1;
  std::uint64_t frames_analysed = 0, frames_dropped = 0;
  std::uint64_t rss_bytes = 0;
  int threads = 0, open_fds = 0;
};

std::string heartbeat_event_json(const HeartbeatFigures& figures, std::uint64_t seq, const std::string& node,
                                 WallTime at);

// This process's CPU time, resident memory, thread count and open file descriptors (from /proc/self; 0 when
// unknown).
struct ProcessFigures {
  double cpu_seconds = 0;  // user + system
  std::uint64_t rss_bytes = 0;
  int threads = 0;
  int open_fds = 0;
};
ProcessFigures read_process_figures();

}  // namespace matthan
