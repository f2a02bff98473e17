// Engine::Impl: what the composition root holds while it runs, and where each part of its work is defined:
//   engine.cpp         wiring (create), thread lifecycle (start, stop), the analysis workers and the storage loop
//   camera_builder.cpp everything one camera owns (ring, recorder, its supervisors and where their output goes)
//   engine_reload.cpp  applying a new config while running
// Every decision lives in a module or a unit-tested piece (IncidentDesk, Housekeeping, ClipBook, the analysis).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "camera_runtime.hpp"
#include "housekeeping.hpp"
#include "incident_desk.hpp"
#include "matthan/app/engine.hpp"
#include "matthan/core/bounded_queue.hpp"
#include "matthan/core/metrics.hpp"
#include "matthan/events/event_bus.hpp"
#include "matthan/events/node_events.hpp"
#include "matthan/ingest/connect_gate.hpp"
#include "matthan/review/metrics_server.hpp"
#include "matthan/review/server.hpp"
#include "matthan/storage/index.hpp"
#include "review_wiring.hpp"
#include "storage_upkeep.hpp"
#include "task_queue.hpp"

namespace matthan {

// The bus's replay store: the index's events table.
class IndexJournal final : public EventJournal {
 public:
  explicit IndexJournal(Index& index) : index_(index) {}
  Status append(std::uint64_t seq, const std::string& topic, const std::string& payload, WallTime at) override {
    return index_.record_event(seq, topic, payload, at);
  }

 private:
  Index& index_;
};

struct Engine::Impl {
  Config config;
  std::unique_ptr<Index> index;
  std::unique_ptr<StorageUpkeep> upkeep;  // storage thread (after create)
  EventFeed feed;
  std::unique_ptr<IndexJournal> journal;  // the bus's replay store, over the index
  std::unique_ptr<EventBus> bus;
  // The camera set changes at run time (reload): readers take a copy of the list under the mutex, and a
  // retired camera lives on in those copies (shared_ptr) until the last reader lets go. Only a reload adds
  // or removes entries; the storage thread removes a retired one after finishing its clips.
  mutable std::mutex cameras_mu;
  std::vector<std::shared_ptr<CameraRuntime>> cameras;  // guarded by cameras_mu
  std::mutex reload_mu;                                 // one reload at a time
  mutable std::mutex reload_status_mu;
  std::optional<ReloadFigures> last_reload;  // guarded by reload_status_mu (heartbeat)

  std::vector<std::shared_ptr<CameraRuntime>> camera_list() const {
    std::lock_guard lock(cameras_mu);
    return cameras;
  }

  // Cameras with frames waiting, in line for a worker's turn; each appears at most once (sized well above any
  // camera count, so never drops). A camera is in it only while its `scheduled` flag is set.
  std::unique_ptr<BoundedQueue<CameraRuntime*>> ready;
  std::vector<std::thread> workers;
  TaskQueue storage_tasks;
  std::thread storage_thread;
  std::atomic<bool> storage_running{false};
  std::unique_ptr<IncidentDesk> desk;          // every incident's way to the wire and the disk
  std::unique_ptr<Housekeeping> housekeeping;  // storage thread only
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};  // read by reload()
  // /metrics: detector timings (the motion detector per analysed frame, the object detector per run), clip
  // outcomes (storage thread writes, scrapes read), and the listener of its own when `metrics.listen` is set.
  // Declared before the servers, so that they are gone before what a scrape reads.
  DetectorStats motion_stats{"motion"};
  DetectorStats object_stats{"objects"};  // one observation per frame the object detector ran on (all its crops)
  std::unique_ptr<MetricsSource> metrics_source;
  std::unique_ptr<MetricsServer> metrics_server;
  // The officers' web page and API (config `review:`); reads the index; `feed` (declared before the bus that
  // feeds it) gets every published event.
  std::unique_ptr<EngineLiveStatus> live;
  std::unique_ptr<ReviewServer> review;
  unsigned worker_count = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);  // analysis workers
  bool trace_latency = false;
  // Every camera's supervisors (url and detect_url) take turns in it to connect (ingest.max_connecting;
  // made in create(), from the loaded config).
  std::shared_ptr<ConnectGate> connect_gate;
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

  // GStreamer threads, analysis workers, storage thread (engine.cpp)
  void on_frame(CameraRuntime& rt, Frame f);
  void worker_loop();
  void analyse(CameraRuntime& rt, const Frame& frame);
  void storage_loop();
  MetricsSnapshot metrics_snapshot() const;
  Status start_metrics_listener();
  Status start_review();
  void start();
  void close_incidents(CameraRuntime& rt, const std::string& reason);
  void stop();
  // A camera (camera_builder.cpp)
  void stretch_connect_timeouts(SourceOptions& o) const;
  Result<std::shared_ptr<CameraRuntime>> build_camera(const CameraConfig& c);
  // Reload: the caller's thread (the daemon's signal loop or its control socket) (engine_reload.cpp)
  ReloadOutcome reload(const ConfigLoad& load);
  Config running_config() const;
  ReloadOutcome reject(ReloadOutcome out);
  void announce(const ReloadOutcome& out);
  std::shared_ptr<CameraRuntime> find_camera(const std::string& id) const;
  void launch(const std::shared_ptr<CameraRuntime>& rt);
  void retire(const std::shared_ptr<CameraRuntime>& rt, const std::string& reason);
  void order_cameras_like_config();
};

}  // namespace matthan
