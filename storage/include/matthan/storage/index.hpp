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
#include "matthan/storage/clip_state.hpp"

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
  std::string sha256;  // hex SHA-256 of the finished file ('' while writing)
  ClipState state = ClipState::kWriting;
  // Schema v2. start/end above are the clip's real first/last instants; requested_start is
  // incident start - pre_roll (the clip must start at or before it when the ring held that keyframe).
  std::optional<WallTime> requested_start;
  std::optional<WallTime> created_at, finished_at, deleted_at;
  std::string deleted_reason;  // retention | reconcile | operator ... ('' when not deleted)
  std::string flag;            // what reconcile/recovery found wrong ('' when nothing)
};

struct SnapshotRecord {
  std::int64_t id = 0;
  std::string incident_id;
  std::string camera;
  std::string path;  // relative to root
  WallTime taken_at{};
  std::uint64_t bytes = 0;
  std::string sha256;
  std::string state = "present";  // present|deleted
  std::optional<WallTime> deleted_at;
};

// The officers' review of one incident. An incident never reviewed reads as state "new", no evidence.
struct ReviewRecord {
  std::string incident_id;
  std::string state = "new";  // new|reviewed|false_alarm
  bool evidence = false;      // held as evidence: retention never deletes its clip or snapshot
  std::string note;
  std::string updated_by;
  std::optional<WallTime> updated_at;
};

// Filter for Index::incidents(). Every set field narrows the result; newest start first, ties by id
// descending. Paging: pass the previous page's `next` as `before`.
struct IncidentCursor {
  WallTime started_at{};
  std::string id;
};
struct IncidentQuery {
  std::optional<std::string> camera, kind, label;
  std::optional<WallTime> from;             // started_at >= from
  std::optional<WallTime> to;               // started_at < to
  std::optional<std::string> review_state;  // new|reviewed|false_alarm
  std::optional<bool> evidence;
  int limit = 50;                        // clamped to 1..1000
  std::optional<IncidentCursor> before;  // only incidents strictly after this one in the order
};
struct IncidentView {
  IncidentRecord incident;
  ReviewRecord review;
  std::optional<ClipRecord> clip;          // the clip holding the incident's start (any state)
  std::optional<SnapshotRecord> snapshot;  // from the snapshots table
};
struct IncidentPage {
  std::vector<IncidentView> items;
  std::optional<IncidentCursor> next;  // set when a further page may exist
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

  // ---- schema v2: review, evidence, filtered queries ----
  // Sets the review state (new|reviewed|false_alarm) and note; logs the change in review_log. Error when
  // the incident does not exist or the state is not one of the three.
  Status set_review(const std::string& incident_id, const std::string& state, const std::string& note,
                    const std::string& user, WallTime at);
  // Places (hold = true) or releases an evidence hold; a non-empty note replaces the review note, an empty
  // one keeps it (a hold is often placed without a word, and must not wipe what the officer wrote). Logged too.
  Status set_evidence(const std::string& incident_id, bool hold, const std::string& note, const std::string& user,
                      WallTime at);
  // The incident's review (the default "new" record when never reviewed); nullopt when no such incident.
  Result<std::optional<ReviewRecord>> review(const std::string& incident_id);
  Result<IncidentPage> incidents(const IncidentQuery& q);
  // Inserts or replaces the snapshot row of r.incident_id (one per incident); returns its id.
  Result<std::int64_t> upsert_snapshot(const SnapshotRecord& r);

  // ---- clip lifecycle, reconcile and retention ----
  Result<std::optional<ClipRecord>> clip_by_path(const std::string& path);
  Result<std::vector<ClipRecord>> clips_in_state(ClipState state);
  Result<std::vector<ClipRecord>> live_clips();  // every clip not deleted, oldest first
  Result<std::vector<SnapshotRecord>> live_snapshots();
  // Places the incident's start in a clip; an upsert_incident without a clip never clears it.
  Status link_incident_clip(const std::string& incident_id, std::int64_t clip_id, double offset_s);
  // Clips retention may delete: complete or partial, not held as evidence by any incident, oldest end first.
  Result<std::vector<ClipRecord>> retention_candidates(int limit);
  Result<std::uint64_t> live_clip_bytes();  // bytes of every clip not deleted
  // Snapshots (present) of the incidents whose start lies in this clip: retention deletes them with it.
  Result<std::vector<SnapshotRecord>> snapshots_of_clip(std::int64_t clip_id);
  // Marks the clip deleted (when, why) and the snapshots of its incidents deleted, in one transaction.
  // Refuses (error) a clip held as evidence.
  Status mark_clip_deleted(std::int64_t clip_id, const std::string& reason, WallTime at);
  Status mark_snapshot_deleted(std::int64_t snapshot_id, WallTime at);
  Result<std::optional<IncidentView>> incident(const std::string& id);

  struct Impl;

 private:
  explicit Index(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
