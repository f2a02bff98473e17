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
#include "camera_runtime.hpp"
#include "housekeeping.hpp"
#include "incident_desk.hpp"
#include "matthan/core/bounded_queue.hpp"
#include "matthan/core/logging.hpp"
#include "matthan/core/metrics.hpp"
#include "matthan/core/version.hpp"
#include "matthan/core/time.hpp"
#include "matthan/core/url.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/event_bus.hpp"
#include "matthan/events/node_events.hpp"
#include "matthan/core/process.hpp"
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
#include "task_queue.hpp"

namespace matthan {
namespace {

constexpr auto kStoragePollInterval = std::chrono::milliseconds(100);
constexpr double kRingKeyframeMarginSeconds = 15.0;  // covers keyframe intervals up to this long beyond pre-roll
constexpr std::size_t kMaxReadyCameras = 1024;  // the ready queue's bound: more than any node runs
constexpr auto kRetireClaimPoll = std::chrono::milliseconds(5);
// Incident kinds a camera may raise: counted from zero in /metrics (matthan_camera_incidents_total{kind}).
constexpr IncidentKind kIncidentKinds[] = {IncidentKind::kMotion, IncidentKind::kObject, IncidentKind::kCameraOffline,
                                           IncidentKind::kTamper};

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

}  // namespace

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
  std::unique_ptr<IncidentDesk> desk;           // every incident's way to the wire and the disk
  std::unique_ptr<Housekeeping> housekeeping;   // storage thread only
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

  // ---- GStreamer threads ----
  void on_frame(CameraRuntime& rt, Frame f) {
    if (trace_latency) rt.note_arrival(f.wall);
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
    for (const IncidentChange& change : out.events) desk->change(rt, change, &frame);
    desk->refresh_snapshots(rt, out.best_frame, frame);
    if (auto tamper = rt.tamper.observe(frame)) {
      desk->change(rt, *tamper, &frame);
      rt.tamper_open.store(rt.tamper.active(), std::memory_order_relaxed);
    }
  }

  // ---- storage thread ----
  void storage_loop() {
    while (storage_running) {
      storage_tasks.run_pending(kStoragePollInterval);
      const auto list = camera_list();
      for (auto& rt : list) desk->collect(*rt, false);
      housekeeping->tick(list);
      upkeep->tick();
    }
    storage_tasks.run_pending(std::chrono::milliseconds(0));
  }

