// Engine: builds the modules for each camera and runs the three kinds of threads.
//   GStreamer threads  -> copy packets into the camera's PacketRing and frames into a 2-deep queue, then return.
//   analysis workers   -> a small pool (about one per core) running each camera's CameraAnalysis (motion, object
//                         detection on the moving parts, tracking, incident logic); cameras take turns, one
//                         frame each, round robin (analysis_turns.hpp).
//   storage thread     -> clips (remux from the ring), later snapshots, index writes, and `end` events once
//                         the clip is final.
#include "matthan/app/engine.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "analysis_turns.hpp"
#include "camera_analysis.hpp"
#include "event_bus.hpp"
#include "health_events.hpp"
#include "offline_tracker.hpp"
#include "matthan/core/bounded_queue.hpp"
#include "matthan/core/logging.hpp"
#include "matthan/core/metrics.hpp"
#include "matthan/core/version.hpp"
#include "matthan/core/time.hpp"
#include "matthan/core/url.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/publisher.hpp"
#include "matthan/ingest/gst_source.hpp"
#include "matthan/ingest/supervisor.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/storage/index.hpp"
#include "matthan/storage/packet_ring.hpp"
#include "matthan/storage/recorder.hpp"
#include "matthan/storage/snapshot.hpp"
#include "matthan/review/metrics_server.hpp"
#include "matthan/review/server.hpp"
#include "review_wiring.hpp"
#include "storage_upkeep.hpp"
#include "tamper_watch.hpp"
#include "task_queue.hpp"

namespace matthan {
namespace {

constexpr auto kStoragePollInterval = std::chrono::milliseconds(100);
constexpr double kSnapshotRefreshSeconds = 1.0;
// Snapshot refreshes of one camera waiting for the storage thread: each holds a decoded frame (1.4 MB at
// 720p), so when the storage thread falls behind (a starved machine) a refresh is skipped and counted
// instead of queued (health counter snapshots_skipped). The first snapshot, written before `start`, is not.
constexpr int kMaxPendingSnapshots = 1;
constexpr double kRingKeyframeMarginSeconds = 15.0;  // covers keyframe intervals up to this long beyond pre-roll
constexpr double kLongKeyframeIntervalSeconds = 4.0;  // above this, a health warning for the camera
constexpr std::size_t kMaxReadyCameras = 1024;  // the ready queue's bound: more than any node runs
constexpr auto kRetireClaimPoll = std::chrono::milliseconds(5);
// Incident kinds a camera may raise: counted from zero in /metrics (matthan_camera_incidents_total{kind}).
constexpr const char* kIncidentKinds[] = {"motion", "object", "camera_offline", "tamper"};

// The same YYYY-MM-DD (UTC) folder naming as the clips use.
std::string date_folder(WallTime t) {
  const std::string s = format_file_stamp(t);
  return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2);
}

std::vector<SnapshotBox> snapshot_boxes(const Incident& inc) { return {SnapshotBox{inc.box, inc.label.value_or("")}}; }

}  // namespace

// Everything one camera owns. Fields are grouped by the thread that touches them.
struct CameraRuntime {
  CameraConfig cfg;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<PacketRing> ring;
  std::unique_ptr<CameraSupervisor> supervisor;         // `url`: recorded (and analysed, without detect_url)
  std::unique_ptr<CameraSupervisor> detect_supervisor;  // `detect_url`, when set: analysed only, never recorded

  // The stream whose frames are analysed.
  CameraSupervisor& frame_supervisor() const { return detect_supervisor ? *detect_supervisor : *supervisor; }
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
  std::atomic<bool> scheduled{false};  // true while the camera is queued for, or held by, a worker
  std::atomic<bool> retiring{false};   // a reload removes or restarts it: no new camera_offline incident
  std::atomic<std::int64_t> last_frame_ns{0};  // steady clock of the newest frame (review health); 0 = none
  std::atomic<std::uint64_t> analysed{0};
  std::atomic<std::uint64_t> global_changes{0};  // lighting changes the motion veto absorbed (health, metrics)
  std::atomic<std::uint64_t> still_skipped{0};   // frames the still-frame gate skipped (health)
  std::atomic<int> snapshots_pending{0};            // refreshes posted to the storage thread, not yet written
  std::atomic<std::uint64_t> snapshots_skipped{0};  // refreshes skipped because one was pending (health)
  // Object detector calls on this camera's frames and the crops they looked at (metrics).
  std::atomic<std::uint64_t> object_calls{0}, object_crops{0};
  AnalysisCounters analysis_counters() const {
    return {analysed.load(std::memory_order_relaxed), frames.dropped(), global_changes.load(std::memory_order_relaxed),
            still_skipped.load(std::memory_order_relaxed), snapshots_skipped.load(std::memory_order_relaxed)};
  }
  std::atomic<MediaTimeNs> last_packet_pts{0};  // media time of the newest packet (for camera_offline clips)
  std::atomic<int> analysis_open{0};            // incidents of the analysis path that are open (heartbeat)
  std::atomic<bool> tamper_open{false};         // a tamper incident is open (heartbeat, review)
  // Written by the storage thread, read by scrapes.
  std::atomic<bool> offline_open{false};  // a camera_offline incident is open
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
  std::map<std::string, std::int64_t> clip_ids;  // index id of each clip this camera is writing, by path
  bool long_gop_warned = false;
  OfflineTracker offline;
  std::optional<Incident> offline_incident;  // the open camera_offline incident
  CameraState state = CameraState::kStopped;  // the last state published
  RateMeter packet_rate, analysed_rate;

  CameraRuntime(const CameraConfig& c, std::unique_ptr<CameraAnalysis> a)
      : cfg(c),
        log(camera_logger(c.id)),
        analysis(std::move(a)),
        tamper(c.id, c.tamper),
        offline(c.offline_after, std::chrono::steady_clock::now()) {}
};

// An incident whose end waits for its clip to be final, or a clip that finished before its incident ended.
struct PendingEnd {
  std::optional<Incident> incident;
  std::string snapshot;
  std::optional<ClipRef> clip;
  std::optional<std::int64_t> clip_id;
  double clip_offset_s = 0;
  bool clip_done = false;
  std::string clip_error;  // why there is no clip, when there is none
};

