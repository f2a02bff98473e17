// The node's own messages on the wire, every one but the incidents (event_json.hpp): `health.<camera>` on every
// supervisor state change, a periodic `heartbeat`, `storage` and `config` (schemas/*.schema.json).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "matthan/core/camera_health.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

// What the storage gate tells subscribers (the `storage` topic, schemas/storage.schema.json).
struct StorageNotice {
  enum class Kind { kFull, kRoom, kClipRefused };
  Kind kind = Kind::kFull;
  std::optional<std::uint64_t> free_bytes;  // on the filesystem of the storage root, when known
  std::uint64_t min_free_bytes = 0;
  std::uint64_t clips_refused = 0;  // refused since start, this one included
  std::string camera;               // kClipRefused only
  std::string incident;             // kClipRefused only
};

inline constexpr const char* kHealthSchemaId = "matthan.health/1";
inline constexpr const char* kHeartbeatSchemaId = "matthan.heartbeat/1";
inline constexpr const char* kStorageSchemaId = "matthan.storage/1";
inline constexpr const char* kStorageTopic = "storage";
inline constexpr const char* kConfigSchemaId = "matthan.config/1";
inline constexpr const char* kConfigTopic = "config";

// The last config reload (SIGHUP or `matthan reload`), carried by every heartbeat after the first reload.
struct ReloadFigures {
  bool ok = false;
  WallTime at{};
  std::vector<std::string> errors;         // why it was rejected (file:line), empty when applied
  std::vector<std::string> needs_restart;  // node-level settings that differ from the running ones
};

// topic `config`: a reload was applied (`reload_ok`, with the cameras added, removed, changed and left
// alone) or rejected (`reload_failed`, with the errors; the running config stays in force).
struct ReloadNotice {
  ReloadFigures figures;
  std::vector<std::string> added, removed, changed, unchanged;
};
std::string config_event_json(const ReloadNotice& notice, std::uint64_t seq, const std::string& node);

// The engine's own per-camera counts, next to the supervisor's.
struct AnalysisCounters {
  std::uint64_t analysed = 0;
  std::uint64_t dropped = 0;
  std::uint64_t global_changes = 0;     // lighting changes (lights, IR switch, exposure) the motion veto absorbed
  std::uint64_t still_skipped = 0;      // analysed frames the still-frame gate found unchanged (motion model skipped)
  std::uint64_t snapshots_skipped = 0;  // snapshot refreshes skipped while one was still waiting to be written
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
  bool storage_full = false;
  std::optional<std::uint64_t> free_bytes;
  std::uint64_t clips_refused = 0, clips_deleted = 0;
  std::optional<ReloadFigures> reload;  // absent until the first reload
};

std::string heartbeat_event_json(const HeartbeatFigures& figures, std::uint64_t seq, const std::string& node,
                                 WallTime at);

// topic `storage`: the disk became full (`storage_full`), has room again (`storage_ok`), or a clip was
// refused (`clip_refused`, with the camera and incident).
std::string storage_event_json(const StorageNotice& notice, std::uint64_t seq, const std::string& node, WallTime at);

}  // namespace matthan
