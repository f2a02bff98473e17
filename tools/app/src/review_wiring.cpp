// Engine-to-review glue (see review_wiring.hpp).
#include "review_wiring.hpp"

#include <nlohmann/json.hpp>

#include "matthan/core/process.hpp"
#include "matthan/core/url.hpp"
#include "matthan/core/version.hpp"

namespace matthan {

using nlohmann::json;

namespace {
constexpr double kRateWindowS = 2.0;  // the frame rate is re-estimated at most this often
}

std::vector<CameraStatus> EngineLiveStatus::cameras() const {
  const auto now = std::chrono::steady_clock::now();
  std::vector<CameraStatus> out;
  std::lock_guard lock(mu_);
  for (const auto& s : sample_()) {
    CameraStatus c;
    c.id = s.id;
    c.name = s.name;
    c.state = std::string(to_string(s.health.state));
    c.reason = s.health.reason;
    c.reconnects = s.health.reconnects;
    c.frames = s.health.frames;
    c.packets = s.health.packets;
    c.tampered = s.tampered;
    c.global_changes = s.global_changes;
    if (s.detect) {
      c.detect_stream = StreamStatus{std::string(to_string(s.detect->state)), s.detect->reason};
      c.frames = s.detect->frames;  // a camera with a substream analyses the substream's frames
    }
    if (s.last_frame.time_since_epoch().count() != 0)
      c.last_frame_age_s = std::chrono::duration<double>(now - s.last_frame).count();
    Rate& r = rates_[s.id];
    const double dt = std::chrono::duration<double>(now - r.at).count();
    if (r.at.time_since_epoch().count() == 0) {
      r = Rate{c.frames, now, 0};
    } else if (dt >= kRateWindowS) {
      r.fps = c.frames >= r.frames ? static_cast<double>(c.frames - r.frames) / dt : 0;
      r.frames = c.frames;
      r.at = now;
    }
    // A camera that stopped delivering has no rate, whatever the last window said.
    const std::string& analysed_state = c.detect_stream ? c.detect_stream->state : c.state;
    c.fps = analysed_state == "streaming" ? r.fps : 0;
    out.push_back(std::move(c));
  }
  return out;
}

void feed_event(EventFeed& feed, const std::string& topic, const std::string& payload) {
  const json j = json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.contains("seq") || !j["seq"].is_number_unsigned()) return;
  feed.push(FeedEvent{j["seq"].get<std::uint64_t>(), topic, payload});
}

namespace {

// detect.objects as the admin sees it: null for a motion-only camera.
json objects_json(const ObjectSettings& o) {
  if (!o.enabled) return nullptr;
  return json{{"model", o.model ? json(o.model->weights.filename().string()) : json("hog (built-in people detector)")},
              {"labels", o.labels},
              {"min_score", o.min_score},
              {"confirm_frames", o.confirm_frames},
              {"recheck_s", o.recheck_s},
              {"crop",
               {{"min_side", o.crop.min_side},
                {"margin", o.crop.margin},
                {"whole_frame", o.crop.whole_frame},
                {"one_pass_min_px", o.crop.one_pass_min_px}}}};
}

}  // namespace

std::string admin_config_json(const Config& config) {
  json cams = json::array();
  for (const auto& c : config.cameras) {
    cams.push_back(json{
        {"id", c.id},
        {"name", c.name},
        {"url", redact_url(c.url)},
        {"detect",
         {{"width", c.detect.width},
          {"height", c.detect.height},
          {"fps", c.detect.fps},
          {"objects", objects_json(c.detect.objects)}}},
        {"clip", {{"pre_roll", c.clip.pre_roll}, {"post_roll", c.clip.post_roll}, {"max_length", c.clip.max_length}}}});
    if (!c.detect_url.empty()) cams.back()["detect_url"] = redact_url(c.detect_url);
  }
  json users = json::array();
  for (const auto& u : config.review.users) users.push_back(json{{"name", u.name}, {"role", to_string(u.role)}});
  return json{{"node", config.node},
              {"storage_root", config.storage_root.string()},
              {"events_bind", config.events_bind},
              {"cameras", cams},
              {"review",
               {{"listen", config.review.listen},
                {"users", users},
                {"api_tokens", config.review.api_tokens.size()},
                {"session_ttl", config.review.session_ttl_s},
                {"time_zone", config.review.time_zone},
                {"tls", config.review.tls.enabled()}}}}
      .dump();
}

