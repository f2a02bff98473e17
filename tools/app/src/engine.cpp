// Engine: builds the modules for each camera and runs the three kinds of threads.
//   GStreamer threads  -> copy packets into the camera's PacketRing and frames into a 2-deep queue, then return.
//   analysis workers   -> a small pool (about one per core) running motion + incident logic, camera by camera.
//   storage thread     -> clips (remux from the ring), later snapshots, index writes, and `end` events once
//                         the clip is final.
#include "matthan/app/engine.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "camera_analysis.hpp"
#include "event_bus.hpp"
#include "matthan/core/bounded_queue.hpp"
#include "matthan/core/logging.hpp"
#include "matthan/core/time.hpp"
#include "matthan/core/url.hpp"
#include "matthan/detect/motion_detector.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/events/publisher.hpp"
#include "matthan/ingest/gst_source.hpp"
#include "matthan/ingest/supervisor.hpp"
#include "matthan/storage/index.hpp"
#include "matthan/storage/packet_ring.hpp"
#include "matthan/storage/recorder.hpp"
#include "matthan/storage/snapshot.hpp"
#include "task_queue.hpp"

namespace matthan {
namespace {

constexpr auto kStoragePollInterval = std::chrono::milliseconds(100);
constexpr double kSnapshotRefreshSeconds = 1.0;
constexpr double kRingKeyframeMarginSeconds = 15.0;  // covers keyframe intervals up to this long beyond pre-roll

std::string date_folder(WallTime t) { return format_file_stamp(t).substr(0, 8); }

std::vector<SnapshotBox> snapshot_boxes(const Incident& inc) { return {SnapshotBox{inc.box, inc.label.value_or("")}}; }

}  // namespace

// Everything one camera owns. Fields are grouped by the thread that touches them.
struct CameraRuntime {
  CameraConfig cfg;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<PacketRing> ring;
  std::unique_ptr<CameraSupervisor> supervisor;

  // Hand-off from GStreamer threads: at most two frames wait; older ones are dropped and counted.
  BoundedQueue<Frame> frames{2};
  std::atomic<bool> scheduled{false};  // true while the camera is queued for, or held by, a worker

  // Analysis state: touched only by the worker currently holding `scheduled`.
  std::unique_ptr<CameraAnalysis> analysis;
  MediaTimeNs last_pts = 0;
  WallTime last_wall{};
  struct SnapshotState {
    std::string rel;  // relative to the storage root
    MediaTimeNs last_pts = 0;
  };
  std::map<std::string, SnapshotState> snapshots;  // of the open incidents, by incident id

  // Storage state: touched only by the storage thread.
  std::unique_ptr<CameraRecorder> recorder;

  CameraRuntime(const CameraConfig& c, std::unique_ptr<CameraAnalysis> a)
      : cfg(c), log(camera_logger(c.id)), analysis(std::move(a)) {}
};

// An incident whose end waits for its clip to be final, or a clip that finished before its incident ended.
struct PendingEnd {
  std::optional<Incident> incident;
  std::string snapshot;
  std::optional<ClipRef> clip;
  std::optional<std::int64_t> clip_id;
  double clip_offset_s = 0;
  bool clip_done = false;
};

struct Engine::Impl {
  Config config;
  Listener listener;
  std::unique_ptr<Index> index;
  std::unique_ptr<EventPublisher> publisher;
  std::unique_ptr<EventBus> bus;
  std::vector<std::unique_ptr<CameraRuntime>> cameras;

  // Cameras with frames waiting; each appears at most once (sized to the camera count, so never drops).
  std::unique_ptr<BoundedQueue<CameraRuntime*>> ready;
  std::vector<std::thread> workers;
  TaskQueue storage_tasks;
  std::thread storage_thread;
  std::atomic<bool> storage_running{false};
  std::map<std::string, PendingEnd> pending;  // by incident id; storage thread only
  bool started = false;
  bool stopped = false;

  // ---- GStreamer threads ----
  void on_frame(CameraRuntime& rt, Frame f) {
    rt.supervisor->note_frame();
    rt.frames.push(std::move(f));
    if (!rt.scheduled.exchange(true)) ready->push(&rt);
  }

