// What /metrics shows: a plain snapshot of the node and its cameras (filled by the Engine), and its
// Prometheus text. The renderer is a pure function, so unit tests drive it with plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "matthan/core/metrics.hpp"

namespace matthan {

struct CameraMetrics {
  std::string id, name;
  std::string state;  // connecting | streaming | stalled | backoff | stopped
  // Counters since the engine started (monotonic).
  std::uint64_t packets = 0, frames_decoded = 0, frames_analysed = 0, frames_dropped = 0;
  std::uint64_t reconnects = 0, decode_errors = 0, stalls = 0;
  std::uint64_t untimed_packets = 0;  // dropped: no time, ahead of the stream's first timed unit
  std::uint64_t global_changes = 0;   // lighting changes the motion veto absorbed (no incident raised)
  std::map<std::string, std::uint64_t> incidents_by_kind;  // incidents started, by kind
  // Object detector calls on this camera's frames and the crops they looked at; none without detect.objects.
  std::optional<std::uint64_t> object_calls, object_crops;
  // Gauges.
  double fps_in = 0;                          // video packets (the camera's own frames) per second, recent
  double fps_analysed = 0;                    // frames analysed per second, recent
  std::optional<double> last_frame_age_s;     // none before the first decoded frame
  std::optional<double> keyframe_interval_s;  // none until two keyframes were seen
  int open_incidents = 0;
};

struct DetectorMetrics {
  std::string detector;  // "motion"; an object detector reports as its own kind
  Histogram::Snapshot latency_s;
  std::optional<std::uint64_t> crops;  // regions its calls looked at (the object detector); none for motion
};

struct NodeMetrics {
  std::string node, version;
  double uptime_s = 0;
  // This process (the standard process_* names).
  double cpu_seconds = 0;
  std::uint64_t rss_bytes = 0;
  int threads = 0, open_fds = 0;
  int analysis_workers = 0;
  std::vector<DetectorMetrics> detectors;
  // ZeroMQ publisher.
  std::uint64_t events_sent = 0, events_dropped = 0;
  // Storage.
  std::uint64_t clip_bytes = 0;             // bytes of clips kept
  std::optional<std::uint64_t> free_bytes;  // on the storage filesystem; none when it cannot be read
  bool storage_full = false;
  std::uint64_t clips_written = 0, clip_write_errors = 0, clips_refused = 0, retention_deleted_clips = 0;
};

struct MetricsSnapshot {
  NodeMetrics node;
  std::vector<CameraMetrics> cameras;
};

// The camera states one-hot in matthan_camera_state, in this order.
inline constexpr const char* kCameraStates[] = {"connecting", "streaming", "stalled", "backoff", "stopped"};

// Prometheus text exposition (version 0.0.4): HELP and TYPE for every family, escaped label values.
std::string render_metrics(const MetricsSnapshot& snapshot);

// Implemented by the Engine; called on a server thread for every scrape.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual MetricsSnapshot metrics() const = 0;
};

}  // namespace matthan
