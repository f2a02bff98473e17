// The /metrics text: one family after another, node figures first, then every camera (docs/operations.md).
#include "matthan/review/metrics.hpp"

#include <functional>

namespace matthan {
namespace {

using CameraValue = std::function<std::optional<double>(const CameraMetrics&)>;

double as_double(std::uint64_t v) {
  return static_cast<double>(v);
}
std::optional<double> as_double(const std::optional<std::uint64_t>& v) {
  return v ? std::optional(as_double(*v)) : std::nullopt;
}

// A family with one sample per camera, labelled camera="<id>"; cameras without a value are left out.
void per_camera(ExpositionWriter& w, const MetricsSnapshot& s, const char* name, MetricType type, const char* help,
                const CameraValue& value) {
  w.family(name, type, help);
  for (const auto& c : s.cameras)
    if (auto v = value(c)) w.sample({{"camera", c.id}}, *v);
}

void render_node(ExpositionWriter& w, const NodeMetrics& n) {
  w.family("matthan_info", MetricType::kGauge, "Always 1; the node name and software version as labels.");
  w.sample({{"node", n.node}, {"version", n.version}}, 1);
  w.family("matthan_uptime_seconds", MetricType::kGauge, "Seconds since the engine started.");
  w.sample({}, n.uptime_s);
  w.family("process_cpu_seconds_total", MetricType::kCounter, "User and system CPU time of this process, in seconds.");
  w.sample({}, n.cpu_seconds);
  w.family("process_resident_memory_bytes", MetricType::kGauge, "Resident memory of this process.");
  w.sample({}, as_double(n.rss_bytes));
  w.family("process_threads", MetricType::kGauge, "Threads of this process.");
  w.sample({}, n.threads);
  w.family("process_open_fds", MetricType::kGauge, "Open file descriptors of this process.");
  w.sample({}, n.open_fds);
  w.family("matthan_analysis_workers", MetricType::kGauge, "Analysis worker threads.");
  w.sample({}, n.analysis_workers);

  w.family("matthan_detector_calls_total", MetricType::kCounter,
           "Detector calls (one per analysed frame and detector).");
  for (const auto& d : n.detectors) w.sample({{"detector", d.detector}}, as_double(d.latency_s.count));
  w.family("matthan_detector_latency_seconds", MetricType::kHistogram, "Duration of one detector call.");
  for (const auto& d : n.detectors) w.histogram({{"detector", d.detector}}, d.latency_s);
  w.family("matthan_detector_crops_total", MetricType::kCounter,
           "Regions the detector's calls looked at (object detector: one network input each).");
  for (const auto& d : n.detectors)
    if (d.crops) w.sample({{"detector", d.detector}}, as_double(*d.crops));

  w.family("matthan_events_published_total", MetricType::kCounter, "Messages sent on the ZeroMQ PUB socket.");
  w.sample({}, as_double(n.events_sent));
  w.family("matthan_events_dropped_total", MetricType::kCounter,
           "Messages dropped before ZeroMQ sent them (queue full or send failure).");
  w.sample({}, as_double(n.events_dropped));

  w.family("matthan_storage_clip_bytes", MetricType::kGauge, "Bytes of clips kept under storage.root.");
  w.sample({}, as_double(n.clip_bytes));
  w.family("matthan_storage_free_bytes", MetricType::kGauge, "Bytes available on the filesystem of storage.root.");
  if (n.free_bytes) w.sample({}, as_double(*n.free_bytes));
  w.family("matthan_storage_full", MetricType::kGauge,
           "1 while new clips are refused: under storage.min_free_bytes with nothing left to delete.");
  w.sample({}, n.storage_full ? 1 : 0);
  w.family("matthan_storage_clips_written_total", MetricType::kCounter, "Clips finished and recorded.");
  w.sample({}, as_double(n.clips_written));
  w.family("matthan_storage_clip_write_errors_total", MetricType::kCounter, "Clips that failed to write.");
  w.sample({}, as_double(n.clip_write_errors));
  w.family("matthan_storage_clips_refused_total", MetricType::kCounter, "Clips refused because storage was full.");
  w.sample({}, as_double(n.clips_refused));
  w.family("matthan_storage_retention_deleted_clips_total", MetricType::kCounter, "Clips deleted by retention.");
  w.sample({}, as_double(n.retention_deleted_clips));
}

void render_cameras(ExpositionWriter& w, const MetricsSnapshot& s) {
  w.family("matthan_camera_info", MetricType::kGauge, "Always 1; the camera's name as a label.");
  for (const auto& c : s.cameras) w.sample({{"camera", c.id}, {"name", c.name}}, 1);
  per_camera(w, s, "matthan_camera_up", MetricType::kGauge, "1 while the camera is streaming, else 0.",
             [](const CameraMetrics& c) { return c.state == "streaming" ? 1.0 : 0.0; });
  w.family("matthan_camera_state", MetricType::kGauge, "The camera's state, one-hot: 1 for the current state.");
  for (const auto& c : s.cameras)
    for (const char* state : kCameraStates) w.sample({{"camera", c.id}, {"state", state}}, c.state == state ? 1 : 0);

  const auto counter = [&](const char* name, const char* help, std::uint64_t CameraMetrics::*field) {
    per_camera(w, s, name, MetricType::kCounter, help, [field](const CameraMetrics& c) { return as_double(c.*field); });
  };
  counter("matthan_camera_packets_total", "Encoded video packets received (what recording uses).",
          &CameraMetrics::packets);
  counter("matthan_camera_frames_decoded_total", "Frames decoded for analysis (after the detect.fps reduction).",
          &CameraMetrics::frames_decoded);
  counter("matthan_camera_frames_analysed_total", "Frames the analysis workers processed.",
          &CameraMetrics::frames_analysed);
  counter("matthan_camera_frames_dropped_total", "Frames dropped because analysis was behind.",
          &CameraMetrics::frames_dropped);
  counter("matthan_camera_reconnects_total", "Connection attempts after the first.", &CameraMetrics::reconnects);
  counter("matthan_camera_decode_errors_total", "Access units the decoder concealed or could not decode.",
          &CameraMetrics::decode_errors);
  counter("matthan_camera_untimed_packets_total",
          "Access units dropped because they had no timestamp ahead of the stream's first timed one.",
          &CameraMetrics::untimed_packets);
  counter("matthan_camera_stalls_total", "Times the stall watchdog tripped.", &CameraMetrics::stalls);
  counter("matthan_camera_global_changes_total",
          "Global changes (lights, IR switch, exposure) the motion veto absorbed without an incident.",
          &CameraMetrics::global_changes);

  per_camera(w, s, "matthan_camera_object_calls_total", MetricType::kCounter,
             "Object detector calls on this camera's frames (one per frame it ran on).",
             [](const CameraMetrics& c) { return as_double(c.object_calls); });
  per_camera(w, s, "matthan_camera_object_crops_total", MetricType::kCounter,
             "Crops of this camera's frames sent to the object detector (one network input each).",
             [](const CameraMetrics& c) { return as_double(c.object_crops); });

  w.family("matthan_camera_incidents_total", MetricType::kCounter, "Incidents started, by kind.");
  for (const auto& c : s.cameras)
    for (const auto& [kind, n] : c.incidents_by_kind) w.sample({{"camera", c.id}, {"kind", kind}}, as_double(n));
  per_camera(w, s, "matthan_camera_open_incidents", MetricType::kGauge, "Incidents open now.",
             [](const CameraMetrics& c) { return static_cast<double>(c.open_incidents); });

  per_camera(w, s, "matthan_camera_fps_in", MetricType::kGauge,
             "Video packets (the camera's own frames) per second, over the last few seconds.",
             [](const CameraMetrics& c) { return c.fps_in; });
  per_camera(w, s, "matthan_camera_fps_analysed", MetricType::kGauge,
             "Frames analysed per second, over the last few seconds.",
             [](const CameraMetrics& c) { return c.fps_analysed; });
  per_camera(w, s, "matthan_camera_last_frame_age_seconds", MetricType::kGauge,
             "Seconds since the last decoded frame (absent before the first).",
             [](const CameraMetrics& c) { return c.last_frame_age_s; });
  per_camera(w, s, "matthan_camera_keyframe_interval_seconds", MetricType::kGauge,
             "Longest interval between keyframes in the packet ring (absent until two keyframes were seen).",
             [](const CameraMetrics& c) { return c.keyframe_interval_s; });
}

}  // namespace

std::string render_metrics(const MetricsSnapshot& snapshot) {
  ExpositionWriter w;
  render_node(w, snapshot.node);
  render_cameras(w, snapshot);
  return w.text();
}

}  // namespace matthan
