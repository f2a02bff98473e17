// StorageUpkeep: the engine's start-up reconcile, periodic retention and the storage_full gate for new clips.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "matthan/app/config.hpp"
#include "matthan/core/result.hpp"
#include "matthan/events/node_events.hpp"
#include "matthan/storage/index.hpp"
#include "matthan/storage/maintenance.hpp"

namespace matthan {

// Driven by the storage thread only (start_up runs before any thread starts); counters are atomics so
// other threads may read them.
class StorageUpkeep {
 public:
  using Notify = std::function<void(const StorageNotice&)>;

  StorageUpkeep(std::filesystem::path root, Index& index, RetentionSettings settings,
                FreeSpaceProbe probe = free_space);

  // Reconcile then one retention pass. Errors only when the index itself fails.
  Status start_up();
  // Runs retention when its interval has passed (or at once when `force`).
  void tick(bool force = false);
  // Whether a new clip may start now. When the free-space floor is not met it first runs retention; if that
  // cannot make room the clip is refused: logged with the camera and counted.
  bool admit_clip(const std::string& camera, const std::string& incident_id);

  // Where the storage_full transitions and each refused clip are reported, besides the log. Set it before
  // the storage thread starts; when the disk is already full, it is told so at once.
  void set_notify(Notify notify);

  bool storage_full() const { return full_.load(); }
  // Free bytes on the storage root's filesystem now; nullopt when it cannot be read.
  std::optional<std::uint64_t> free_bytes() const;
  std::uint64_t clips_refused() const { return refused_.load(); }
  std::uint64_t clips_deleted() const { return deleted_.load(); }
  // Bytes of clips kept: as the last retention pass counted them, plus clips finished since.
  std::uint64_t clip_bytes() const { return clip_bytes_.load(); }
  void note_clip_written(std::uint64_t bytes) { clip_bytes_ += bytes; }

 private:
  void retention_pass();
  void set_full(bool full, std::uint64_t free_bytes);

  const std::filesystem::path root_;
  Index& index_;
  const RetentionSettings settings_;
  const FreeSpaceProbe probe_;
  Notify notify_;
  std::chrono::steady_clock::time_point last_pass_{};
  std::atomic<bool> full_{false};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> deleted_{0};
  std::atomic<std::uint64_t> clip_bytes_{0};
};

}  // namespace matthan