  // ---- review server ----
  MetricsSnapshot metrics_snapshot() const {
    return matthan::metrics_snapshot({config.node, started_at, worker_count, motion_stats, object_stats, *bus, *upkeep,
                                      *desk, config.storage_root},
                                     camera_list());
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
    live = std::make_unique<EngineLiveStatus>([this] { return camera_samples(camera_list()); });
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
  // is up takes longer than 15 s, and failing it only starts its connect again 
  // (bench/journal/2026-12-07-start-up-48-cameras.md).
  void stretch_connect_timeouts(SourceOptions& o) const {
    const double base_s = o.stall_timeout_ms / 1000.0;
    const double stretch = base_s > 0 ? connect_gate->first_packet_timeout_s(base_s) / base_s : 1.0;
    o.stall_timeout_ms = static_cast<int>(std::lround(o.stall_timeout_ms * stretch));
    o.auto_tcp_timeout_ms = static_cast<int>(std::lround(o.auto_tcp_timeout_ms * stretch));
  }

  // Builds everything a camera owns without starting it or adding it to the set.
  Result<std::shared_ptr<CameraRuntime>> build_camera(const CameraConfig& c) {
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
      return std::make_unique<CameraSupervisor>(c.id, make_source, std::move(output), BackoffPolicy{},
                                                std::move(on_change), wd, connect_gate);
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
      rt->detect_supervisor = supervise(c.detect_url, StreamOutput{nullptr, to_analysis}, wd,
                                        [this, raw](const CameraHealth& h) {
                                          storage_tasks.post([this, raw, h] { housekeeping->on_health(*raw, h, true); });
                                        });
    for (IncidentKind kind : kIncidentKinds) bus->declare_incident_kind(c.id, std::string(to_string(kind)));
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
    for (unsigned i = 0; i < worker_count; ++i) workers.emplace_back([this] { worker_loop(); });
    const auto list = camera_list();
    for (auto& rt : list) rt->start_streams();
    spdlog::info("engine '{}' running {} camera(s) with {} analysis worker(s); events on {}", config.node,
                 list.size(), worker_count, bus->endpoint());
  }

  // Ends a stopped camera's open incidents (analysis, tamper, offline): the caller holds the camera (no worker
  // does). Their clips finish on the storage thread; the `end`s go out when the clips are final.
  void close_incidents(CameraRuntime& rt, const std::string& reason) {
    // Frames that arrived after the workers left still count: analyse them before closing.
    while (auto f = rt.frames.try_pop()) analyse(rt, *f);
    for (const Incident& inc : rt.analysis->close(rt.last_pts, rt.last_wall, reason))
      desk->change(rt, {IncidentPhase::kEnd, inc}, nullptr);
    if (auto inc = rt.tamper.close(rt.last_pts, rt.last_wall, reason)) desk->change(rt, {IncidentPhase::kEnd, *inc}, nullptr);
    rt.tamper_open.store(false, std::memory_order_relaxed);
    storage_tasks.post([this, raw = &rt, reason] { housekeeping->end_offline(*raw, reason); });
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
    bus->post(kConfigTopic, [n, node = config.node](std::uint64_t seq) { return config_event_json(n, seq, node); });
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
      desk->collect(*rt, true);
      desk->give_up(rt->cfg.id, "the camera was stopped by a config reload before a clip could be written");
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
      for (auto& rt : list) desk->collect(*rt, true);
      // Anything still pending had no clip finished for it: it ends anyway, saying so.
      desk->give_up("", "the engine stopped before a clip could be written");
    });
    storage_running = false;
    if (storage_thread.joinable()) storage_thread.join();
    bus->stop();
    if (review) review->stop();
    if (metrics_server) metrics_server->stop();
    spdlog::info("stopped cleanly");
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() { stop(); }

Result<std::unique_ptr<Engine>> Engine::create(Config config, Listener listener, EngineOptions options) {
  ensure_gstreamer_initialized();
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->connect_gate = std::make_shared<ConnectGate>(impl->config.ingest.max_connecting);
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

  impl->journal = std::make_unique<IndexJournal>(*impl->index);
  // The review page's live feed and the console hear every event after it is journaled and sent.
  EventBus::Subscriber to_review_and_console = [feed = &impl->feed, console = std::move(listener)](
                                                   std::uint64_t, const std::string& topic, const std::string& payload) {
    feed_event(*feed, topic, payload);
    if (console) console(topic, payload);
  };
  auto bus = EventBus::start({cfg.node, cfg.events_bind, last_seq.value()}, *impl->journal, {to_review_and_console});
  if (!bus.ok()) return make_error(fmt::format("events.bind {}: {}", cfg.events_bind, bus.error().message));
  impl->bus = std::move(bus.value());
  impl->trace_latency = options.trace_latency;
  impl->desk = std::make_unique<IncidentDesk>(cfg.storage_root, *impl->index, *impl->bus, *impl->upkeep,
                                              impl->storage_tasks, options.trace_latency);
  Impl* self = impl.get();
  impl->housekeeping = std::make_unique<Housekeeping>(
      Housekeeping::Settings{cfg.node, cfg.heartbeat_s, impl->worker_count, impl->started_at}, *impl->bus,
      *impl->upkeep, *impl->desk, [self] {
        std::lock_guard lock(self->reload_status_mu);
        return self->last_reload;
      });
  // storage_full, storage_ok and each refused clip are events of their own (topic `storage`).
  impl->upkeep->set_notify([bus = impl->bus.get(), node = cfg.node](const StorageNotice& n) {
    bus->post(kStorageTopic,
              [n, node](std::uint64_t seq) { return storage_event_json(n, seq, node, std::chrono::system_clock::now()); });
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

std::string Engine::events_endpoint() const { return impl_->bus->endpoint(); }
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