  // ---- analysis workers ----
  void worker_loop() {
    while (true) {
      auto next = ready->pop_for(std::chrono::milliseconds(200));
      if (!next) {
        if (ready->closed()) return;
        continue;
      }
      CameraRuntime& rt = **next;
      while (auto frame = rt.frames.try_pop()) analyse(rt, *frame);
      rt.scheduled = false;
      // A frame may have arrived between the last try_pop and clearing the flag.
      if (rt.frames.size() > 0 && !rt.scheduled.exchange(true)) ready->push(&rt);
    }
  }

  void analyse(CameraRuntime& rt, const Frame& frame) {
    const AnalysisOutput out = rt.analysis->process(frame);
    rt.last_pts = frame.pts;
    rt.last_wall = frame.wall;
    for (const auto& [phase, inc] : out.events) handle_phase(rt, phase, inc, frame);
    for (const Incident& inc : out.best_frame) {
      auto it = rt.snapshots.find(inc.id);
      if (it != rt.snapshots.end() && media_seconds(frame.pts - it->second.last_pts) >= kSnapshotRefreshSeconds)
        queue_snapshot(rt, frame, inc, it->second);
    }
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
        rt.log->info("incident {} started ({}{})", inc.id, inc.kind, inc.label ? " " + *inc.label : "");
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
    storage_tasks.post([this, &rt, frame, boxes = snapshot_boxes(inc), rel = snap.rel] {
      if (auto st = write_snapshot(frame, boxes, config.storage_root / rel); !st.ok())
        rt.log->warn("snapshot {} refresh failed: {}", rel, st.error().message);
    });
  }

  // ---- storage thread ----
  void storage_loop() {
    while (storage_running) {
      storage_tasks.run_pending(kStoragePollInterval);
      for (auto& rt : cameras) collect(*rt, rt->recorder->poll(false));
    }
    storage_tasks.run_pending(std::chrono::milliseconds(0));
  }

  void begin_clip(CameraRuntime& rt, const Incident& inc, const std::string& snapshot) {
    IncidentRecord rec = record_of(inc, snapshot);
    if (auto st = index->upsert_incident(rec); !st.ok()) rt.log->error("index: {}", st.error().message);
    if (auto st = rt.recorder->begin(inc.id, inc.start_pts); !st.ok()) {
      rt.log->error("clip for incident {} could not start: {}", inc.id, st.error().message);
      pending[inc.id].clip_done = true;  // the end goes out without a clip rather than waiting for ever
    }
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
        ClipRecord cr;
        cr.path = fc.relative_path;
        cr.camera = rt.cfg.id;
        cr.start = fc.summary->first_wall;
        cr.end = fc.summary->end_wall;
        cr.duration_s = fc.summary->duration_s;
        cr.bytes = fc.summary->bytes;
        cr.state = "complete";
        if (auto id = index->add_clip(cr); id.ok()) clip_id = id.value();
        else rt.log->error("index: clip {} not recorded: {}", fc.relative_path, id.error().message);
        rt.log->info("clip {} finished: {:.1f} s, {} bytes", fc.relative_path, fc.summary->duration_s, fc.summary->bytes);
      } else {
        rt.log->error("clip for incidents [{}] failed: {}", fmt::join(fc.incident_ids, ", "),
                      fc.status.ok() ? "no packets" : fc.status.error().message);
      }
      for (std::size_t i = 0; i < fc.incident_ids.size(); ++i) {
        PendingEnd& p = pending[fc.incident_ids[i]];
        p.clip = ref;
        p.clip_id = clip_id;
        p.clip_offset_s = i < fc.offsets_s.size() ? fc.offsets_s[i] : 0.0;
        p.clip_done = true;
        if (p.incident) publish_end(fc.incident_ids[i]);
      }
    }
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
    bus->publish_incident(*p.incident, IncidentPhase::kEnd, p.snapshot, p.clip);
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

