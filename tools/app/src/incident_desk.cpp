// IncidentDesk: snapshot, bus, clip and the `end` once its clip is final, for every incident source.
#include "incident_desk.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "matthan/core/time.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/storage/snapshot.hpp"

namespace matthan {
namespace {

constexpr double kSnapshotRefreshSeconds = 1.0;
// Snapshot refreshes of one camera waiting for the storage thread: each holds a decoded frame (1.4 MB at
// 720p), so when the storage thread falls behind (a starved machine) a refresh is skipped and counted
// instead of queued (health counter snapshots_skipped). The first snapshot, written before `start`, is not.
constexpr int kMaxPendingSnapshots = 1;

// The same YYYY-MM-DD (UTC) folder naming as the clips use.
std::string date_folder(WallTime t) {
  const std::string s = format_file_stamp(t);
  return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2);
}

// A tamper snapshot shows the tampered view as it is; the others outline what moved, with its label.
std::vector<SnapshotBox> snapshot_boxes(const Incident& inc) {
  if (inc.kind == IncidentKind::kTamper) return {};
  return {SnapshotBox{inc.box, inc.label.value_or("")}};
}

IncidentRecord record_of(const Incident& inc, const std::string& snapshot) {
  IncidentRecord r;
  r.id = inc.id;
  r.camera = inc.camera;
  r.kind = to_string(inc.kind);
  r.label = inc.label;
  r.score = inc.score;
  r.box = inc.box;
  r.started_at = inc.started_at;
  r.ended_at = inc.ended_at;
  r.snapshot = snapshot;
  return r;
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

IncidentDesk::IncidentDesk(std::filesystem::path storage_root, Index& index, EventBus& bus, StorageUpkeep& upkeep,
                           TaskQueue& storage_tasks, bool trace_latency)
    : root_(std::move(storage_root)),
      index_(index),
      bus_(bus),
      upkeep_(upkeep),
      storage_tasks_(storage_tasks),
      trace_latency_(trace_latency),
      ledger_(index) {}

void IncidentDesk::change(CameraRuntime& rt, const IncidentChange& change, const Frame* frame) {
  const Incident& inc = change.incident;
  log_change(rt, change.phase, inc);
  switch (change.phase) {
    case IncidentPhase::kStart: {
      const std::string snapshot = frame != nullptr ? start_snapshot(rt, inc, *frame) : std::string();
      bus_.post_incident(inc, IncidentPhase::kStart, snapshot, std::nullopt);
      if (trace_latency_)
        if (const auto arrived = rt.arrival_of(inc.started_at))
          rt.log->info("incident {} latency: first frame arrived {} published {} (unix ms)", inc.id, unix_ms(*arrived),
                       unix_ms(std::chrono::system_clock::now()));
      storage_tasks_.post([this, &rt, inc, snapshot] { begin_clip(rt, inc, snapshot); });
      break;
    }
    case IncidentPhase::kUpdate: {
      const auto it = rt.snapshots.find(inc.id);
      bus_.post_incident(inc, IncidentPhase::kUpdate, it != rt.snapshots.end() ? it->second.rel : "", std::nullopt);
      break;
    }
    case IncidentPhase::kEnd: {
      auto snap = rt.snapshots.extract(inc.id);
      storage_tasks_.post(
          [this, &rt, inc, snapshot = snap ? snap.mapped().rel : std::string()] { finish_clip(rt, inc, snapshot); });
      break;
    }
  }
  rt.analysis_open.store(static_cast<int>(rt.snapshots.size()), std::memory_order_relaxed);
}

void IncidentDesk::change_now(CameraRuntime& rt, const IncidentChange& change) {
  const IncidentPhase phase = change.phase;
  const Incident& inc = change.incident;
  log_change(rt, phase, inc);
  if (phase == IncidentPhase::kStart) {
    bus_.post_incident(inc, phase, "", std::nullopt);
    begin_clip(rt, inc, "");
  } else if (phase == IncidentPhase::kEnd) {
    finish_clip(rt, inc, "");
  } else {
    bus_.post_incident(inc, phase, "", std::nullopt);
  }
}

void IncidentDesk::log_change(CameraRuntime& rt, IncidentPhase phase, const Incident& inc) {
  const bool start = phase == IncidentPhase::kStart;
  if (phase == IncidentPhase::kUpdate) return;
  if (inc.kind == IncidentKind::kTamper) {
    if (start)
      rt.log->warn("tamper ({}): incident {} started", inc.label.value_or("?"), inc.id);
    else
      rt.log->info("tamper ({}) over ({}): incident {} ends, finishing its clip", inc.label.value_or("?"),
                   inc.end_reason, inc.id);
  } else if (inc.kind == IncidentKind::kCameraOffline) {
    if (start)
      rt.log->warn("camera offline for more than {:.0f} s: incident {} started", rt.cfg.offline_after, inc.id);
    else
      rt.log->info("camera back ({}): incident {} ends, finishing its clip", inc.end_reason, inc.id);
  } else if (start) {
    rt.log->info("incident {} started ({}{})", inc.id, to_string(inc.kind), inc.label ? " " + *inc.label : "");
  } else {
    rt.log->info("incident {} ended ({}), finishing its clip", inc.id, inc.end_reason);
  }
}

// The first snapshot is written before `start` goes out, so the path in the event always exists.
std::string IncidentDesk::start_snapshot(CameraRuntime& rt, const Incident& inc, const Frame& frame) {
  auto& snap = rt.snapshots[inc.id];
  snap.rel = fmt::format("snapshots/{}/{}/{}.jpg", rt.cfg.id, date_folder(inc.started_at), inc.id);
  if (auto st = write_snapshot(frame, snapshot_boxes(inc), root_ / snap.rel); !st.ok())
    rt.log->error("snapshot {} failed: {}", snap.rel, st.error().message);
  snap.last_pts = frame.pts;
  return snap.rel;
}

void IncidentDesk::refresh_snapshots(CameraRuntime& rt, const std::vector<Incident>& best, const Frame& frame) {
  for (const Incident& inc : best) {
    auto it = rt.snapshots.find(inc.id);
    if (it == rt.snapshots.end() || media_seconds(frame.pts - it->second.last_pts) < kSnapshotRefreshSeconds) continue;
    it->second.last_pts = frame.pts;
    if (rt.snapshots_pending.load(std::memory_order_acquire) >= kMaxPendingSnapshots) {
      rt.snapshots_skipped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    rt.snapshots_pending.fetch_add(1, std::memory_order_acq_rel);
    storage_tasks_.post([this, &rt, frame, boxes = snapshot_boxes(inc), rel = it->second.rel] {
      if (auto st = write_snapshot(frame, boxes, root_ / rel); !st.ok())
        rt.log->warn("snapshot {} refresh failed: {}", rel, st.error().message);
      rt.snapshots_pending.fetch_sub(1, std::memory_order_acq_rel);
    });
  }
}

void IncidentDesk::begin_clip(CameraRuntime& rt, const Incident& inc, const std::string& snapshot) {
  if (auto st = index_.upsert_incident(record_of(inc, snapshot)); !st.ok())
    rt.log->error("index: {}", st.error().message);
  record_snapshot(inc, snapshot);
  // A clip joining one already open costs no new space; a new one needs room on the disk.
  if (!rt.recorder->recording() && !upkeep_.admit_clip(rt.cfg.id, inc.id)) {
    book_.no_clip(inc.id, "storage full: new clips are refused until space returns");  // the end goes out without
    return;
  }
  if (auto st = rt.recorder->begin(inc.id, inc.start_pts); !st.ok()) {
    rt.log->error("clip for incident {} could not start: {}", inc.id, st.error().message);
    book_.no_clip(inc.id, st.error().message);  // the end goes out without a clip rather than waiting for ever
  }
  ledger_.note(rt.cfg.id, rt.recorder->take_notes());
}

void IncidentDesk::finish_clip(CameraRuntime& rt, const Incident& inc, const std::string& snapshot) {
  rt.recorder->end(inc.id, inc.end_pts);
  if (auto due = book_.incident_ended(inc.id, {inc, snapshot})) publish_end(*due);
}

void IncidentDesk::record_snapshot(const Incident& inc, const std::string& rel) {
  if (rel.empty()) return;
  SnapshotRecord s;
  s.incident_id = inc.id;
  s.camera = inc.camera;
  s.path = rel;
  s.taken_at = inc.started_at;
  std::error_code ec;
  s.bytes = std::filesystem::file_size(root_ / rel, ec);
  if (ec) return;  // the snapshot failed to write (logged where it was written)
  if (auto h = sha256_file(root_ / rel)) s.sha256 = *h;
  if (auto id = index_.upsert_snapshot(s); !id.ok()) camera_logger(inc.camera)->error("index: {}", id.error().message);
}

void IncidentDesk::collect(CameraRuntime& rt, bool flush_now) {
  const std::vector<FinishedClip> finished = rt.recorder->poll(flush_now);
  ledger_.note(rt.cfg.id, rt.recorder->take_notes());
  for (const auto& fc : finished) {
    const std::optional<ClipPlace> place = ledger_.finished(rt.cfg.id, fc);
    if (place) {
      clips_written_.fetch_add(1, std::memory_order_relaxed);
      upkeep_.note_clip_written(fc.summary->bytes);
      rt.log->info("clip {} finished: {:.1f} s, {} bytes, sha256 {}", fc.relative_path, fc.summary->duration_s,
                   fc.summary->bytes, fc.summary->sha256);
    } else {
      rt.log->error("clip for incidents [{}] failed: {}", fmt::join(fc.incident_ids, ", "),
                    fc.status.ok() ? "no packets" : fc.status.error().message);
      clip_write_errors_.fetch_add(1, std::memory_order_relaxed);
    }
    const std::string error =
        place ? "" : (fc.status.ok() ? "no video packets were received" : fc.status.error().message);
    for (const auto& due : book_.clip_finished(fc.incident_ids, fc.offsets_s, place, error)) publish_end(due);
  }
}

void IncidentDesk::give_up(const std::string& camera, const std::string& why) {
  const auto of_camera = [&](const IncidentEnd& e) { return camera.empty() || e.incident.camera == camera; };
  for (const auto& due : book_.give_up(of_camera, why)) {
    spdlog::warn("[{}] incident {} ends without a clip", due.end.incident.camera, due.incident_id);
    publish_end(due);
  }
}

void IncidentDesk::publish_end(const Due& due) {
  const Incident& inc = due.end.incident;
  IncidentRecord rec = record_of(inc, due.end.snapshot);
  std::optional<ClipRef> clip;
  if (const auto& place = due.outcome.clip) {
    rec.clip_id = place->clip_id;
    rec.clip_offset_s = place->offset_s;
    clip = ClipRef{place->relative_path, place->start, place->end, place->duration_s};
  }
  if (auto st = index_.upsert_incident(rec); !st.ok()) spdlog::error("[{}] index: {}", inc.camera, st.error().message);
  record_snapshot(inc, due.end.snapshot);  // refreshed while the incident lasted: record the final one
  bus_.post_incident(inc, IncidentPhase::kEnd, due.end.snapshot, clip, due.outcome.error);
}

}  // namespace matthan
