// Start-up reconcile (recover in-progress clips, match files and rows) and retention (age, quota, free space).
#include "matthan/storage/maintenance.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "matthan/core/time.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/storage/remux.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPartSuffix = ".part";
constexpr const char* kTempSuffix = ".tmp";

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

WallTime plus_seconds(WallTime t, double s) {
  return t + std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(s));
}

// clips/<camera>/<day>/<file>: the camera is the second component.
std::string camera_of(const std::string& rel) {
  const fs::path p(rel);
  auto it = p.begin();
  if (it == p.end() || ++it == p.end()) return "unknown";
  return it->string();
}

WallTime file_mtime(const fs::path& p) {
  std::error_code ec;
  const auto t = fs::last_write_time(p, ec);
  if (ec) return std::chrono::system_clock::now();
  return std::chrono::time_point_cast<WallTime::duration>(std::chrono::file_clock::to_sys(t));
}

struct ClipFiles {
  std::set<std::string> finals;  // relative paths of *.mp4
  std::set<std::string> parts;   // relative paths of the final name, for each *.mp4.part
  std::vector<fs::path> temps;   // *.mp4.tmp (absolute)
};

ClipFiles scan_clips(const fs::path& root) {
  ClipFiles out;
  std::error_code ec;
  const fs::path dir = root / "clips";
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string rel = fs::relative(it->path(), root, ec).string();
    if (ends_with(rel, std::string(".mp4") + kPartSuffix)) {
      out.parts.insert(rel.substr(0, rel.size() - std::string_view(kPartSuffix).size()));
    } else if (ends_with(rel, std::string(".mp4") + kTempSuffix)) {
      out.temps.push_back(it->path());
    } else if (ends_with(rel, ".mp4")) {
      out.finals.insert(rel);
    }
  }
  return out;
}

// Fills a clip row from the playable file at root/rel: real duration, bytes, hash.
// When a clip with no index row began. The recorder names clips `<camera>-YYYYMMDDTHHMMSSZ.mp4` after
// their first packet (UTC), which is the best record; otherwise the file's last write is when it *ended*,
// so its duration is taken off.
WallTime stray_clip_start(const std::string& rel, WallTime last_write, double duration_s) {
  const std::string name = fs::path(rel).stem().string();
  const auto dash = name.rfind('-');
  if (dash != std::string::npos)
    if (auto t = parse_file_stamp(std::string_view(name).substr(dash + 1))) return *t;
  return plus_seconds(last_write, -duration_s);
}

Status describe_file(const fs::path& root, ClipRecord& c) {
  const fs::path file = root / c.path;
  auto info = inspect_clip(file);
  if (!info) return info.error();
  auto hash = sha256_file(file);
  if (!hash) return hash.error();
  std::error_code ec;
  c.duration_s = info->duration_s;
  c.end = plus_seconds(c.start, info->duration_s);
  c.bytes = fs::file_size(file, ec);
  c.sha256 = *hash;
  return {};
}

class Reconciler {
 public:
  Reconciler(const fs::path& root, Index& index, WallTime now) : root_(root), index_(index), now_(now) {}

  Result<ReconcileReport> run() {
    files_ = scan_clips(root_);
    remove_temps();
    if (Status s = recover_writing(); !s) return s.error();
    if (Status s = recover_stray_parts(); !s) return s.error();
    if (Status s = match_rows_and_files(); !s) return s.error();
    if (Status s = check_snapshots(); !s) return s.error();
    return report_;
  }

 private:
  void problem(std::string line) {
    spdlog::warn("reconcile: {}", line);
    report_.problems.push_back(std::move(line));
  }

  void remove_temps() {
    for (const auto& t : files_.temps) {
      std::error_code ec;
      fs::remove(t, ec);
      ++report_.temp_files_removed;
      problem(fmt::format("removed {} (a remux interrupted by the stop; its source is recovered instead)",
                          fs::relative(t, root_, ec).string()));
    }
  }

  // Remuxes root/rel.part to root/rel; fills c. Removes the .part either way (its content is then in the
  // final file, or it had none that could be read).
  Status recover_part(ClipRecord& c) {
    const fs::path final_file = root_ / c.path;
    const fs::path part = fs::path(final_file.string() + kPartSuffix);
    auto r = remux_to_faststart(part, final_file);
    std::error_code ec;
    if (!r) {
      fs::remove(part, ec);
      return r.error();
    }
    fs::remove(part, ec);
    return describe_file(root_, c);
  }

