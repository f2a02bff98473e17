// ClipLedger: clip rows from opened to complete, partial or deleted.
#include "matthan/storage/clip_ledger.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "matthan/core/logging.hpp"

namespace matthan {

void ClipLedger::note(const std::string& camera, const RecorderNotes& notes) {
  const auto log = camera_logger(camera);
  for (const auto& o : notes.opened) {
    ClipRecord cr;
    cr.path = o.relative_path;
    cr.camera = camera;
    cr.start = o.first_wall;
    cr.end = o.first_wall;
    cr.requested_start = o.requested_start;
    cr.created_at = std::chrono::system_clock::now();
    cr.state = ClipState::kWriting;
    if (auto id = index_.add_clip(cr); id.ok())
      writing_[o.relative_path] = id.value();
    else
      log->error("index: clip {} not recorded: {}", o.relative_path, id.error().message);
    if (o.requested_start && o.first_wall > *o.requested_start)
      log->warn("clip {} starts {:.1f} s after start - pre_roll: the ring held no older keyframe", o.relative_path,
                std::chrono::duration<double>(o.first_wall - *o.requested_start).count());
  }
  for (const auto& l : notes.links) {
    auto it = writing_.find(l.relative_path);
    if (it == writing_.end()) continue;
    if (auto st = index_.link_incident_clip(l.incident_id, it->second, l.offset_s); !st.ok())
      log->error("index: {}", st.error().message);
  }
}

std::optional<ClipPlace> ClipLedger::finished(const std::string& camera, const FinishedClip& fc) {
  if (!fc.status.ok() || !fc.summary) {
    record_failed(camera, fc);
    return std::nullopt;
  }
  ClipPlace place;
  place.relative_path = fc.relative_path;
  place.start = fc.summary->first_wall;
  place.end = fc.summary->end_wall;
  place.duration_s = fc.summary->duration_s;
  place.clip_id = record_finished(camera, fc);
  return place;
}

std::optional<std::int64_t> ClipLedger::record_finished(const std::string& camera, const FinishedClip& fc) {
  const auto log = camera_logger(camera);
  ClipRecord cr;
  const auto known = writing_.find(fc.relative_path);
  if (known != writing_.end()) {
    if (auto existing = index_.clip(known->second); existing.ok() && existing.value()) cr = *existing.value();
    writing_.erase(known);
  }
  cr.path = fc.relative_path;
  cr.camera = camera;
  cr.start = fc.summary->first_wall;
  cr.end = fc.summary->end_wall;
  cr.duration_s = fc.summary->duration_s;
  cr.bytes = fc.summary->bytes;
  cr.sha256 = fc.summary->sha256;
  cr.finished_at = std::chrono::system_clock::now();
  cr.state = ClipState::kComplete;
  if (!fc.summary->not_finalised.empty()) {  // it plays, but it is not the +faststart file a complete clip is
    cr.state = ClipState::kPartial;
    cr.flag = "kept fragmented (not remuxed): " + fc.summary->not_finalised;
    log->warn("clip {} kept as a fragmented MP4 and marked partial: {}", fc.relative_path, fc.summary->not_finalised);
  }
  if (cr.id != 0) {
    if (auto st = index_.update_clip(cr); !st.ok()) {
      log->error("index: clip {} not recorded: {}", fc.relative_path, st.error().message);
      return std::nullopt;
    }
    return cr.id;
  }
  if (auto id = index_.add_clip(cr); id.ok())
    return id.value();
  else
    log->error("index: clip {} not recorded: {}", fc.relative_path, id.error().message);
  return std::nullopt;
}

// The writer removed its file; the row must not stay `writing` (nor ever say complete).
void ClipLedger::record_failed(const std::string& camera, const FinishedClip& fc) {
  const auto known = writing_.find(fc.relative_path);
  if (known == writing_.end()) return;
  auto existing = index_.clip(known->second);
  writing_.erase(known);
  if (!existing.ok() || !existing.value()) return;
  ClipRecord cr = *existing.value();
  cr.state = ClipState::kDeleted;
  cr.deleted_at = std::chrono::system_clock::now();
  cr.deleted_reason = "write failed";
  cr.flag = fc.status.ok() ? "no packets" : fc.status.error().message;
  if (auto st = index_.update_clip(cr); !st.ok()) camera_logger(camera)->error("index: {}", st.error().message);
}

}  // namespace matthan
