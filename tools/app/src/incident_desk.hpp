// IncidentDesk: the one way an incident goes from its source to the wire and the disk, whatever raised it
// (motion, object, rule, tamper on an analysis worker; camera_offline on the storage thread):
//   start  -> snapshot written (before `start` goes out, so its path always exists) -> bus -> clip begun
//   update -> bus (with the snapshot path)
//   end    -> the recorder is told; the `end` goes out when the clip is final (ClipBook)
// Clip bookkeeping and every index write run on the storage thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "camera_runtime.hpp"
#include "matthan/events/event_bus.hpp"
#include "matthan/events/incident.hpp"
#include "matthan/storage/clip_book.hpp"
#include "matthan/storage/clip_ledger.hpp"
#include "matthan/storage/index.hpp"
#include "storage_upkeep.hpp"
#include "task_queue.hpp"

namespace matthan {

class IncidentDesk {
 public:
  IncidentDesk(std::filesystem::path storage_root, Index& index, EventBus& bus, StorageUpkeep& upkeep,
               TaskQueue& storage_tasks, bool trace_latency);

  // Analysis worker holding the camera: a change raised on `frame` (the frame is not needed for an end).
  void change(CameraRuntime& rt, const IncidentChange& change, const Frame* frame);
  // Analysis worker: open incidents for which `frame` is the best view so far get a fresher snapshot.
  void refresh_snapshots(CameraRuntime& rt, const std::vector<Incident>& best, const Frame& frame);
  // Storage thread: a change with no frame behind it (camera_offline).
  void change_now(CameraRuntime& rt, const IncidentChange& change);

  // Storage thread: polls the camera's recorder (flushing at once when asked), records the clips it finished
  // and sends the `end`s that were waiting for them.
  void collect(CameraRuntime& rt, bool flush_now);
  // Storage thread: every `end` still waiting for a clip of this camera (all cameras when empty) goes out
  // without one, saying why.
  void give_up(const std::string& camera, const std::string& why);

  std::uint64_t clips_written() const { return clips_written_.load(std::memory_order_relaxed); }
  std::uint64_t clip_write_errors() const { return clip_write_errors_.load(std::memory_order_relaxed); }

 private:
  struct IncidentEnd {
    Incident incident;
    std::string snapshot;
  };
  using Due = ClipBook<IncidentEnd>::Ready;

  std::string start_snapshot(CameraRuntime& rt, const Incident& incident, const Frame& frame);
  void log_change(CameraRuntime& rt, IncidentPhase phase, const Incident& incident);
  void begin_clip(CameraRuntime& rt, const Incident& incident, const std::string& snapshot);
  void finish_clip(CameraRuntime& rt, const Incident& incident, const std::string& snapshot);
  void record_snapshot(const Incident& incident, const std::string& relative);
  void publish_end(const Due& due);

  const std::filesystem::path root_;
  Index& index_;
  EventBus& bus_;
  StorageUpkeep& upkeep_;
  TaskQueue& storage_tasks_;
  const bool trace_latency_;
  ClipLedger ledger_;           // storage thread only
  ClipBook<IncidentEnd> book_;  // storage thread only
  std::atomic<std::uint64_t> clips_written_{0}, clip_write_errors_{0};
};

}  // namespace matthan
