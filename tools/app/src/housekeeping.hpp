// Housekeeping: what the storage thread does for every camera besides clips. Rates, the keyframe-interval
// warning, each camera's health events, camera_offline incidents (through the IncidentDesk), and the periodic
// heartbeat. Storage thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "camera_runtime.hpp"
#include "incident_desk.hpp"
#include "matthan/events/event_bus.hpp"
#include "matthan/events/node_events.hpp"
#include "storage_upkeep.hpp"

namespace matthan {

class Housekeeping {
 public:
  struct Settings {
    std::string node;
    double heartbeat_s = 10;
    unsigned analysis_workers = 1;
    std::chrono::steady_clock::time_point started_at{};
  };
  // `last_reload` gives the outcome of the newest reload, for the heartbeat (called on the storage thread).
  Housekeeping(Settings settings, EventBus& bus, StorageUpkeep& upkeep, IncidentDesk& desk,
               std::function<std::optional<ReloadFigures>()> last_reload);

  // One pass over the cameras: rates, the keyframe interval, camera_offline, and the heartbeat when due.
  void tick(const std::vector<std::shared_ptr<CameraRuntime>>& cameras);
  // A supervisor's state change. `detect`: the detect_url substream's; the camera's state and camera_offline
  // follow `url`.
  void on_health(CameraRuntime& rt, const CameraHealth& health, bool detect);
  // Ends the camera's camera_offline incident, if one is open (the camera is stopped).
  void end_offline(CameraRuntime& rt, const std::string& reason);

 private:
  void update_rates(CameraRuntime& rt);
  void check_keyframe_interval(CameraRuntime& rt);
  void track_offline(CameraRuntime& rt, bool online);
  void post_health(const CameraRuntime& rt, const CameraHealth& health, bool detect);
  void heartbeat(const std::vector<std::shared_ptr<CameraRuntime>>& cameras);

  const Settings settings_;
  EventBus& bus_;
  StorageUpkeep& upkeep_;
  IncidentDesk& desk_;
  const std::function<std::optional<ReloadFigures>()> last_reload_;
  std::chrono::steady_clock::time_point next_heartbeat_{};
};

}  // namespace matthan
