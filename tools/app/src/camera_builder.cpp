// Everything one camera owns, built without starting it or adding it to the set: its ring, its recorder, and a
// supervisor per stream (`url`, and `detect_url` when set) whose packets go to the ring and frames to the analysis.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "engine_impl.hpp"
#include "matthan/core/url.hpp"
#include "matthan/ingest/gst_source.hpp"

namespace matthan {
namespace {

constexpr double kRingKeyframeMarginSeconds = 15.0;  // covers keyframe intervals up to this long beyond pre-roll
// Incident kinds a camera may raise: counted from zero in /metrics (matthan_camera_incidents_total{kind}).
constexpr IncidentKind kIncidentKinds[] = {IncidentKind::kMotion, IncidentKind::kObject, IncidentKind::kCameraOffline,
                                           IncidentKind::kTamper};

}  // namespace

// An attempt's timeouts before its first packet (no video at all; TCP silent under `transport: auto`)
// stretch while this node's cameras have lately been slow to connect: on a starved machine a camera that
// is up takes longer than 15 s, and failing it only starts its connect again
// (bench/journal/2026-12-07-start-up-48-cameras.md).
void Engine::Impl::stretch_connect_timeouts(SourceOptions& o) const {
  const double base_s = o.stall_timeout_ms / 1000.0;
  const double stretch = base_s > 0 ? connect_gate->first_packet_timeout_s(base_s) / base_s : 1.0;
  o.stall_timeout_ms = static_cast<int>(std::lround(o.stall_timeout_ms * stretch));
  o.auto_tcp_timeout_ms = static_cast<int>(std::lround(o.auto_tcp_timeout_ms * stretch));
}

// Builds everything a camera owns without starting it or adding it to the set.
Result<std::shared_ptr<CameraRuntime>> Engine::Impl::build_camera(const CameraConfig& c) {
  auto analysis = CameraAnalysis::create(c.analysis());
  if (!analysis.ok()) return make_error(fmt::format("camera {}: {}", c.id, analysis.error().message));
  auto rt = std::make_shared<CameraRuntime>(c, std::move(analysis.value()));
  PacketRingLimits limits;
  limits.max_seconds = c.clip.pre_roll + kRingKeyframeMarginSeconds;
  limits.max_bytes = config.ring_max_bytes;
  rt->ring = std::make_shared<PacketRing>(limits);
  ClipPolicy policy;
  policy.pre_roll_s = c.clip.pre_roll;
  policy.post_roll_s = c.clip.post_roll;
  // Bounds how long a shared clip can hold back the `end` of the incidents in it under continuous activity.
  policy.max_clip_s = c.clip.max_length + c.clip.pre_roll + c.clip.post_roll;
  rt->recorder = std::make_unique<CameraRecorder>(c.id, rt->ring, config.storage_root, policy);

  SourceOptions so;
  so.url = c.url;
  so.width = c.detect.width;
  so.height = c.detect.height;
  so.fps = c.detect.fps;
  so.keyframes_only = c.detect.mode == DetectMode::kKeyframes;
  so.latency_ms = c.rtsp_latency_ms;
  so.transport = c.transport;
  so.media_epoch = started_at;  // one timeline per camera across reconnects, shared by url and detect_url
  const bool substream = !c.detect_url.empty();
  CameraRuntime* raw = rt.get();
  // One path for `url` and `detect_url`: a supervisor per stream, which builds each attempt's sink itself.
  const auto supervise = [&](const std::string& url, StreamOutput output, const WatchdogPolicy& wd,
                             std::function<void(const CameraHealth&)> on_change) {
    SourceOptions stream = so;
    stream.url = url;
    stream.decode = static_cast<bool>(output.on_frame);
    auto make_source = [this, id = c.id, stream](SourceSink sink) {
      SourceOptions attempt = stream;
      stretch_connect_timeouts(attempt);
      return make_gst_source(id, attempt, std::move(sink));
    };
    return std::make_unique<CameraSupervisor>(c.id, make_source, std::move(output),
                                              backoff_policy(config.ingest.backoff_max_s), std::move(on_change), wd,
                                              connect_gate);
  };
  const auto to_analysis = [this, raw](Frame f) { on_frame(*raw, std::move(f)); };
  StreamOutput record;
  record.on_packet = [raw](EncodedPacket p) {
    raw->last_packet_pts.store(p.pts, std::memory_order_relaxed);
    raw->ring->push(std::move(p));
  };
  if (!substream) record.on_frame = to_analysis;  // with a detect_url, url is only recorded: nothing of it is decoded
  const WatchdogPolicy& wd = c.watchdog;
  WatchdogPolicy record_wd = wd;
  record_wd.expect_frames = !substream;
  rt->supervisor = supervise(c.url, std::move(record), record_wd, [this, raw](const CameraHealth& h) {
    storage_tasks.post([this, raw, h] { housekeeping->on_health(*raw, h, false); });
  });
  // The substream feeds the analysis only: its packets keep its own watchdog fed and are then dropped (the
  // ring holds the recorded stream's packets).
  if (substream)
    rt->detect_supervisor =
        supervise(c.detect_url, StreamOutput{nullptr, to_analysis}, wd, [this, raw](const CameraHealth& h) {
          storage_tasks.post([this, raw, h] { housekeeping->on_health(*raw, h, true); });
        });
  for (IncidentKind kind : kIncidentKinds) bus->declare_incident_kind(c.id, std::string(to_string(kind)));
  rt->log->info(
      "camera '{}' at {}{}: detect {} @ {}, {}, tamper {}, pre-roll {} s, post-roll {} s", c.name, redact_url(c.url),
      substream ? " (recorded; detection on " + redact_url(c.detect_url) + ")" : "",
      c.detect.width > 0 ? fmt::format("{}x{}", c.detect.width, c.detect.height) : std::string("at the camera's size"),
      c.detect.mode == DetectMode::kKeyframes ? std::string("keyframes only") : fmt::format("{} fps", c.detect.fps),
      rt->analysis->describe(), c.tamper.enabled ? "on" : "off", c.clip.pre_roll, c.clip.post_roll);
  return rt;
}

}  // namespace matthan