  // ---- lifecycle ----
  Status build_camera(const CameraConfig& c) {
    auto analysis = CameraAnalysis::create(c);
    if (!analysis.ok()) return analysis.error();
    auto rt = std::make_unique<CameraRuntime>(c, std::move(analysis.value()));
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
    so.latency_ms = c.rtsp_latency_ms;
    CameraRuntime* raw = rt.get();
    auto factory = [this, raw, so]() {
      SourceSink sink;
      sink.on_packet = [raw](EncodedPacket p) {
        raw->supervisor->note_packet();
        raw->ring->push(std::move(p));
      };
      sink.on_frame = [this, raw](Frame f) { on_frame(*raw, std::move(f)); };
      return make_gst_source(raw->cfg.id, so, std::move(sink));
    };
    rt->supervisor = std::make_unique<CameraSupervisor>(c.id, factory, BackoffPolicy{}, [](const CameraHealth&) {});
    rt->log->info("camera '{}' at {}: detect {}x{} @ {} fps, {}, pre-roll {} s, post-roll {} s", c.name,
                  redact_url(c.url), c.detect.width, c.detect.height, c.detect.fps, rt->analysis->describe(),
                  c.clip.pre_roll, c.clip.post_roll);
    cameras.push_back(std::move(rt));
    return {};
  }

  void start() {
    storage_running = true;
    storage_thread = std::thread([this] { storage_loop(); });
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const unsigned n = std::clamp<unsigned>(cores, 1, 4);
    for (unsigned i = 0; i < n; ++i) workers.emplace_back([this] { worker_loop(); });
    for (auto& rt : cameras) rt->supervisor->start();
    spdlog::info("engine '{}' running {} camera(s) with {} analysis worker(s); events on {}", config.node,
                 cameras.size(), n, publisher->endpoint());
  }

  void stop() {
    spdlog::info("stopping: cameras first, then open incidents and clips");
    for (auto& rt : cameras) rt->supervisor->stop();
    ready->close();
    for (auto& w : workers) w.join();
    workers.clear();
    for (auto& rt : cameras) {
      // Frames that arrived after the workers left still count: analyse them before closing.
      while (auto f = rt->frames.try_pop()) analyse(*rt, *f);
      for (const Incident& inc : rt->analysis->close(rt->last_pts, rt->last_wall, "shutdown")) end_incident(*rt, inc);
    }
    storage_tasks.post([this] {
      for (auto& rt : cameras) collect(*rt, rt->recorder->poll(true));
      for (auto& [id, p] : pending) {
        if (p.incident) spdlog::warn("incident {} ends without a clip", id);
      }
      std::vector<std::string> left;
      for (auto& [id, p] : pending) if (p.incident) left.push_back(id);
      for (auto& id : left) publish_end(id);
    });
    storage_running = false;
    if (storage_thread.joinable()) storage_thread.join();
    publisher->stop();
    spdlog::info("stopped cleanly");
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() { stop(); }

Result<std::unique_ptr<Engine>> Engine::create(Config config, Listener listener) {
  ensure_gstreamer_initialized();
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->listener = std::move(listener);
  const Config& cfg = impl->config;

  std::error_code ec;
  std::filesystem::create_directories(cfg.storage_root, ec);
  if (ec) return make_error(fmt::format("cannot create storage root {}: {}", cfg.storage_root.string(), ec.message()));
  auto index = Index::open(cfg.storage_root / "index.db");
  if (!index.ok()) return index.error();
  impl->index = std::move(index.value());
  auto last_seq = impl->index->last_event_seq();
  if (!last_seq.ok()) return last_seq.error();

  auto pub = EventPublisher::bind(cfg.events_bind);
  if (!pub.ok()) return make_error(fmt::format("events.bind {}: {}", cfg.events_bind, pub.error().message));
  impl->publisher = std::move(pub.value());
  impl->bus = std::make_unique<EventBus>(cfg.node, *impl->index, *impl->publisher, last_seq.value(), impl->listener);

  impl->ready = std::make_unique<BoundedQueue<CameraRuntime*>>(cfg.cameras.size() + 1);
  for (const auto& c : cfg.cameras) {
    if (auto st = impl->build_camera(c); !st.ok()) return st.error();
  }
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
const Config& Engine::config() const { return impl_->config; }

}  // namespace matthan
