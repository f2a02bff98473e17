// CameraRuntime: everything one camera owns while the engine runs it, grouped by the thread that touches each part.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "matthan/analysis/camera_analysis.hpp"
#include "matthan/analysis/offline_watch.hpp"
#include "matthan/analysis/tamper_watch.hpp"
#include "matthan/app/config.hpp"
#include "matthan/core/bounded_queue.hpp"
#include "matthan/core/logging.hpp"
#include "matthan/core/metrics.hpp"
#include "matthan/events/node_events.hpp"
#include "matthan/ingest/supervisor.hpp"
#include "matthan/storage/packet_ring.hpp"
#include "matthan/storage/recorder.hpp"

namespace matthan {

// Everything one camera owns. Fields are grouped by the thread that touches them.
struct CameraRuntime {
  CameraConfig cfg;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<PacketRing> ring;
  std::unique_ptr<CameraSupervisor> supervisor;         // `url`: recorded (and analysed, without detect_url)
  std::unique_ptr<CameraSupervisor> detect_supervisor;  // `detect_url`, when set: analysed only, never recorded

  void start_streams() const {
    supervisor->start();
    if (detect_supervisor) detect_supervisor->start();
  }
  void stop_streams() const {
    supervisor->stop();
    if (detect_supervisor) detect_supervisor->stop();
  }

  // Hand-off from GStreamer threads: at most two frames wait; older ones are dropped and counted.
  BoundedQueue<Frame> frames{2};
  std::atomic<bool> scheduled{false};          // true while the camera is queued for, or held by, a worker
  std::atomic<bool> retiring{false};           // a reload removes or restarts it: no new camera_offline incident
  std::atomic<std::int64_t> last_frame_ns{0};  // steady clock of the newest frame (review health); 0 = none
  std::atomic<std::uint64_t> analysed{0};
  std::atomic<std::uint64_t> global_changes{0};     // lighting changes the motion veto absorbed (health, metrics)
  std::atomic<std::uint64_t> still_skipped{0};      // frames the still-frame gate skipped (health)
  std::atomic<int> snapshots_pending{0};            // refreshes posted to the storage thread, not yet written
  std::atomic<std::uint64_t> snapshots_skipped{0};  // refreshes skipped because one was pending (health)
  // Object detector calls on this camera's frames and the crops they looked at (metrics).
  std::atomic<std::uint64_t> object_calls{0}, object_crops{0};
  AnalysisCounters analysis_counters() const {
    return {analysed.load(std::memory_order_relaxed), frames.dropped(), global_changes.load(std::memory_order_relaxed),
            still_skipped.load(std::memory_order_relaxed), snapshots_skipped.load(std::memory_order_relaxed)};
  }
  std::atomic<MediaTimeNs> last_packet_pts{0};  // media time of the newest packet (for camera_offline clips)
  std::atomic<int> analysis_open{0};     // incidents raised on frames (motion, object, rule, tamper) that are open
  std::atomic<bool> tamper_open{false};  // a tamper incident is open (heartbeat, review)
  // Written by the storage thread, read by scrapes.
  std::atomic<bool> offline_open{false};  // a camera_offline incident is open
  int open_incidents() const {            // heartbeat, metrics
    return analysis_open.load(std::memory_order_relaxed) + (offline_open.load() ? 1 : 0);
  }
  std::atomic<double> fps_in{0}, fps_analysed{0};
  std::atomic<double> keyframe_interval_s{0};  // 0 until two keyframes were seen

  // Analysis state: touched only by the worker currently holding `scheduled`.
  std::unique_ptr<CameraAnalysis> analysis;
  TamperWatch tamper;
  MediaTimeNs last_pts = 0;
  WallTime last_wall{};
  struct SnapshotState {
    std::string rel;  // relative to the storage root
    MediaTimeNs last_pts = 0;
  };
  std::map<std::string, SnapshotState> snapshots;  // of the open incidents, by incident id

  // When each recent frame reached on_frame (the system clock), by the frame's wall time: the start of an
  // incident logs its first frame's arrival and its publication, for the latency benchmark
  // (bench/harness/run.py). Written by GStreamer threads, read by the analysis worker.
  struct Arrival {
    WallTime wall{};
    std::chrono::system_clock::time_point at{};
  };
  std::mutex arrivals_mu;
  std::array<Arrival, 128> arrivals{};  // guarded by arrivals_mu; a ring
  std::size_t arrivals_next = 0;        // guarded by arrivals_mu
  void note_arrival(WallTime wall) {
    const auto now = std::chrono::system_clock::now();
    std::lock_guard lock(arrivals_mu);
    arrivals[arrivals_next] = {wall, now};
    arrivals_next = (arrivals_next + 1) % arrivals.size();
  }
  std::optional<std::chrono::system_clock::time_point> arrival_of(WallTime wall) {
    std::lock_guard lock(arrivals_mu);
    for (const auto& a : arrivals) {
      if (a.at.time_since_epoch().count() != 0 && a.wall == wall) return a.at;
    }
    return std::nullopt;
  }

  // Storage state: touched only by the storage thread.
  std::unique_ptr<CameraRecorder> recorder;
  bool long_gop_warned = false;
  OfflineWatch offline;
  CameraState state = CameraState::kStopped;  // the last state published
  RateMeter packet_rate, analysed_rate;

  CameraRuntime(const CameraConfig& c, std::unique_ptr<CameraAnalysis> a)
      : cfg(c),
        log(camera_logger(c.id)),
        analysis(std::move(a)),
        tamper(c.id, c.tamper),
        offline(c.id, c.offline_after, std::chrono::steady_clock::now()) {}
};

}  // namespace matthan
