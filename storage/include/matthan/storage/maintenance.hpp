// Storage upkeep: start-up recovery and reconcile of files against the index, and the retention pass.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"
#include "matthan/storage/index.hpp"

namespace matthan {

// What start-up found and did. Every problem is also logged; nothing is dropped without a line here.
struct ReconcileReport {
  int recovered_partial = 0;          // clips being written at the crash, remuxed and marked partial
  int completed = 0;                  // clips whose final file was already in place (crash just before the update)
  int unrecoverable = 0;              // in-progress clips with nothing readable: marked deleted, reason recorded
  int missing_files = 0;              // rows whose file is gone: marked deleted (reason "missing")
  int stray_files = 0;                // clip files with no row: registered as partial, flagged
  int stray_parts = 0;                // in-progress files with no row: recovered and registered as partial
  int temp_files_removed = 0;         // half-written remux temporaries (*.tmp) from an interrupted finish
  int missing_snapshots = 0;          // snapshot rows whose file is gone: marked deleted
  std::vector<std::string> problems;  // one line per file that was fixed or flagged
  int total() const {
    return recovered_partial + completed + unrecoverable + missing_files + stray_files + stray_parts +
           temp_files_removed + missing_snapshots;
  }
};

// Makes the index and the clips folder agree, after a crash or files changed behind the engine's back:
// - `writing` rows: remux what reached the disk to a playable MP4, state partial with its real duration
//   and SHA-256 (or deleted + flagged when nothing is readable); no *.part or *.tmp is left behind;
// - rows with no file: state deleted, reason "missing"; files with no row: registered as partial + flagged.
// Run before recording starts (it must not race the recorder).
Result<ReconcileReport> reconcile_storage(const std::filesystem::path& root, Index& index, WallTime now);

struct RetentionPolicy {
  double max_age_days = 0;           // 0: no age limit
  std::uint64_t max_bytes = 0;       // 0: no quota (bytes of clips)
  std::uint64_t min_free_bytes = 0;  // free space floor on the filesystem holding the root
};

struct RetentionReport {
  int deleted_clips = 0;
  int deleted_snapshots = 0;
  std::uint64_t freed_bytes = 0;
  std::uint64_t used_bytes = 0;  // clips not deleted, after the pass
  std::uint64_t free_bytes = 0;  // on the filesystem, after the pass
  bool storage_full = false;     // still under min_free_bytes and nothing more may be deleted
  int failures = 0;              // files that could not be removed (logged; the row is kept)
};

// Available bytes on the filesystem holding `path` (statvfs); injectable for tests.
using FreeSpaceProbe = std::function<Result<std::uint64_t>(const std::filesystem::path&)>;
Result<std::uint64_t> free_space(const std::filesystem::path& path);

// Deletes clips oldest first while any limit is exceeded: never one held as evidence, never one being
// written. A clip's snapshots go with it. Every deletion is recorded in the index (state deleted, when,
// reason) and logged.
Result<RetentionReport> run_retention(const std::filesystem::path& root, Index& index, const RetentionPolicy& policy,
                                      WallTime now, const FreeSpaceProbe& probe = free_space);

}  // namespace matthan