  Status recover_writing() {
    auto writing = index_.clips_in_state(ClipState::kWriting);
    if (!writing) return writing.error();
    for (ClipRecord c : *writing) {
      const bool has_part = files_.parts.erase(c.path) > 0;
      const bool has_final = files_.finals.count(c.path) > 0;
      c.finished_at = now_;
      if (has_part) {
        if (Status s = recover_part(c); s) {
          c.state = ClipState::kPartial;
          c.flag = "recovered after an unclean stop";
          files_.finals.insert(c.path);
          ++report_.recovered_partial;
          problem(fmt::format("{}: recovered {:.1f} s of an interrupted clip; marked partial", c.path, c.duration_s));
        } else {
          c.state = ClipState::kDeleted;
          c.deleted_at = now_;
          c.deleted_reason = "unrecoverable";
          c.flag = s.error().message;
          files_.finals.erase(c.path);
          ++report_.unrecoverable;
          problem(
              fmt::format("{}: interrupted clip had nothing playable ({}); marked deleted", c.path, s.error().message));
        }
      } else if (has_final) {
        // The remux finished and the .part was removed, but the index update did not happen.
        if (Status s = describe_file(root_, c); !s) return s;
        c.state = ClipState::kComplete;
        c.flag = "completed during recovery";
        ++report_.completed;
        problem(fmt::format("{}: clip was final on disk but not in the index; marked complete", c.path));
      } else {
        c.state = ClipState::kDeleted;
        c.deleted_at = now_;
        c.deleted_reason = "missing";
        c.flag = "in-progress file missing at start-up";
        ++report_.missing_files;
        problem(fmt::format("{}: clip being written has no file; marked deleted", c.path));
      }
      if (Status s = index_.update_clip(c); !s) return s;
    }
    return {};
  }

  Status recover_stray_parts() {
    for (const std::string& rel : files_.parts) {
      ClipRecord c;
      c.path = rel;
      c.camera = camera_of(rel);
      const WallTime last_write = file_mtime(root_ / (rel + kPartSuffix));
      c.start = last_write;
      c.finished_at = now_;
      if (Status s = recover_part(c); !s) {
        ++report_.unrecoverable;
        problem(fmt::format("{}: in-progress file with no index row had nothing playable ({}); removed", rel,
                            s.error().message));
        continue;
      }
      // No row says when it began: from its name, else its last write less its duration.
      c.start = stray_clip_start(rel, last_write, c.duration_s);
      c.end = plus_seconds(c.start, c.duration_s);
      c.state = ClipState::kPartial;
      c.flag = "in-progress file with no index row, recovered at start-up";
      if (auto id = index_.add_clip(c); !id) return id.error();
      files_.finals.insert(rel);
      known_.insert(rel);
      ++report_.stray_parts;
      problem(fmt::format("{}: in-progress file with no index row; recovered {:.1f} s, registered as partial", rel,
                          c.duration_s));
    }
    return {};
  }

  Status match_rows_and_files() {
    auto live = index_.live_clips();
    if (!live) return live.error();
    for (ClipRecord c : *live) {
      known_.insert(c.path);
      if (files_.finals.count(c.path) > 0) continue;
      c.state = ClipState::kDeleted;
      c.deleted_at = now_;
      c.deleted_reason = "missing";
      c.flag = "file missing at start-up";
      if (Status s = index_.update_clip(c); !s) return s;
      ++report_.missing_files;
      problem(fmt::format("{}: listed in the index but the file is gone; marked deleted (reason missing)", c.path));
    }
    for (const std::string& rel : files_.finals) {
      if (known_.count(rel) > 0) continue;
      auto existing = index_.clip_by_path(rel);  // a row marked deleted whose file is back (or never went)
      if (!existing) return existing.error();
      if (*existing) {
        ClipRecord c = **existing;
        c.flag = "file present although the clip is marked deleted";
        if (Status s = index_.update_clip(c); !s) return s;
        ++report_.stray_files;
        problem(fmt::format("{}: file exists but its row says deleted; flagged", rel));
        continue;
      }
      ClipRecord c;
      c.path = rel;
      c.camera = camera_of(rel);
      const WallTime last_write = file_mtime(root_ / rel);
      c.start = last_write;
      c.created_at = now_;
      c.finished_at = now_;
      c.state = ClipState::kPartial;
      c.flag = "stray file found at start-up (no index row)";
      if (Status s = describe_file(root_, c); !s) {
        c.flag = fmt::format("stray file found at start-up, not playable: {}", s.error().message);
      }
      c.start = stray_clip_start(rel, last_write, c.duration_s);
      c.end = plus_seconds(c.start, c.duration_s);
      if (auto id = index_.add_clip(c); !id) return id.error();
      ++report_.stray_files;
      problem(fmt::format("{}: file with no index row; registered as partial and flagged", rel));
    }
    return {};
  }

  Status check_snapshots() {
    auto snaps = index_.live_snapshots();
    if (!snaps) return snaps.error();
    for (const auto& s : *snaps) {
      std::error_code ec;
      if (fs::exists(root_ / s.path, ec)) continue;
      if (Status st = index_.mark_snapshot_deleted(s.id, now_); !st) return st;
      ++report_.missing_snapshots;
      problem(fmt::format("{}: snapshot of incident {} is gone; marked deleted", s.path, s.incident_id));
    }
    return {};
  }

