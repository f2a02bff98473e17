// Engine: builds the modules for each camera and runs the three kinds of threads.
//   GStreamer threads  -> copy packets into the camera's PacketRing and frames into a 2-deep queue, then return.
//   analysis workers   -> a small pool (about one per core) running each camera's analysis (matthan::analysis);
//                         cameras take turns, one frame each, round robin (analysis_turns.hpp); each incident
//                         change goes to the IncidentDesk.
//   storage thread     -> clips, snapshots refreshed, index writes, `end`s once their clip is final, housekeeping.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "analysis_turns.hpp"
#include "engine_impl.hpp"
#include "matthan/ingest/gst_source.hpp"

namespace matthan {
namespace {

constexpr auto kStoragePollInterval = std::chrono::milliseconds(100);
constexpr std::size_t kMaxReadyCameras = 1024;  // the ready queue's bound: more than any node runs

}  // namespace

// ---- GStreamer threads ----
void Engine::Impl::on_frame(CameraRuntime& rt, Frame f) {
  if (trace_latency) rt.note_arrival(f.wall);
  rt.last_frame_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  hand_over(*ready, rt, std::move(f));
}

// ---- analysis workers ----
// One frame per turn, cameras round robin (analysis_turns.hpp): a camera whose analysis falls behind its
// frames cannot hold a worker while the others wait.
void Engine::Impl::worker_loop() {
  const auto analyse_one = [this](CameraRuntime& rt, const Frame& frame) { analyse(rt, frame); };
  while (true)
    if (!take_turn(*ready, analyse_one, std::chrono::milliseconds(200)) && ready->closed()) return;
}

void Engine::Impl::analyse(CameraRuntime& rt, const Frame& frame) {
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
void Engine::Impl::storage_loop() {
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
MetricsSnapshot Engine::Impl::metrics_snapshot() const {
  return matthan::metrics_snapshot(
      {config.node, started_at, worker_count, motion_stats, object_stats, *bus, *upkeep, *desk, config.storage_root},
      camera_list());
}

Status Engine::Impl::start_metrics_listener() {
  if (config.metrics.listen.empty()) return {};
  auto server = MetricsServer::start(config.metrics.listen, *metrics_source);
  if (!server.ok()) return server.error();
  metrics_server = std::move(server.value());
  return {};
}

Status Engine::Impl::start_review() {
  if (!config.review.enabled) return {};
  live = std::make_unique<EngineLiveStatus>([this] { return camera_samples(camera_list()); });
  ReviewDeps deps{index.get(),         config.storage_root,
                  live.get(),          &feed,
                  config.node,         [this] { return admin_config_json(running_config()); },
                  metrics_source.get()};
  auto server = ReviewServer::start(config.review, std::move(deps));
  if (!server.ok()) return server.error();
  review = std::move(server.value());
  return {};
}

void Engine::Impl::start() {
  storage_running = true;
  storage_thread = std::thread([this] { storage_loop(); });
  for (unsigned i = 0; i < worker_count; ++i) workers.emplace_back([this] { worker_loop(); });
  const auto list = camera_list();
  for (auto& rt : list) rt->start_streams();
  spdlog::info("engine '{}' running {} camera(s) with {} analysis worker(s); events on {}", config.node, list.size(),
               worker_count, bus->endpoint());
}

// Ends a stopped camera's open incidents (analysis, tamper, offline): the caller holds the camera (no worker
// does). Their clips finish on the storage thread; the `end`s go out when the clips are final.
void Engine::Impl::close_incidents(CameraRuntime& rt, const std::string& reason) {
  // Frames that arrived after the workers left still count: analyse them before closing.
  while (auto f = rt.frames.try_pop()) analyse(rt, *f);
  for (const Incident& inc : rt.analysis->close(rt.last_pts, rt.last_wall, reason))
    desk->change(rt, {IncidentPhase::kEnd, inc}, nullptr);
  if (auto inc = rt.tamper.close(rt.last_pts, rt.last_wall, reason))
    desk->change(rt, {IncidentPhase::kEnd, *inc}, nullptr);
  rt.tamper_open.store(false, std::memory_order_relaxed);
  storage_tasks.post([this, raw = &rt, reason] { housekeeping->end_offline(*raw, reason); });
}

void Engine::Impl::stop() {
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

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  stop();
}

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
                                                   std::uint64_t, const std::string& topic,
                                                   const std::string& payload) {
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
    bus->post(kStorageTopic, [n, node](std::uint64_t seq) {
      return storage_event_json(n, seq, node, std::chrono::system_clock::now());
    });
  });

  impl->ready =
      std::make_unique<BoundedQueue<CameraRuntime*>>(std::max<std::size_t>(cfg.cameras.size() + 1, kMaxReadyCameras));
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

std::string Engine::events_endpoint() const {
  return impl_->bus->endpoint();
}
std::string Engine::review_url() const {
  return impl_->review ? impl_->review->url() : std::string();
}
Config Engine::config() const {
  std::lock_guard lock(impl_->cameras_mu);
  return impl_->config;
}

ReloadOutcome Engine::reload(const ConfigLoad& load) {
  return impl_->reload(load);
}

}  // namespace matthan