struct Engine::Impl {
  Config config;
  Listener listener;
  std::unique_ptr<Index> index;
  std::unique_ptr<StorageUpkeep> upkeep;  // storage thread (after create)
  std::unique_ptr<EventPublisher> publisher;
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
  std::map<std::string, PendingEnd> pending;  // by incident id; storage thread only
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};  // read by reload()
  // /metrics: detector timings (the motion detector per analysed frame, the object detector per run), clip
  // outcomes (storage thread writes, scrapes read), and the listener of its own when `metrics.listen` is set.
  // Declared before the servers, so that they are gone before what a scrape reads.
  DetectorStats motion_stats{"motion"};
  DetectorStats object_stats{"objects"};  // one observation per frame the object detector ran on (all its crops)
  std::atomic<std::uint64_t> clips_written{0}, clip_write_errors{0};
  std::unique_ptr<MetricsSource> metrics_source;
  std::unique_ptr<MetricsServer> metrics_server;
  // The officers' web page and API (config `review:`); reads the index, fed with every published event.
  EventFeed feed;
  std::unique_ptr<EngineLiveStatus> live;
  std::unique_ptr<ReviewServer> review;
  unsigned worker_count = 0;
  // Every camera's supervisors (url and detect_url) take turns in it to connect (ingest.max_connecting;
  // made in create(), from the loaded config).
  std::shared_ptr<ConnectGate> connect_gate;
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point next_heartbeat{};  // storage thread only

  // ---- GStreamer threads ----
  void on_frame(CameraRuntime& rt, Frame f) {
    rt.frame_supervisor().note_frame(f);
    rt.note_arrival(f.wall);
    rt.last_frame_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    hand_over(*ready, rt, std::move(f));
  }

  // ---- analysis workers ----
  // One frame per turn, cameras round robin (analysis_turns.hpp): a camera whose analysis falls behind its
  // frames cannot hold a worker while the others wait.
  void worker_loop() {
    const auto analyse_one = [this](CameraRuntime& rt, const Frame& frame) { analyse(rt, frame); };
    while (true)
      if (!take_turn(*ready, analyse_one, std::chrono::milliseconds(200)) && ready->closed()) return;
  }

  void analyse(CameraRuntime& rt, const Frame& frame) {
    rt.analysed.fetch_add(1, std::memory_order_relaxed);
    const AnalysisOutput out = rt.analysis->process(frame);
    rt.global_changes.store(rt.analysis->global_changes(), std::memory_order_relaxed);
    rt.still_skipped.store(rt.analysis->still_skipped(), std::memory_order_relaxed);
    motion_stats.latency_s.observe(out.motion_seconds);
    if (out.detector_ran) {
      object_stats.latency_s.observe(out.detector_seconds);
      object_stats.crops.fetch_add(out.detector_crops, std::memory_order_relaxed);
      rt.object_calls.fetch_add(1, std::memory_order_relaxed);
      rt.object_crops.fetch_add(out.detector_crops, std::memory_order_relaxed);
    }
    rt.last_pts = frame.pts;
    rt.last_wall = frame.wall;
    for (const auto& [phase, inc] : out.events) handle_phase(rt, phase, inc, frame);
    rt.analysis_open.store(static_cast<int>(rt.snapshots.size()), std::memory_order_relaxed);
    for (const Incident& inc : out.best_frame) {
      auto it = rt.snapshots.find(inc.id);
      if (it != rt.snapshots.end() && media_seconds(frame.pts - it->second.last_pts) >= kSnapshotRefreshSeconds)
        queue_snapshot(rt, frame, inc, it->second);
    }
    observe_tamper(rt, frame);
  }

  // ---- tamper incidents (analysis worker): the same start / end path as motion, with a snapshot of the
  // tampered view and a clip whose pre-roll reaches back before the condition began ----
  void observe_tamper(CameraRuntime& rt, const Frame& frame) {
    auto ev = rt.tamper.observe(frame);
    if (!ev) return;
    if (ev->first == IncidentPhase::kStart) start_tamper_incident(rt, ev->second, frame);
    else end_tamper_incident(rt, ev->second);
    rt.tamper_open.store(rt.tamper.active(), std::memory_order_relaxed);
  }

  void start_tamper_incident(CameraRuntime& rt, const Incident& inc, const Frame& frame) {
    rt.tamper.snapshot_rel = fmt::format("snapshots/{}/{}/{}.jpg", rt.cfg.id, date_folder(inc.started_at), inc.id);
    if (auto st = write_snapshot(frame, {}, config.storage_root / rt.tamper.snapshot_rel); !st.ok()) {
      rt.log->error("snapshot {} failed: {}", rt.tamper.snapshot_rel, st.error().message);
    }
    rt.log->warn("tamper ({}): incident {} started", inc.label.value_or("?"), inc.id);
    bus->publish_incident(inc, IncidentPhase::kStart, rt.tamper.snapshot_rel, std::nullopt);
    storage_tasks.post([this, &rt, inc, snap = rt.tamper.snapshot_rel] { begin_clip(rt, inc, snap); });
  }

  void end_tamper_incident(CameraRuntime& rt, const Incident& inc) {
    rt.log->info("tamper ({}) over ({}): incident {} ends, finishing its clip", inc.label.value_or("?"),
                 inc.end_reason, inc.id);
    storage_tasks.post([this, &rt, inc, snap = rt.tamper.snapshot_rel] { finish_clip(rt, inc, snap); });
    rt.tamper.snapshot_rel.clear();
  }

  void handle_phase(CameraRuntime& rt, IncidentPhase phase, const Incident& inc, const Frame& frame) {
    switch (phase) {
      case IncidentPhase::kStart: {
        auto& snap = rt.snapshots[inc.id];
        snap.rel = fmt::format("snapshots/{}/{}/{}.jpg", rt.cfg.id, date_folder(inc.started_at), inc.id);
        // The first snapshot is written before `start` goes out, so the path in the event always exists.
        if (auto st = write_snapshot(frame, snapshot_boxes(inc), config.storage_root / snap.rel); !st.ok()) {
          rt.log->error("snapshot {} failed: {}", snap.rel, st.error().message);
        }
        snap.last_pts = frame.pts;
        bus->publish_incident(inc, IncidentPhase::kStart, snap.rel, std::nullopt);
        const auto published = std::chrono::system_clock::now();
        rt.log->info("incident {} started ({}{})", inc.id, inc.kind, inc.label ? " " + *inc.label : "");
        if (const auto arrived = rt.arrival_of(inc.started_at)) {
          const auto unix_ms = [](std::chrono::system_clock::time_point t) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
          };
          rt.log->info("incident {} latency: first frame arrived {} published {} (unix ms)", inc.id,
                        unix_ms(*arrived), unix_ms(published));
        }
        storage_tasks.post([this, &rt, inc, rel = snap.rel] { begin_clip(rt, inc, rel); });
        break;
      }
      case IncidentPhase::kUpdate:
        bus->publish_incident(inc, IncidentPhase::kUpdate, rt.snapshots[inc.id].rel, std::nullopt);
        break;
      case IncidentPhase::kEnd:
        end_incident(rt, inc);
        break;
    }
  }

  void end_incident(CameraRuntime& rt, const Incident& inc) {
    rt.log->info("incident {} ended ({}), finishing its clip", inc.id, inc.end_reason);
    auto snap = rt.snapshots.extract(inc.id);
    storage_tasks.post([this, &rt, inc, rel = snap ? snap.mapped().rel : std::string()] { finish_clip(rt, inc, rel); });
  }

  void queue_snapshot(CameraRuntime& rt, const Frame& frame, const Incident& inc, CameraRuntime::SnapshotState& snap) {
    snap.last_pts = frame.pts;
    if (rt.snapshots_pending.load(std::memory_order_acquire) >= kMaxPendingSnapshots) {
      rt.snapshots_skipped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    rt.snapshots_pending.fetch_add(1, std::memory_order_acq_rel);
    storage_tasks.post([this, &rt, frame, boxes = snapshot_boxes(inc), rel = snap.rel] {
      if (auto st = write_snapshot(frame, boxes, config.storage_root / rel); !st.ok())
        rt.log->warn("snapshot {} refresh failed: {}", rel, st.error().message);
      rt.snapshots_pending.fetch_sub(1, std::memory_order_acq_rel);
    });
  }

  // ---- storage thread ----
  void storage_loop() {
    while (storage_running) {
      storage_tasks.run_pending(kStoragePollInterval);
      for (auto& rt : camera_list()) {
        collect(*rt, poll_recorder(*rt, false));
        check_keyframe_interval(*rt);
        update_rates(*rt);
        if (!rt->retiring) track_offline(*rt, rt->state == CameraState::kStreaming);
      }
      maybe_heartbeat();
      upkeep->tick();
    }
    storage_tasks.run_pending(std::chrono::milliseconds(0));
  }

  void update_rates(CameraRuntime& rt) {
    const auto now = std::chrono::steady_clock::now();
    const CameraHealth h = rt.supervisor->health();
    rt.fps_in.store(rt.packet_rate.update(h.packets, now), std::memory_order_relaxed);
    rt.fps_analysed.store(rt.analysed_rate.update(rt.analysed.load(std::memory_order_relaxed), now),
                          std::memory_order_relaxed);
  }

  // ---- health (storage thread: publishing stores to SQLite, which GStreamer threads must never wait on) ----
  void on_health(CameraRuntime& rt, const CameraHealth& h) {
    rt.state = h.state;
    const AnalysisCounters a = rt.analysis_counters();
    bus->publish(health_topic(rt.cfg.id),
                 [&](std::uint64_t seq) { return health_event_json(rt.cfg.id, h, a, seq, config.node); });
    if (!rt.retiring) track_offline(rt, h.state == CameraState::kStreaming);
  }

  // The detect_url substream: its own health events; the camera's state, and camera_offline, follow `url`.
  void on_detect_health(CameraRuntime& rt, const CameraHealth& h) {
    const AnalysisCounters a = rt.analysis_counters();
    bus->publish(health_topic(rt.cfg.id),
                 [&](std::uint64_t seq) { return health_event_json(rt.cfg.id, h, a, seq, config.node, "detect"); });
  }

  void track_offline(CameraRuntime& rt, bool online) {
    const auto now = std::chrono::steady_clock::now();
    const auto since = rt.offline.offline_since();
    switch (rt.offline.update(online, now)) {
      case OfflineTracker::Action::kStart:
        start_offline_incident(rt, since.value_or(now));
        break;
      case OfflineTracker::Action::kEnd:
        end_offline_incident(rt, "back_online");
        break;
      case OfflineTracker::Action::kNone:
        break;
    }
  }

  // The clip reaches back pre_roll before the last packet seen and on past the reconnection (media time
  // keeps running across reconnects, so the gap sits inside the clip).
  void start_offline_incident(CameraRuntime& rt, std::chrono::steady_clock::time_point since) {
    Incident inc;
    const auto wall_since = std::chrono::system_clock::now() -
                            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                std::chrono::steady_clock::now() - since);
    inc.id = make_incident_id(rt.cfg.id, wall_since);
    inc.camera = rt.cfg.id;
    inc.kind = "camera_offline";
    inc.score = 1.0;
    inc.box = Box{0, 0, 1, 1};
    inc.started_at = wall_since;
    inc.start_pts = rt.last_packet_pts.load();
    rt.offline_incident = inc;
    rt.offline_open = true;
    rt.log->warn("camera offline for more than {:.0f} s: incident {} started", rt.cfg.offline_after, inc.id);
    bus->publish_incident(inc, IncidentPhase::kStart, "", std::nullopt);
    begin_clip(rt, inc, "");
  }

  void end_offline_incident(CameraRuntime& rt, const std::string& reason) {
    if (!rt.offline_incident) return;
    Incident inc = *rt.offline_incident;
    rt.offline_incident.reset();
    rt.offline_open = false;
    inc.ended_at = std::chrono::system_clock::now();
    inc.end_pts = std::max(inc.start_pts, rt.last_packet_pts.load());
    inc.end_reason = reason;
    rt.log->info("camera back ({}): incident {} ends, finishing its clip", reason, inc.id);
    finish_clip(rt, inc, "");
  }

  void maybe_heartbeat() {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_heartbeat) return;
    next_heartbeat = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(config.heartbeat_s));
    HeartbeatFigures f;
    f.uptime_s = std::chrono::duration<double>(now - started_at).count();
    const auto list = camera_list();
    f.cameras = static_cast<int>(list.size());
    f.analysis_workers = static_cast<int>(worker_count);
    for (auto& rt : list) {
      f.streaming += rt->state == CameraState::kStreaming ? 1 : 0;
      f.stalled += rt->state == CameraState::kStalled ? 1 : 0;
      f.open_incidents += rt->analysis_open.load(std::memory_order_relaxed) + (rt->offline_incident ? 1 : 0) +
                          (rt->tamper_open.load() ? 1 : 0);
      f.frames_analysed += rt->analysed.load(std::memory_order_relaxed);
      f.frames_dropped += rt->frames.dropped();
    }
    f.offline = f.cameras - f.streaming - f.stalled;
    const ProcessFigures p = read_process_figures();
    f.rss_bytes = p.rss_bytes;
    f.threads = p.threads;
    f.open_fds = p.open_fds;
    f.storage_full = upkeep->storage_full();
    f.free_bytes = upkeep->free_bytes();
    f.clips_refused = upkeep->clips_refused();
    f.clips_deleted = upkeep->clips_deleted();
    {
      std::lock_guard lock(reload_status_mu);
      f.reload = last_reload;
    }
    bus->publish("heartbeat", [&](std::uint64_t seq) {
      return heartbeat_event_json(f, seq, config.node, std::chrono::system_clock::now());
    });
    // Each camera's counters ride along with the heartbeat, so they are current even without a state change.
    for (auto& rt : list) {
      const CameraHealth h = rt->supervisor->health();
      const AnalysisCounters a = rt->analysis_counters();
      bus->publish(health_topic(rt->cfg.id),
                   [&](std::uint64_t seq) { return health_event_json(rt->cfg.id, h, a, seq, config.node); });
      if (rt->detect_supervisor) {
        const CameraHealth d = rt->detect_supervisor->health();
        bus->publish(health_topic(rt->cfg.id), [&](std::uint64_t seq) {
          return health_event_json(rt->cfg.id, d, a, seq, config.node, "detect");
        });
      }
    }
  }

  void begin_clip(CameraRuntime& rt, const Incident& inc, const std::string& snapshot) {
    IncidentRecord rec = record_of(inc, snapshot);
    if (auto st = index->upsert_incident(rec); !st.ok()) rt.log->error("index: {}", st.error().message);
    record_snapshot(rt, inc, snapshot);
    // A clip joining one already open costs no new space; a new one needs room on the disk.
    if (!rt.recorder->recording() && !upkeep->admit_clip(rt.cfg.id, inc.id)) {
      pending[inc.id].clip_error = "storage full: new clips are refused until space returns";
      pending[inc.id].clip_done = true;  // refused (storage_full): the end goes out without a clip
      return;
    }
    if (auto st = rt.recorder->begin(inc.id, inc.start_pts); !st.ok()) {
      rt.log->error("clip for incident {} could not start: {}", inc.id, st.error().message);
      pending[inc.id].clip_error = st.error().message;
      pending[inc.id].clip_done = true;  // the end goes out without a clip rather than waiting for ever
    }
    apply_notes(rt);
  }

  void record_snapshot(CameraRuntime& rt, const Incident& inc, const std::string& rel) {
    if (rel.empty()) return;
    SnapshotRecord s;
    s.incident_id = inc.id;
    s.camera = rt.cfg.id;
    s.path = rel;
    s.taken_at = inc.started_at;
    std::error_code ec;
    s.bytes = std::filesystem::file_size(config.storage_root / rel, ec);
    if (ec) return;  // the snapshot failed to write (logged where it was written)
    if (auto h = sha256_file(config.storage_root / rel)) s.sha256 = *h;
    if (auto id = index->upsert_snapshot(s); !id.ok()) rt.log->error("index: {}", id.error().message);
  }

  std::vector<FinishedClip> poll_recorder(CameraRuntime& rt, bool flush_now) {
    auto finished = rt.recorder->poll(flush_now);
    apply_notes(rt);
    return finished;
  }

  // Clips opened are in the index as `writing` at once, and each incident points at its clip: after a crash
  // the start-up reconcile finds them and their incidents keep their clip.
  void apply_notes(CameraRuntime& rt) {
    RecorderNotes notes = rt.recorder->take_notes();
    for (const auto& o : notes.opened) {
      ClipRecord cr;
      cr.path = o.relative_path;
      cr.camera = rt.cfg.id;
      cr.start = o.first_wall;
      cr.end = o.first_wall;
      cr.requested_start = o.requested_start;
      cr.created_at = std::chrono::system_clock::now();
      cr.state = "writing";
      if (auto id = index->add_clip(cr); id.ok()) rt.clip_ids[o.relative_path] = id.value();
      else rt.log->error("index: clip {} not recorded: {}", o.relative_path, id.error().message);
      if (o.requested_start && o.first_wall > *o.requested_start)
        rt.log->warn("clip {} starts {:.1f} s after start - pre_roll: the ring held no older keyframe",
                     o.relative_path, std::chrono::duration<double>(o.first_wall - *o.requested_start).count());
    }
    for (const auto& l : notes.links) {
      auto it = rt.clip_ids.find(l.relative_path);
      if (it == rt.clip_ids.end()) continue;
      if (auto st = index->link_incident_clip(l.incident_id, it->second, l.offset_s); !st.ok())
        rt.log->error("index: {}", st.error().message);
    }
  }

  // Long keyframe intervals make pre-roll expensive (the ring must reach back a whole GOP): a health warning.
  void check_keyframe_interval(CameraRuntime& rt) {
    const double gop_s = media_seconds(rt.ring->stats().keyframe_interval);
    rt.keyframe_interval_s.store(gop_s, std::memory_order_relaxed);
    const bool is_long = gop_s > kLongKeyframeIntervalSeconds;
    if (is_long && !rt.long_gop_warned)
      rt.log->warn("health: keyframe interval {:.1f} s is over {:.0f} s; pre-roll must reach back a whole GOP "
                   "(set the camera's I-frame interval to 1-2 s)",
                   gop_s, kLongKeyframeIntervalSeconds);
    if (!is_long && rt.long_gop_warned && gop_s > 0)
      rt.log->info("health: keyframe interval back to {:.1f} s", gop_s);
    if (gop_s > 0) rt.long_gop_warned = is_long;
  }

  void finish_clip(CameraRuntime& rt, const Incident& inc, const std::string& snapshot) {
    PendingEnd& p = pending[inc.id];
    p.incident = inc;
    p.snapshot = snapshot;
    rt.recorder->end(inc.id, inc.end_pts);
    if (p.clip_done) publish_end(inc.id);
  }

  void collect(CameraRuntime& rt, std::vector<FinishedClip> finished) {
    for (auto& fc : finished) {
      std::optional<ClipRef> ref;
      std::optional<std::int64_t> clip_id;
      if (fc.status.ok() && fc.summary) {
        ref = ClipRef{fc.relative_path, fc.summary->first_wall, fc.summary->end_wall, fc.summary->duration_s};
        clip_id = record_finished_clip(rt, fc);
        clips_written.fetch_add(1, std::memory_order_relaxed);
        upkeep->note_clip_written(fc.summary->bytes);
        rt.log->info("clip {} finished: {:.1f} s, {} bytes, sha256 {}", fc.relative_path, fc.summary->duration_s,
                     fc.summary->bytes, fc.summary->sha256);
      } else {
        rt.log->error("clip for incidents [{}] failed: {}", fmt::join(fc.incident_ids, ", "),
                      fc.status.ok() ? "no packets" : fc.status.error().message);
        record_failed_clip(rt, fc);
        clip_write_errors.fetch_add(1, std::memory_order_relaxed);
      }
      const std::string error = ref ? "" : (fc.status.ok() ? "no video packets were received" : fc.status.error().message);
      for (std::size_t i = 0; i < fc.incident_ids.size(); ++i) {
        PendingEnd& p = pending[fc.incident_ids[i]];
        if (p.clip_id) continue;  // an incident's clip is the one holding its start (a split continues it)
        p.clip = ref;
        p.clip_error = error;
        p.clip_id = clip_id;
        p.clip_offset_s = i < fc.offsets_s.size() ? fc.offsets_s[i] : 0.0;
        p.clip_done = true;
        if (p.incident) publish_end(fc.incident_ids[i]);
      }
    }
  }

  std::optional<std::int64_t> record_finished_clip(CameraRuntime& rt, const FinishedClip& fc) {
    ClipRecord cr;
    const auto known = rt.clip_ids.find(fc.relative_path);
    if (known != rt.clip_ids.end()) {
      if (auto existing = index->clip(known->second); existing.ok() && existing.value()) cr = *existing.value();
      rt.clip_ids.erase(known);
    }
    cr.path = fc.relative_path;
    cr.camera = rt.cfg.id;
    cr.start = fc.summary->first_wall;
    cr.end = fc.summary->end_wall;
    cr.duration_s = fc.summary->duration_s;
    cr.bytes = fc.summary->bytes;
    cr.sha256 = fc.summary->sha256;
    cr.finished_at = std::chrono::system_clock::now();
    cr.state = "complete";
    if (!fc.summary->not_finalised.empty()) {  // it plays, but it is not the +faststart file a complete clip is
      cr.state = "partial";
      cr.flag = "kept fragmented (not remuxed): " + fc.summary->not_finalised;
      rt.log->warn("clip {} kept as a fragmented MP4 and marked partial: {}", fc.relative_path, fc.summary->not_finalised);
    }
    if (cr.id != 0) {
      if (auto st = index->update_clip(cr); !st.ok()) {
        rt.log->error("index: clip {} not recorded: {}", fc.relative_path, st.error().message);
        return std::nullopt;
      }
      return cr.id;
    }
    if (auto id = index->add_clip(cr); id.ok()) return id.value();
    else rt.log->error("index: clip {} not recorded: {}", fc.relative_path, id.error().message);
    return std::nullopt;
  }

  // The writer removed its file; the row must not stay `writing` (nor ever say complete).
  void record_failed_clip(CameraRuntime& rt, const FinishedClip& fc) {
    const auto known = rt.clip_ids.find(fc.relative_path);
    if (known == rt.clip_ids.end()) return;
    auto existing = index->clip(known->second);
    rt.clip_ids.erase(known);
    if (!existing.ok() || !existing.value()) return;
    ClipRecord cr = *existing.value();
    cr.state = "deleted";
    cr.deleted_at = std::chrono::system_clock::now();
    cr.deleted_reason = "write failed";
    cr.flag = fc.status.ok() ? "no packets" : fc.status.error().message;
    if (auto st = index->update_clip(cr); !st.ok()) rt.log->error("index: {}", st.error().message);
  }

  void publish_end(const std::string& id) {
    auto it = pending.find(id);
    if (it == pending.end() || !it->second.incident) return;
    PendingEnd& p = it->second;
    IncidentRecord rec = record_of(*p.incident, p.snapshot);
    rec.clip_id = p.clip_id;
    rec.clip_offset_s = p.clip_offset_s;
    if (auto st = index->upsert_incident(rec); !st.ok())
      spdlog::error("[{}] index: {}", p.incident->camera, st.error().message);
    // The snapshot was refreshed while the incident lasted: record the final one.
    if (auto rt = find_camera(p.incident->camera)) record_snapshot(*rt, *p.incident, p.snapshot);
    bus->publish_incident(*p.incident, IncidentPhase::kEnd, p.snapshot, p.clip, p.clip_error);
    pending.erase(it);
  }

  static IncidentRecord record_of(const Incident& inc, const std::string& snapshot) {
    IncidentRecord r;
    r.id = inc.id;
    r.camera = inc.camera;
    r.kind = inc.kind;
    r.label = inc.label;
    r.score = inc.score;
    r.box = inc.box;
    r.started_at = inc.started_at;
    r.ended_at = inc.ended_at;
    r.snapshot = snapshot;
    return r;
  }

  // ---- review server ----
  std::vector<CameraSample> camera_samples() const {
    std::vector<CameraSample> out;
    for (const auto& rt : camera_list()) {
      CameraSample s{rt->cfg.id, rt->cfg.name, rt->supervisor->health(), {}, rt->tamper_open.load(),
                     rt->global_changes.load(std::memory_order_relaxed), std::nullopt};
      if (rt->detect_supervisor) s.detect = rt->detect_supervisor->health();
      if (const auto ns = rt->last_frame_ns.load(); ns != 0)
        s.last_frame = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns));
      out.push_back(std::move(s));
    }
    return out;
  }

  // ---- metrics (scrape threads: atomics, the supervisors' health, the bus's incident counts) ----
  MetricsSnapshot metrics_snapshot() const {
    MetricsSnapshot s;
    NodeMetrics& n = s.node;
    n.node = config.node;
    n.version = MATTHAN_VERSION;
    n.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
    const ProcessFigures p = read_process_figures();
    n.cpu_seconds = p.cpu_seconds;
    n.rss_bytes = p.rss_bytes;
    n.threads = p.threads;
    n.open_fds = p.open_fds;
    n.analysis_workers = static_cast<int>(worker_count);
    n.detectors.push_back(
        DetectorMetrics{motion_stats.name, motion_stats.latency_s.snapshot(), std::nullopt});
    n.detectors.push_back(DetectorMetrics{object_stats.name, object_stats.latency_s.snapshot(),
                                          object_stats.crops.load(std::memory_order_relaxed)});
    n.events_sent = publisher->sent();
    n.events_dropped = publisher->dropped();
    n.clip_bytes = upkeep->clip_bytes();
    if (auto free = free_space(config.storage_root); free.ok()) n.free_bytes = free.value();
    n.storage_full = upkeep->storage_full();
    n.clips_written = clips_written.load(std::memory_order_relaxed);
    n.clip_write_errors = clip_write_errors.load(std::memory_order_relaxed);
    n.clips_refused = upkeep->clips_refused();
    n.retention_deleted_clips = upkeep->clips_deleted();
    const auto incidents = bus->incidents_started();
    const auto now = std::chrono::steady_clock::now();
    for (const auto& rt : camera_list()) {
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
      c.open_incidents = rt->analysis_open.load(std::memory_order_relaxed) + (rt->offline_open.load() ? 1 : 0) +
                         (rt->tamper_open.load() ? 1 : 0);
      s.cameras.push_back(std::move(c));
    }
    return s;
  }

  Status start_metrics_listener() {
    if (config.metrics.listen.empty()) return {};
    auto server = MetricsServer::start(config.metrics.listen, *metrics_source);
    if (!server.ok()) return server.error();
    metrics_server = std::move(server.value());
    return {};
  }

  Status start_review() {
    if (!config.review.enabled) return {};
    live = std::make_unique<EngineLiveStatus>([this] { return camera_samples(); });
    ReviewDeps deps{index.get(), config.storage_root, live.get(), &feed, config.node,
                    [this] { return admin_config_json(running_config()); },
                    metrics_source.get()};
    auto server = ReviewServer::start(config.review, std::move(deps));
    if (!server.ok()) return server.error();
    review = std::move(server.value());
    return {};
  }

  // ---- lifecycle ----
  // An attempt's timeouts before its first packet (no video at all; TCP silent under `transport: auto`)
  // stretch while this node's cameras have lately been slow to connect: on a starved machine a camera that
  // is up takes longer than 15 s, and failing it only starts its connect again (docs/PERFORMANCE.md,
  // "Start-up").
  void stretch_connect_timeouts(SourceOptions& o) const {
    const double base_s = o.stall_timeout_ms / 1000.0;
    const double stretch = base_s > 0 ? connect_gate->first_packet_timeout_s(base_s) / base_s : 1.0;
    o.stall_timeout_ms = static_cast<int>(std::lround(o.stall_timeout_ms * stretch));
    o.auto_tcp_timeout_ms = static_cast<int>(std::lround(o.auto_tcp_timeout_ms * stretch));
  }

  // Builds everything a camera owns without starting it or adding it to the set.
  Result<std::shared_ptr<CameraRuntime>> build_camera(const CameraConfig& c) {
    auto analysis = CameraAnalysis::create(c);
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
    so.decode = !substream;  // with a detect_url, url is only recorded: nothing of it is decoded
    CameraRuntime* raw = rt.get();
    auto factory = [this, raw, so]() {
      SourceOptions attempt = so;
      stretch_connect_timeouts(attempt);
      SourceSink sink;
      sink.on_packet = [raw](EncodedPacket p) {
        raw->supervisor->note_packet(p);
        raw->last_packet_pts.store(p.pts, std::memory_order_relaxed);
        raw->ring->push(std::move(p));
      };
      sink.on_untimed_packet = [raw] { raw->supervisor->note_untimed_packet(); };
      sink.on_connected = [raw] { raw->supervisor->note_connected(); };
      if (so.decode) {
        sink.on_frame = [this, raw](Frame f) { on_frame(*raw, std::move(f)); };
        sink.on_decode_error = [raw] { raw->supervisor->note_decode_error(); };
        sink.on_decoder_input = [raw] { raw->supervisor->note_decoder_input(); };
      }
      sink.watchdog = [raw] { return raw->supervisor->check_watchdog(); };
      return make_gst_source(raw->cfg.id, attempt, std::move(sink));
    };
    const WatchdogPolicy& wd = c.watchdog;
    WatchdogPolicy record_wd = wd;
    record_wd.expect_frames = !substream;
    auto on_change = [this, raw](const CameraHealth& h) { storage_tasks.post([this, raw, h] { on_health(*raw, h); }); };
    rt->supervisor = std::make_unique<CameraSupervisor>(c.id, factory, BackoffPolicy{}, on_change, record_wd,
                                                        connect_gate);
    if (substream) {
      // The substream feeds the analysis only: its packets keep its own watchdog fed and are then dropped
      // (the ring holds the recorded stream's packets).
      SourceOptions dso = so;
      dso.url = c.detect_url;
      dso.decode = true;
      auto detect_factory = [this, raw, dso]() {
        SourceOptions attempt = dso;
        stretch_connect_timeouts(attempt);
        SourceSink sink;
        sink.on_packet = [raw](EncodedPacket p) { raw->detect_supervisor->note_packet(p); };
        sink.on_frame = [this, raw](Frame f) { on_frame(*raw, std::move(f)); };
        sink.on_decode_error = [raw] { raw->detect_supervisor->note_decode_error(); };
        sink.on_connected = [raw] { raw->detect_supervisor->note_connected(); };
        sink.on_decoder_input = [raw] { raw->detect_supervisor->note_decoder_input(); };
        sink.watchdog = [raw] { return raw->detect_supervisor->check_watchdog(); };
        return make_gst_source(raw->cfg.id, attempt, std::move(sink));
      };
      auto on_detect_change = [this, raw](const CameraHealth& h) {
        storage_tasks.post([this, raw, h] { on_detect_health(*raw, h); });
      };
      rt->detect_supervisor =
          std::make_unique<CameraSupervisor>(c.id, detect_factory, BackoffPolicy{}, on_detect_change, wd,
                                             connect_gate);
    }
    for (const char* kind : kIncidentKinds) bus->declare_incident_kind(c.id, kind);
    rt->log->info("camera '{}' at {}{}: detect {} @ {}, {}, tamper {}, pre-roll {} s, post-roll {} s", c.name,
                  redact_url(c.url), substream ? " (recorded; detection on " + redact_url(c.detect_url) + ")" : "",
                  c.detect.width > 0 ? fmt::format("{}x{}", c.detect.width, c.detect.height) : std::string("at the camera's size"),
                  c.detect.mode == DetectMode::kKeyframes ? std::string("keyframes only")
                                                          : fmt::format("{} fps", c.detect.fps),
                  rt->analysis->describe(),
                  c.tamper.enabled ? "on" : "off", c.clip.pre_roll, c.clip.post_roll);
    return rt;
  }

  void start() {
    storage_running = true;
    storage_thread = std::thread([this] { storage_loop(); });
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const unsigned n = std::clamp<unsigned>(cores, 1, 4);
    worker_count = n;
    for (unsigned i = 0; i < n; ++i) workers.emplace_back([this] { worker_loop(); });
    const auto list = camera_list();
    for (auto& rt : list) rt->start_streams();
    spdlog::info("engine '{}' running {} camera(s) with {} analysis worker(s); events on {}", config.node,
                 list.size(), n, publisher->endpoint());
  }

  // Ends a stopped camera's open incidents (analysis, tamper, offline): the caller holds the camera (no worker
  // does). Their clips finish on the storage thread; the `end`s go out when the clips are final.
  void close_incidents(CameraRuntime& rt, const std::string& reason) {
    // Frames that arrived after the workers left still count: analyse them before closing.
    while (auto f = rt.frames.try_pop()) analyse(rt, *f);
    for (const Incident& inc : rt.analysis->close(rt.last_pts, rt.last_wall, reason)) end_incident(rt, inc);
    rt.analysis_open.store(0, std::memory_order_relaxed);
    if (auto inc = rt.tamper.close(rt.last_pts, rt.last_wall, reason)) end_tamper_incident(rt, *inc);
    storage_tasks.post([this, raw = &rt, reason] { end_offline_incident(*raw, reason); });
  }

  // Storage thread: an `end` still waiting for a clip of this camera goes out without one.
  void end_pending_without_clip(const std::string& camera, const std::string& why) {
    std::vector<std::string> left;
    for (auto& [id, p] : pending) {
      if (!p.incident || (!camera.empty() && p.incident->camera != camera)) continue;
      spdlog::warn("[{}] incident {} ends without a clip", p.incident->camera, id);
      if (p.clip_error.empty()) p.clip_error = why;
      left.push_back(id);
    }
    for (auto& id : left) publish_end(id);
  }

  // ---- reload (the caller's thread: the daemon's signal loop or its control socket) ----
  ReloadOutcome reload(const ConfigLoad& load) {
    std::lock_guard serial(reload_mu);
    ReloadOutcome out;
    if (!started || stopped) {
      out.errors.push_back("the engine is not running");
      return out;
    }
    if (!load.ok()) {
      for (const auto& i : load.issues) out.errors.push_back(i.to_string());
      return reject(std::move(out));
    }
    out.diff = diff_config(running_config(), load.config);
    for (const auto& key : out.diff.needs_restart)
      spdlog::warn("reload: {} changed; node-level settings need a restart (the running value stays in force)", key);
    // Everything new is built before anything is touched: a camera that cannot be built rejects the whole reload.
    std::vector<std::shared_ptr<CameraRuntime>> changed, added;
    for (const auto& c : out.diff.changed) {
      if (auto rt = build_camera(c); rt.ok()) changed.push_back(std::move(rt.value()));
      else out.errors.push_back(rt.error().message);
    }
    for (const auto& c : out.diff.added) {
      if (auto rt = build_camera(c); rt.ok()) added.push_back(std::move(rt.value()));
      else out.errors.push_back(rt.error().message);
    }
    if (!out.errors.empty()) return reject(std::move(out));

    for (const auto& id : out.diff.removed)
      if (auto rt = find_camera(id)) retire(rt, "camera_removed");
    for (auto& rt : changed) {
      if (auto old = find_camera(rt->cfg.id)) retire(old, "camera_changed");
      launch(rt);
    }
    for (auto& rt : added) launch(rt);
    {
      std::lock_guard lock(cameras_mu);
      // Only the cameras: the node-level fields stay as they started (and threads read them without this lock).
      config.cameras = load.config.cameras;
      order_cameras_like_config();
    }
    out.ok = true;
    spdlog::info("reload applied: {} added, {} removed, {} changed, {} untouched", out.diff.added.size(),
                 out.diff.removed.size(), out.diff.changed.size(), out.diff.unchanged.size());
    announce(out);
    return out;
  }

  Config running_config() const {
    std::lock_guard lock(cameras_mu);
    return config;
  }

  ReloadOutcome reject(ReloadOutcome out) {
    spdlog::error("reload rejected ({} problem{}); the running config stays in force:", out.errors.size(),
                  out.errors.size() == 1 ? "" : "s");
    for (const auto& e : out.errors) spdlog::error("  {}", e);
    announce(out);
    return out;
  }

  void announce(const ReloadOutcome& out) {
    ReloadNotice n;
    n.figures.ok = out.ok;
    n.figures.at = std::chrono::system_clock::now();
    n.figures.errors = out.errors;
    n.figures.needs_restart = out.diff.needs_restart;
    if (out.ok) {
      for (const auto& c : out.diff.added) n.added.push_back(c.id);
      for (const auto& c : out.diff.changed) n.changed.push_back(c.id);
      n.removed = out.diff.removed;
      n.unchanged = out.diff.unchanged;
    }
    {
      std::lock_guard lock(reload_status_mu);
      last_reload = n.figures;
    }
    bus->publish(kConfigTopic, [&](std::uint64_t seq) { return config_event_json(n, seq, config.node); });
  }

  std::shared_ptr<CameraRuntime> find_camera(const std::string& id) const {
    std::lock_guard lock(cameras_mu);
    for (const auto& rt : cameras)
      if (rt->cfg.id == id) return rt;
    return nullptr;
  }

  void order_cameras_like_config() {  // cameras_mu held: review and /metrics list them in the file's order
    auto rank = [&](const std::shared_ptr<CameraRuntime>& rt) {
      for (std::size_t i = 0; i < config.cameras.size(); ++i)
        if (config.cameras[i].id == rt->cfg.id) return i;
      return config.cameras.size();
    };
    std::stable_sort(cameras.begin(), cameras.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  }

  void launch(const std::shared_ptr<CameraRuntime>& rt) {
    {
      std::lock_guard lock(cameras_mu);
      cameras.push_back(rt);
    }
    rt->start_streams();
    rt->log->info("reload: camera started");
  }

  // Stops one camera the way stop() stops them all, and waits until its clips are final and its `end`s are
  // out; then the storage thread takes it out of the set. The other cameras run on meanwhile.
  void retire(const std::shared_ptr<CameraRuntime>& rt, const std::string& reason) {
    rt->log->info("reload: stopping ({}): open incidents end and their clips finish", reason);
    rt->retiring = true;
    rt->stop_streams();  // no more packets or frames; its last health (stopped) is queued for the storage thread
    // Take the camera from the workers: once its `scheduled` flag is ours, it is neither queued nor analysed.
    while (rt->scheduled.exchange(true)) std::this_thread::sleep_for(kRetireClaimPoll);
    close_incidents(*rt, reason);
    std::promise<void> done;
    // After every task close_incidents posted (the queue runs in order), so the clips they end are flushed.
    storage_tasks.post([this, rt, &done] {
      collect(*rt, poll_recorder(*rt, true));
      end_pending_without_clip(rt->cfg.id, "the camera was stopped by a config reload before a clip could be written");
      {
        std::lock_guard lock(cameras_mu);
        std::erase(cameras, rt);
      }
      done.set_value();
    });
    done.get_future().wait();
    rt->log->info("reload: camera stopped");
  }

  void stop() {
    std::lock_guard serial(reload_mu);  // a reload in progress finishes first
    spdlog::info("stopping: cameras first, then open incidents and clips");
    const auto list = camera_list();
    for (auto& rt : list) rt->stop_streams();
    ready->close();
    for (auto& w : workers) w.join();
    workers.clear();
    for (auto& rt : list) close_incidents(*rt, "shutdown");
    storage_tasks.post([this, list] {
      for (auto& rt : list) collect(*rt, poll_recorder(*rt, true));
      // Anything still pending had no clip finished for it: it ends anyway, saying so.
      end_pending_without_clip("", "the engine stopped before a clip could be written");
    });
    storage_running = false;
    if (storage_thread.joinable()) storage_thread.join();
    publisher->stop();
    if (review) review->stop();
    if (metrics_server) metrics_server->stop();
    spdlog::info("stopped cleanly");
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() { stop(); }

Result<std::unique_ptr<Engine>> Engine::create(Config config, Listener listener) {
  ensure_gstreamer_initialized();
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->connect_gate = std::make_shared<ConnectGate>(impl->config.ingest.max_connecting);
  impl->listener = [feed = &impl->feed, console = std::move(listener)](const std::string& topic, const std::string& payload) {
    feed_event(*feed, topic, payload);
    if (console) console(topic, payload);
  };
  const Config& cfg = impl->config;

  std::error_code ec;
  std::filesystem::create_directories(cfg.storage_root, ec);
  if (ec) return make_error(fmt::format("cannot create storage root {}: {}", cfg.storage_root.string(), ec.message()));
  const auto db_path = cfg.storage_root / "index.db";
  auto index = Index::open(db_path);
  if (!index.ok())
    return make_error(fmt::format(
        "{}\n  recovery: if another matthan uses this storage root, stop it first. If the index is corrupt, move "
        "it aside (mv {} {}.bad; also its -wal and -shm files) and start again: a fresh index is created and the "
        "start-up reconcile registers every clip found on disk as partial (reviews and evidence holds of the old "
        "index are not carried over; keep the .bad file for `sqlite3 .recover`).",
        index.error().message, db_path.string(), db_path.string()));
  impl->index = std::move(index.value());
  impl->upkeep = std::make_unique<StorageUpkeep>(cfg.storage_root, *impl->index, cfg.retention);
  // Before any camera runs: the recorder must not race the recovery of clips a crash left behind.
  if (auto st = impl->upkeep->start_up(); !st.ok()) return st.error();
  auto last_seq = impl->index->last_event_seq();
  if (!last_seq.ok()) return last_seq.error();

  auto pub = EventPublisher::bind(cfg.events_bind);
  if (!pub.ok()) return make_error(fmt::format("events.bind {}: {}", cfg.events_bind, pub.error().message));
  impl->publisher = std::move(pub.value());
  impl->bus = std::make_unique<EventBus>(cfg.node, *impl->index, *impl->publisher, last_seq.value(), impl->listener);
  // storage_full, storage_ok and each refused clip are events of their own (topic `storage`).
  impl->upkeep->set_notify([bus = impl->bus.get(), node = cfg.node](const StorageNotice& n) {
    bus->publish(kStorageTopic,
                 [&](std::uint64_t seq) { return storage_event_json(n, seq, node, std::chrono::system_clock::now()); });
  });

  impl->ready = std::make_unique<BoundedQueue<CameraRuntime*>>(std::max<std::size_t>(cfg.cameras.size() + 1, kMaxReadyCameras));
  for (const auto& c : cfg.cameras) {
    auto rt = impl->build_camera(c);
    if (!rt.ok()) return rt.error();
    impl->cameras.push_back(std::move(rt.value()));
  }
  Impl* raw = impl.get();
  impl->metrics_source = std::make_unique<EngineMetrics>([raw] { return raw->metrics_snapshot(); });
  if (auto st = impl->start_review(); !st.ok()) return make_error("review: " + st.error().message);
  if (auto st = impl->start_metrics_listener(); !st.ok()) return st.error();
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->start();
}

void Engine::stop() {
  if (!impl_ || !impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stop();
}

std::string Engine::events_endpoint() const { return impl_->publisher->endpoint(); }
std::string Engine::review_url() const { return impl_->review ? impl_->review->url() : std::string(); }
Config Engine::config() const {
  std::lock_guard lock(impl_->cameras_mu);
  return impl_->config;
}

ReloadOutcome Engine::reload(const ConfigLoad& load) { return impl_->reload(load); }

std::string ReloadOutcome::answer() const {
  std::string out = ok ? "ok\n" : "error: the new config was rejected; the running config stays in force\n";
  for (const auto& e : errors) out += e + "\n";
  if (!ok) return out;
  auto line = [&](const char* what, const std::vector<std::string>& ids) {
    out += fmt::format("{}: {}\n", what, ids.empty() ? "-" : fmt::format("{}", fmt::join(ids, ", ")));
  };
  std::vector<std::string> added, changed;
  for (const auto& c : diff.added) added.push_back(c.id);
  for (const auto& c : diff.changed) changed.push_back(c.id);
  line("added", added);
  line("removed", diff.removed);
  line("changed", changed);
  line("unchanged", diff.unchanged);
  if (!diff.needs_restart.empty())
    out += fmt::format("needs restart (not applied): {}\n", fmt::join(diff.needs_restart, ", "));
  return out;
}

}  // namespace matthan