  const fs::path root_;
  Index& index_;
  const WallTime now_;
  ClipFiles files_;
  std::set<std::string> known_;
  ReconcileReport report_;
};

}  // namespace

Result<ReconcileReport> reconcile_storage(const fs::path& root, Index& index, WallTime now) {
  auto report = Reconciler(root, index, now).run();
  if (!report) return make_error(fmt::format("reconcile {}: {}", root.string(), report.error().message));
  spdlog::info(
      "reconcile: {} recovered as partial, {} completed, {} unrecoverable, {} missing files, {} stray files, "
      "{} stray in-progress files, {} temporaries removed, {} missing snapshots",
      report->recovered_partial, report->completed, report->unrecoverable, report->missing_files, report->stray_files,
      report->stray_parts, report->temp_files_removed, report->missing_snapshots);
  return report;
}

Result<std::uint64_t> free_space(const fs::path& path) {
  std::error_code ec;
  const auto info = fs::space(path, ec);
  if (ec) return make_error(fmt::format("free space of {}: {}", path.string(), ec.message()));
  return static_cast<std::uint64_t>(info.available);
}

namespace {

class RetentionPass {
 public:
  RetentionPass(const fs::path& root, Index& index, const RetentionPolicy& policy, WallTime now,
                const FreeSpaceProbe& probe)
      : root_(root), index_(index), policy_(policy), now_(now), probe_(probe) {}

  Result<RetentionReport> run() {
    auto used = index_.live_clip_bytes();
    if (!used) return used.error();
    report_.used_bytes = *used;
    auto free = probe_(root_);
    if (!free) return free.error();
    report_.free_bytes = *free;
    constexpr int kBatch = 64;
    for (;;) {
      auto batch = index_.retention_candidates(kBatch);
      if (!batch) return batch.error();
      int deleted_now = 0;
      for (const ClipRecord& c : *batch) {
        const char* reason = reason_to_delete(c);
        if (reason == nullptr) return finish();  // oldest first: once one may stay, later ones may too
        if (Status s = remove(c, reason); !s) {
          ++report_.failures;
          spdlog::error("[{}] retention: {}", c.camera, s.error().message);
          continue;
        }
        ++deleted_now;
      }
      if (deleted_now == 0) return finish();
    }
  }

 private:
  Result<RetentionReport> finish() {
    report_.storage_full = policy_.min_free_bytes > 0 && report_.free_bytes < policy_.min_free_bytes;
    return report_;
  }

  const char* reason_to_delete(const ClipRecord& c) const {
    if (policy_.max_age_days > 0 && c.end < now_ - std::chrono::duration_cast<WallTime::duration>(
                                                       std::chrono::duration<double>(policy_.max_age_days * 86400.0)))
      return "retention: max_age_days";
    if (policy_.max_bytes > 0 && report_.used_bytes > policy_.max_bytes) return "retention: max_bytes";
    if (policy_.min_free_bytes > 0 && report_.free_bytes < policy_.min_free_bytes) return "retention: min_free_bytes";
    return nullptr;
  }

  // The files go first, then the row: a crash in between leaves a row with no file, which reconcile marks
  // deleted; the reverse order could leave an unlisted file.
  Status remove(const ClipRecord& c, const char* reason) {
    auto snaps = index_.snapshots_of_clip(c.id);
    if (!snaps) return snaps.error();
    std::error_code ec;
    fs::remove(root_ / c.path, ec);
    if (ec) return make_error(fmt::format("delete {}: {}", c.path, ec.message()));
    for (const auto& s : *snaps) {
      fs::remove(root_ / s.path, ec);
      if (ec) spdlog::warn("[{}] retention: delete snapshot {}: {}", s.camera, s.path, ec.message());
    }
    if (Status s = index_.mark_clip_deleted(c.id, reason, now_); !s) return s;
    report_.deleted_snapshots += static_cast<int>(snaps->size());
    ++report_.deleted_clips;
    report_.freed_bytes += c.bytes;
    report_.used_bytes -= std::min(report_.used_bytes, c.bytes);
    if (auto free = probe_(root_)) report_.free_bytes = *free;
    spdlog::info("[{}] retention deleted {} ({} bytes, ended {}) and {} snapshot(s): {}", c.camera, c.path, c.bytes,
                 std::chrono::duration_cast<std::chrono::seconds>(c.end.time_since_epoch()).count(), snaps->size(),
                 reason);
    return {};
  }

  const fs::path root_;
  Index& index_;
  const RetentionPolicy policy_;
  const WallTime now_;
  const FreeSpaceProbe& probe_;
  RetentionReport report_;
};

}  // namespace

Result<RetentionReport> run_retention(const fs::path& root, Index& index, const RetentionPolicy& policy, WallTime now,
                                      const FreeSpaceProbe& probe) {
  return RetentionPass(root, index, policy, now, probe).run();
}

}  // namespace matthan
