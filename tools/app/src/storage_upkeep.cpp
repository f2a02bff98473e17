// StorageUpkeep: reconcile at start-up, retention on the storage thread, refusing clips cleanly when full.
#include "storage_upkeep.hpp"

#include <spdlog/spdlog.h>

namespace matthan {

StorageUpkeep::StorageUpkeep(std::filesystem::path root, Index& index, RetentionSettings settings, FreeSpaceProbe probe)
    : root_(std::move(root)), index_(index), settings_(settings), probe_(std::move(probe)) {}

Status StorageUpkeep::start_up() {
  auto report = reconcile_storage(root_, index_, std::chrono::system_clock::now());
  if (!report) return make_error(report.error().message);
  tick(true);
  return {};
}

void StorageUpkeep::tick(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_pass_ < std::chrono::duration<double>(settings_.interval_s)) return;
  last_pass_ = now;
  retention_pass();
}

void StorageUpkeep::retention_pass() {
  RetentionPolicy policy;
  policy.max_age_days = settings_.max_age_days;
  policy.max_bytes = settings_.max_bytes;
  policy.min_free_bytes = settings_.min_free_bytes;
  auto report = run_retention(root_, index_, policy, std::chrono::system_clock::now(), probe_);
  if (!report) {
    spdlog::error("retention: {}", report.error().message);
    return;
  }
  deleted_ += static_cast<std::uint64_t>(report->deleted_clips);
  clip_bytes_ = report->used_bytes;
  if (report->deleted_clips > 0)
    spdlog::info("retention: deleted {} clip(s) and {} snapshot(s), freed {} bytes; {} bytes of clips kept, {} free",
                 report->deleted_clips, report->deleted_snapshots, report->freed_bytes, report->used_bytes,
                 report->free_bytes);
  set_full(report->storage_full, report->free_bytes);
}

void StorageUpkeep::set_notify(Notify notify) {
  notify_ = std::move(notify);
  if (notify_ && full_)
    notify_(StorageNotice{StorageNotice::Kind::kFull, free_bytes(), settings_.min_free_bytes, refused_, {}, {}});
}

std::optional<std::uint64_t> StorageUpkeep::free_bytes() const {
  auto free = probe_(root_);
  if (!free) return std::nullopt;
  return *free;
}

void StorageUpkeep::set_full(bool full, std::uint64_t free_bytes) {
  const bool was = full_.exchange(full);
  if (full != was && notify_)
    notify_(StorageNotice{full ? StorageNotice::Kind::kFull : StorageNotice::Kind::kRoom,
                          free_bytes,
                          settings_.min_free_bytes,
                          refused_,
                          {},
                          {}});
  if (full && !was)
    spdlog::error(
        "storage_full: {} bytes free under {} (floor {}), and nothing left that retention may delete; "
        "new clips are refused until space returns, detection and events go on",
        free_bytes, root_.string(), settings_.min_free_bytes);
  if (!full && was) spdlog::warn("storage has room again ({} bytes free): recording resumes", free_bytes);
}

bool StorageUpkeep::admit_clip(const std::string& camera, const std::string& incident_id) {
  if (settings_.min_free_bytes > 0) {
    auto free = probe_(root_);
    if (free && *free < settings_.min_free_bytes) {
      retention_pass();  // make room now rather than at the next tick
    } else if (free) {
      set_full(false, *free);
    }
  }
  if (!full_) return true;
  const auto n = ++refused_;
  spdlog::error("[{}] clip for incident {} refused: storage_full ({} refused so far)", camera, incident_id, n);
  if (notify_)
    notify_(StorageNotice{StorageNotice::Kind::kClipRefused, free_bytes(), settings_.min_free_bytes, n, camera,
                          incident_id});
  return false;
}

}  // namespace matthan