// ---- samplers (scrape threads: atomics, the supervisors' health, the bus's incident counts) ----

std::vector<CameraSample> camera_samples(const std::vector<std::shared_ptr<CameraRuntime>>& cameras) {
  std::vector<CameraSample> out;
  for (const auto& rt : cameras) {
    CameraSample s{rt->cfg.id,  rt->cfg.name,           rt->supervisor->health(),
                   {},          rt->tamper_open.load(), rt->global_changes.load(std::memory_order_relaxed),
                   std::nullopt};
    if (rt->detect_supervisor) s.detect = rt->detect_supervisor->health();
    if (const auto ns = rt->last_frame_ns.load(); ns != 0)
      s.last_frame = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns));
    out.push_back(std::move(s));
  }
  return out;
}

MetricsSnapshot metrics_snapshot(const MetricsSources& src,
                                 const std::vector<std::shared_ptr<CameraRuntime>>& cameras) {
  MetricsSnapshot s;
  NodeMetrics& n = s.node;
  n.node = src.node;
  n.version = MATTHAN_VERSION;
  n.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - src.started_at).count();
  const ProcessFigures p = read_process_figures();
  n.cpu_seconds = p.cpu_seconds;
  n.rss_bytes = p.rss_bytes;
  n.threads = p.threads;
  n.open_fds = p.open_fds;
  n.analysis_workers = static_cast<int>(src.analysis_workers);
  n.detectors.push_back(DetectorMetrics{src.motion.name, src.motion.latency_s.snapshot(), std::nullopt});
  n.detectors.push_back(DetectorMetrics{src.objects.name, src.objects.latency_s.snapshot(),
                                        src.objects.crops.load(std::memory_order_relaxed)});
  n.events_sent = src.bus.sent();
  n.events_dropped = src.bus.dropped();
  n.clip_bytes = src.upkeep.clip_bytes();
  if (auto free = free_space(src.storage_root); free.ok()) n.free_bytes = free.value();
  n.storage_full = src.upkeep.storage_full();
  n.clips_written = src.desk.clips_written();
  n.clip_write_errors = src.desk.clip_write_errors();
  n.clips_refused = src.upkeep.clips_refused();
  n.retention_deleted_clips = src.upkeep.clips_deleted();
  const auto incidents = src.bus.incidents_started();
  const auto now = std::chrono::steady_clock::now();
  for (const auto& rt : cameras) {
    const CameraHealth h = rt->supervisor->health();
    // Frames, decode errors and stalls of the stream that is decoded (detect_url, when set).
    const CameraHealth fh = rt->detect_supervisor ? rt->detect_supervisor->health() : h;
    CameraMetrics c;
    c.id = rt->cfg.id;
    c.name = rt->cfg.name;
    c.state = std::string(to_string(h.state));
    c.packets = h.packets;
    c.frames_decoded = fh.frames;
    c.frames_analysed = rt->analysed.load(std::memory_order_relaxed);
    c.frames_dropped = rt->frames.dropped();
    c.global_changes = rt->global_changes.load(std::memory_order_relaxed);
    c.decode_errors = fh.decode_errors;
    c.untimed_packets = h.untimed_packets;
    c.stalls = h.stalls + (rt->detect_supervisor ? fh.stalls : 0);
    c.reconnects = h.reconnects + (rt->detect_supervisor ? fh.reconnects : 0);
    if (auto it = incidents.find(c.id); it != incidents.end()) c.incidents_by_kind = it->second;
    if (rt->analysis->objects_enabled()) {
      c.object_calls = rt->object_calls.load(std::memory_order_relaxed);
      c.object_crops = rt->object_crops.load(std::memory_order_relaxed);
    }
    c.fps_in = c.state == "streaming" ? rt->fps_in.load(std::memory_order_relaxed) : 0;
    c.fps_analysed = c.state == "streaming" ? rt->fps_analysed.load(std::memory_order_relaxed) : 0;
    if (const auto ns = rt->last_frame_ns.load(); ns != 0)
      c.last_frame_age_s = std::chrono::duration<double>(
                               now - std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns)))
                               .count();
    if (const double k = rt->keyframe_interval_s.load(std::memory_order_relaxed); k > 0) c.keyframe_interval_s = k;
    c.open_incidents = rt->open_incidents();
    s.cameras.push_back(std::move(c));
  }
  return s;
}

}  // namespace matthan
