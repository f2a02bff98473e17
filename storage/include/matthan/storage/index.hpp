// Index: the node's SQLite database of incidents, clips and published events (schema in storage/migrations/).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

// Wall times are stored as whole milliseconds since the Unix epoch: they round-trip at ms precision.
struct IncidentRecord {
  std::string id, camera, kind;
  std::optional<std::string> label;
  double score = 0;
  Box box;
  WallTime started_at{};
  std::optional<WallTime> ended_at;
  std::string snapshot;  // relative to storage root
  std::optional<std::int64_t> clip_id;
  double clip_offset_s = 0;
};

struct ClipRecord {
  std::int64_t id = 0;
  std::string path;  // relative to root
  std::string camera;
  WallTime start{}, end{};
  double duration_s = 0;
  std::uint64_t bytes = 0;
  std::string sha256;  // may be empty for now
  std::string state;   // writing|complete|partial|deleted
};

struct EventRecord {
  std::uint64_t seq = 0;
  std::string topic;
  std::string payload;
  WallTime at{};
};

// Internally mutex-guarded: safe to call from several threads. One connection, WAL journal, so
// readers in other processes (the review server, sqlite3 CLI) do not block the writer.
class Index {
 public:
  static constexpr std::chrono::milliseconds kDefaultBusyTimeout{5000};

  static Result<std::unique_ptr<Index>> open(
      const std::filesystem::path& db_path);  // WAL, busy_timeout, runs migrations
  static Result<std::unique_ptr<Index>> open(const std::filesystem::path& db_path,
                                             std::chrono::milliseconds busy_timeout);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  Result<std::uint64_t> last_event_seq();  // 0 when none
  Status record_event(std::uint64_t seq, const std::string& topic, const std::string& payload, WallTime at);
  // Events with seq > after, oldest first (replay for a subscriber that saw a gap).
  Result<std::vector<EventRecord>> events_after(std::uint64_t after, int limit);
  // Inserts or updates by id; the officers' review state is never touched by an upsert.
  Status upsert_incident(const IncidentRecord& r);
  Result<std::int64_t> add_clip(const ClipRecord& r);               // returns the new id (r.id is ignored)
  Status update_clip(const ClipRecord& r);                          // by r.id; error when no such clip
  Result<std::vector<IncidentRecord>> recent_incidents(int limit);  // newest start first
  Result<std::optional<ClipRecord>> clip(std::int64_t id);
  Result<int> schema_version();

  struct Impl;

 private:
  explicit Index(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
