// Housekeeping: rates, keyframe interval, health, camera_offline and the heartbeat.
#include "housekeeping.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "matthan/core/process.hpp"
#include "matthan/core/time.hpp"

namespace matthan {
namespace {

constexpr double kLongKeyframeIntervalSeconds = 4.0;  // above this, a health warning for the camera

}  // namespace

Housekeeping::Housekeeping(Settings settings, EventBus& bus, StorageUpkeep& upkeep, IncidentDesk& desk,
                           std::function<std::optional<ReloadFigures>()> last_reload)
    : settings_(std::move(settings)), bus_(bus), upkeep_(upkeep), desk_(desk), last_reload_(std::move(last_reload)) {}

void Housekeeping::tick(const std::vector<std::shared_ptr<CameraRuntime>>& cameras) {
  for (const auto& rt : cameras) {
    check_keyframe_interval(*rt);
    update_rates(*rt);
    if (!rt->retiring) track_offline(*rt, rt->state == CameraState::kStreaming);
  }
  if (std::chrono::steady_clock::now() >= next_heartbeat_) heartbeat(cameras);
}

void Housekeeping::update_rates(CameraRuntime& rt) {
  const auto now = std::chrono::steady_clock::now();
  const CameraHealth h = rt.supervisor->health();
  rt.fps_in.store(rt.packet_rate.update(h.packets, now), std::memory_order_relaxed);
  rt.fps_analysed.store(rt.analysed_rate.update(rt.analysed.load(std::memory_order_relaxed), now),
                        std::memory_order_relaxed);
}

// Long keyframe intervals make pre-roll expensive (the ring must reach back a whole GOP): a health warning.
void Housekeeping::check_keyframe_interval(CameraRuntime& rt) {
  const double gop_s = media_seconds(rt.ring->stats().keyframe_interval);
  rt.keyframe_interval_s.store(gop_s, std::memory_order_relaxed);
  const bool is_long = gop_s > kLongKeyframeIntervalSeconds;
  if (is_long && !rt.long_gop_warned)
    rt.log->warn(
        "health: keyframe interval {:.1f} s is over {:.0f} s; pre-roll must reach back a whole GOP "
        "(set the camera's I-frame interval to 1-2 s)",
        gop_s, kLongKeyframeIntervalSeconds);
  if (!is_long && rt.long_gop_warned && gop_s > 0) rt.log->info("health: keyframe interval back to {:.1f} s", gop_s);
  if (gop_s > 0) rt.long_gop_warned = is_long;
}

void Housekeeping::on_health(CameraRuntime& rt, const CameraHealth& h, bool detect) {
  post_health(rt, h, detect);
  if (detect) return;
  rt.state = h.state;
  if (!rt.retiring) track_offline(rt, h.state == CameraState::kStreaming);
}

void Housekeeping::post_health(const CameraRuntime& rt, const CameraHealth& h, bool detect) {
  bus_.post(health_topic(rt.cfg.id),
            [id = rt.cfg.id, h, a = rt.analysis_counters(), node = settings_.node, detect](std::uint64_t seq) {
              return detect ? health_event_json(id, h, a, seq, node, "detect") : health_event_json(id, h, a, seq, node);
            });
}

void Housekeeping::track_offline(CameraRuntime& rt, bool online) {
  const auto change = rt.offline.update(online, std::chrono::steady_clock::now(), std::chrono::system_clock::now(),
                                        rt.last_packet_pts.load());
  if (!change) return;
  rt.offline_open = change->phase == IncidentPhase::kStart;
  desk_.change_now(rt, *change);
}

void Housekeeping::end_offline(CameraRuntime& rt, const std::string& reason) {
  const auto inc = rt.offline.close(std::chrono::system_clock::now(), rt.last_packet_pts.load(), reason);
  if (!inc) return;
  rt.offline_open = false;
  desk_.change_now(rt, {IncidentPhase::kEnd, *inc});
}

void Housekeeping::heartbeat(const std::vector<std::shared_ptr<CameraRuntime>>& cameras) {
  const auto now = std::chrono::steady_clock::now();
  next_heartbeat_ = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(settings_.heartbeat_s));
  HeartbeatFigures f;
  f.uptime_s = std::chrono::duration<double>(now - settings_.started_at).count();
  f.cameras = static_cast<int>(cameras.size());
  f.analysis_workers = static_cast<int>(settings_.analysis_workers);
  for (const auto& rt : cameras) {
    f.streaming += rt->state == CameraState::kStreaming ? 1 : 0;
    f.stalled += rt->state == CameraState::kStalled ? 1 : 0;
    f.open_incidents += rt->open_incidents();
    f.frames_analysed += rt->analysed.load(std::memory_order_relaxed);
    f.frames_dropped += rt->frames.dropped();
  }
  f.offline = f.cameras - f.streaming - f.stalled;
  const ProcessFigures p = read_process_figures();
  f.rss_bytes = p.rss_bytes;
  f.threads = p.threads;
  f.open_fds = p.open_fds;
  f.storage_full = upkeep_.storage_full();
  f.free_bytes = upkeep_.free_bytes();
  f.clips_refused = upkeep_.clips_refused();
  f.clips_deleted = upkeep_.clips_deleted();
  f.reload = last_reload_();
  bus_.post("heartbeat", [f, node = settings_.node](std::uint64_t seq) {
    return heartbeat_event_json(f, seq, node, std::chrono::system_clock::now());
  });
  // Each camera's counters ride along with the heartbeat, so they are current even without a state change.
  for (const auto& rt : cameras) {
    post_health(*rt, rt->supervisor->health(), false);
    if (rt->detect_supervisor) post_health(*rt, rt->detect_supervisor->health(), true);
  }
}

}  // namespace matthan
