// Health, heartbeat, storage and config JSON (ordered keys, as the incident events).
#include "matthan/events/node_events.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "matthan/core/time.hpp"

namespace matthan {
namespace {

using Json = nlohmann::ordered_json;

double round3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}

}  // namespace

std::string health_topic(const CameraId& camera) {
  return "health." + camera;
}

std::string health_event_json(const CameraId& camera, const CameraHealth& health, const AnalysisCounters& analysis,
                              std::uint64_t seq, const std::string& node, const std::string& stream) {
  Json j;
  j["schema"] = kHealthSchemaId;
  j["seq"] = seq;
  j["node"] = node;
  j["camera"] = camera;
  if (stream != "record") j["stream"] = stream;
  j["state"] = std::string(to_string(health.state));
  j["online"] = health.state == CameraState::kStreaming;
  j["reason"] = health.reason.empty() ? Json(nullptr) : Json(health.reason.substr(0, 1024));
  j["at"] = format_iso8601(health.since == WallTime{} ? std::chrono::system_clock::now() : health.since);
  j["counters"] = Json{{"packets", health.packets},
                       {"frames_decoded", health.frames},
                       {"frames_analysed", analysis.analysed},
                       {"frames_dropped", analysis.dropped},
                       {"reconnects", health.reconnects},
                       {"decode_errors", health.decode_errors},
                       {"untimed_packets", health.untimed_packets},
                       {"stalls", health.stalls},
                       {"global_changes", analysis.global_changes},
                       {"still_skipped", analysis.still_skipped},
                       {"snapshots_skipped", analysis.snapshots_skipped}};
  j["last_frame_age_s"] = health.last_frame_age_s < 0 ? Json(nullptr) : Json(round3(health.last_frame_age_s));
  if (health.retry_in_s >= 0) j["retry_in_s"] = round3(health.retry_in_s);
  return j.dump();
}

std::string heartbeat_event_json(const HeartbeatFigures& f, std::uint64_t seq, const std::string& node, WallTime at) {
  Json j;
  j["schema"] = kHeartbeatSchemaId;
  j["seq"] = seq;
  j["node"] = node;
  j["at"] = format_iso8601(at);
  j["uptime_s"] = round3(std::max(0.0, f.uptime_s));
  j["cameras"] = Json{{"total", f.cameras},
                      {"streaming", f.streaming},
                      {"stalled", f.stalled},
                      {"offline", f.offline},
                      {"open_incidents", f.open_incidents}};
  j["analysis_workers"] = std::max(1, f.analysis_workers);
  j["frames_analysed"] = f.frames_analysed;
  j["frames_dropped"] = f.frames_dropped;
  j["rss_bytes"] = f.rss_bytes;
  j["threads"] = f.threads;
  j["open_fds"] = f.open_fds;
  j["storage"] = Json{{"full", f.storage_full},
                      {"free_bytes", f.free_bytes ? Json(*f.free_bytes) : Json(nullptr)},
                      {"clips_refused", f.clips_refused},
                      {"clips_deleted", f.clips_deleted}};
  if (f.reload)
    j["reload"] = Json{{"ok", f.reload->ok},
                       {"at", format_iso8601(f.reload->at)},
                       {"errors", f.reload->errors},
                       {"needs_restart", f.reload->needs_restart}};
  return j.dump();
}

std::string config_event_json(const ReloadNotice& n, std::uint64_t seq, const std::string& node) {
  Json j;
  j["schema"] = kConfigSchemaId;
  j["seq"] = seq;
  j["node"] = node;
  j["at"] = format_iso8601(n.figures.at);
  j["event"] = n.figures.ok ? "reload_ok" : "reload_failed";
  j["errors"] = n.figures.errors;
  j["added"] = n.added;
  j["removed"] = n.removed;
  j["changed"] = n.changed;
  j["unchanged"] = n.unchanged;
  j["needs_restart"] = n.figures.needs_restart;
  return j.dump();
}

std::string storage_event_json(const StorageNotice& n, std::uint64_t seq, const std::string& node, WallTime at) {
  Json j;
  j["schema"] = kStorageSchemaId;
  j["seq"] = seq;
  j["node"] = node;
  j["at"] = format_iso8601(at);
  switch (n.kind) {
    case StorageNotice::Kind::kFull:
      j["event"] = "storage_full";
      break;
    case StorageNotice::Kind::kRoom:
      j["event"] = "storage_ok";
      break;
    case StorageNotice::Kind::kClipRefused:
      j["event"] = "clip_refused";
      j["camera"] = n.camera;
      j["incident"] = n.incident;
      break;
  }
  j["free_bytes"] = n.free_bytes ? Json(*n.free_bytes) : Json(nullptr);
  j["min_free_bytes"] = n.min_free_bytes;
  j["clips_refused"] = n.clips_refused;
  return j.dump();
}

}  // namespace matthan
