// Glue between the Engine and the review server: camera health as review's CameraStatus (with a
// frame-rate estimate), the samplers of /metrics, the feed listener, and the redacted config admins may read.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "camera_runtime.hpp"
#include "incident_desk.hpp"
#include "matthan/app/config.hpp"
#include "matthan/core/metrics.hpp"
#include "matthan/events/event_bus.hpp"
#include "matthan/ingest/supervisor.hpp"
#include "matthan/review/live.hpp"
#include "matthan/review/metrics.hpp"
#include "storage_upkeep.hpp"

namespace matthan {

// One camera's raw health as the Engine sees it.
struct CameraSample {
  std::string id, name;
  CameraHealth health;
  std::chrono::steady_clock::time_point last_frame{};  // epoch = no frame yet
  bool tampered = false;                               // a tamper incident is open
  std::uint64_t global_changes = 0;                    // lighting changes the motion veto absorbed
  std::optional<CameraHealth> detect;                  // the detect_url substream's own health, when there is one
};

// LiveStatus over a function the Engine supplies; turns frame counters into a recent frame rate.
class EngineLiveStatus : public LiveStatus {
 public:
  explicit EngineLiveStatus(std::function<std::vector<CameraSample>()> sample) : sample_(std::move(sample)) {}
  std::vector<CameraStatus> cameras() const override;

 private:
  struct Rate {
    std::uint64_t frames = 0;
    std::chrono::steady_clock::time_point at{};
    double fps = 0;
  };
  std::function<std::vector<CameraSample>()> sample_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Rate> rates_;  // guarded by mu_
};

// MetricsSource over a function the Engine supplies.
class EngineMetrics : public MetricsSource {
 public:
  explicit EngineMetrics(std::function<MetricsSnapshot()> snapshot) : snapshot_(std::move(snapshot)) {}
  MetricsSnapshot metrics() const override { return snapshot_(); }

 private:
  std::function<MetricsSnapshot()> snapshot_;
};

// Pushes a published message into the feed (its seq is read from the payload).
void feed_event(EventFeed& feed, const std::string& topic, const std::string& payload);

// The cameras as the review page sees them.
std::vector<CameraSample> camera_samples(const std::vector<std::shared_ptr<CameraRuntime>>& cameras);

// What /metrics reads besides the cameras.
struct MetricsSources {
  const std::string& node;
  std::chrono::steady_clock::time_point started_at;
  unsigned analysis_workers;
  const DetectorStats& motion;
  const DetectorStats& objects;
  const EventBus& bus;
  const StorageUpkeep& upkeep;
  const IncidentDesk& desk;
  const std::filesystem::path& storage_root;
};
MetricsSnapshot metrics_snapshot(const MetricsSources& sources,
                                 const std::vector<std::shared_ptr<CameraRuntime>>& cameras);

// What /api/admin/config shows: camera URLs redacted, users without their hashes, no tokens.
std::string admin_config_json(const Config& config);

}  // namespace matthan
