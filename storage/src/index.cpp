// Index: SQLite (WAL) store of incidents, clips and events, with the embedded schema migrations.
#include "matthan/storage/index.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "matthan_storage_migrations.hpp"
#include "sqlite_statement.hpp"

namespace matthan {
namespace {

using sqlite::Statement;

std::int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
WallTime from_ms(std::int64_t ms) {
  return WallTime{std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms))};
}

Status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  std::unique_ptr<char, decltype(&sqlite3_free)> guard(err, &sqlite3_free);
  if (rc != SQLITE_OK) return make_error(sqlite::describe(db, rc));
  return {};
}

IncidentRecord read_incident(const Statement& s) {
  IncidentRecord r;
  r.id = s.text("id");
  r.camera = s.text("camera");
  r.kind = s.text("kind");
  r.label = s.optional_text("label");
  r.score = s.real("score");
  r.box = Box{s.real("box_x"), s.real("box_y"), s.real("box_w"), s.real("box_h")};
  r.started_at = from_ms(s.int64("started_at_ms"));
  if (auto ended = s.optional_int64("ended_at_ms")) r.ended_at = from_ms(*ended);
  r.snapshot = s.text("snapshot");
  r.clip_id = s.optional_int64("clip_id");
  r.clip_offset_s = s.real("clip_offset_s");
  return r;
}

ClipRecord read_clip(const Statement& s) {
  ClipRecord r;
  r.id = s.int64("id");
  r.path = s.text("path");
  r.camera = s.text("camera");
  r.start = from_ms(s.int64("start_ms"));
  r.end = from_ms(s.int64("end_ms"));
  r.duration_s = s.real("duration_s");
  r.bytes = static_cast<std::uint64_t>(s.int64("bytes"));
  r.sha256 = s.text("sha256");
  // The column's CHECK admits only ClipState's words.
  r.state = parse_clip_state(s.text("state")).value_or(ClipState::kPartial);
  if (auto v = s.optional_int64("requested_start_ms")) r.requested_start = from_ms(*v);
  if (auto v = s.optional_int64("created_at_ms")) r.created_at = from_ms(*v);
  if (auto v = s.optional_int64("finished_at_ms")) r.finished_at = from_ms(*v);
  if (auto v = s.optional_int64("deleted_at_ms")) r.deleted_at = from_ms(*v);
  r.deleted_reason = s.text("deleted_reason");
  r.flag = s.text("flag");
  return r;
}

std::optional<std::int64_t> opt_ms(const std::optional<WallTime>& t) {
  if (!t) return std::nullopt;
  return to_ms(*t);
}

// Column lists shared by every query that reads a whole record (named reads, never positional), one per
// table and in the order of its reader.
constexpr const char* kIncidentColumns =
    "id, camera, kind, label, score, box_x, box_y, box_w, box_h, started_at_ms, ended_at_ms, snapshot, clip_id, "
    "clip_offset_s";
constexpr const char* kClipColumns =
    "id, path, camera, start_ms, end_ms, duration_s, bytes, sha256, state, requested_start_ms, created_at_ms, "
    "finished_at_ms, deleted_at_ms, deleted_reason, flag";
constexpr const char* kSnapshotColumns =
    "id, incident_id, camera, path, taken_at_ms, bytes, sha256, state, deleted_at_ms";

// A column list qualified by a table alias ("a, b" -> "t.a AS a, t.b AS b"), for queries that join: the
// reader still finds each column by its own name.
std::string qualified(std::string_view columns, std::string_view alias) {
  std::string out;
  for (std::size_t from = 0; from < columns.size();) {
    const std::size_t comma = std::min(columns.find(',', from), columns.size());
    const std::string_view c = columns.substr(from, comma - from);
    out += fmt::format("{}{}.{} AS {}", out.empty() ? "" : ", ", alias, c, c);
    from = columns.find_first_not_of(' ', comma + 1);
    if (from == std::string_view::npos) break;
  }
  return out;
}

SnapshotRecord read_snapshot(const Statement& s) {
  SnapshotRecord r;
  r.id = s.int64("id");
  r.incident_id = s.text("incident_id");
  r.camera = s.text("camera");
  r.path = s.text("path");
  r.taken_at = from_ms(s.int64("taken_at_ms"));
  r.bytes = static_cast<std::uint64_t>(s.int64("bytes"));
  r.sha256 = s.text("sha256");
  r.state = s.text("state");
  if (auto v = s.optional_int64("deleted_at_ms")) r.deleted_at = from_ms(*v);
  return r;
}

EventRecord read_event(const Statement& s) {
  return EventRecord{static_cast<std::uint64_t>(s.int64("seq")), s.text("topic"), s.text("payload"),
                     from_ms(s.int64("at_ms"))};
}

bool valid_review_state(const std::string& s) {
  return s == "new" || s == "reviewed" || s == "false_alarm";
}

void bind_clip(Statement& s, const ClipRecord& r) {
  s.bind(":path", r.path)
      .bind(":camera", r.camera)
      .bind(":start_ms", to_ms(r.start))
      .bind(":end_ms", to_ms(r.end))
      .bind(":duration_s", r.duration_s)
      .bind(":bytes", static_cast<std::int64_t>(r.bytes))
      .bind(":sha256", r.sha256)
      .bind(":state", std::string(to_string(r.state)))
      .bind(":requested_start_ms", opt_ms(r.requested_start))
      .bind(":created_at_ms", opt_ms(r.created_at))
      .bind(":finished_at_ms", opt_ms(r.finished_at))
      .bind(":deleted_at_ms", opt_ms(r.deleted_at))
      .bind(":deleted_reason", r.deleted_reason)
      .bind(":flag", r.flag);
}

}  // namespace

struct Index::Impl {
  std::filesystem::path path;
  std::mutex mu;
  sqlite::DatabasePtr db;  // guarded by mu (the connection is opened without SQLite's own mutex)

  Error fail(std::string_view what, const std::string& why) const {
    return make_error(fmt::format("index {}: {}: {}", path.string(), what, why));
  }

  Result<Statement> prepare(std::string_view what, std::string_view sql) {
    auto s = Statement::prepare(db.get(), sql);
    if (!s) return fail(what, s.error().message);
    return s;
  }

  Result<int> current_version() {
    auto exists = prepare("read schema version",
                          "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (!exists) return exists.error();
    auto row = exists->step();
    if (!row) return fail("read schema version", row.error().message);
    if (exists->int64("n") == 0) return 0;
    auto version = prepare("read schema version", "SELECT COALESCE(MAX(version), 0) AS version FROM schema_version");
    if (!version) return version.error();
    row = version->step();
    if (!row) return fail("read schema version", row.error().message);
    return static_cast<int>(version->int64("version"));
  }

  // The version is read again inside the write transaction: two processes opening a new index at once
  // (the engine and the review server, or a CLI) must not both apply the same migration.
  Status apply(const migrations::Migration& m) {
    const std::string what = fmt::format("migration {}", m.name);
    if (Status s = exec(db.get(), "BEGIN IMMEDIATE"); !s) return fail(what, s.error().message);
    auto applied = current_version();
    if (!applied) {
      (void)exec(db.get(), "ROLLBACK");
      return applied.error();
    }
    if (*applied >= m.version) return exec(db.get(), "COMMIT");
    Status s = exec(db.get(), m.sql);
    if (s) {
      auto insert = prepare(what, "INSERT INTO schema_version (version, applied_at) VALUES (:version, :at)");
      if (!insert) {
        s = make_error(insert.error().message);
      } else {
        insert->bind(":version", static_cast<std::int64_t>(m.version))
            .bind(":at", to_ms(std::chrono::system_clock::now()));
        s = insert->run();
      }
    }
    if (s) s = exec(db.get(), "COMMIT");
    if (!s) {
      (void)exec(db.get(), "ROLLBACK");
      return fail(what, s.error().message);
    }
    return {};
  }

  Status migrate() {
    auto version = current_version();
    if (!version) return make_error(version.error().message);
    const int newest = std::size(migrations::kAll) == 0 ? 0 : std::end(migrations::kAll)[-1].version;
    if (*version > newest)
      return fail("schema", fmt::format("version {} is newer than this build knows ({})", *version, newest));
    for (const auto& m : migrations::kAll) {
      if (m.version <= *version) continue;
      if (Status s = apply(m); !s) return s;
    }
    return {};
  }

  // Switching a new file to WAL needs an exclusive lock. When several processes or threads create the
  // same index at once, SQLite can answer SQLITE_BUSY here without calling the busy handler (it does not
  // wait where waiting could deadlock). The switch is idempotent, so retry it until the busy timeout runs out.
  Status enable_wal(std::chrono::milliseconds busy_timeout) {
    const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode = WAL", -1, &raw, nullptr);
      if (rc == SQLITE_OK) {
        rc = sqlite3_step(raw);
        if (rc == SQLITE_ROW) rc = SQLITE_OK;
      }
      const std::string why = rc == SQLITE_OK ? std::string{} : sqlite::describe(db.get(), rc);
      sqlite3_finalize(raw);
      if (rc == SQLITE_OK) return {};
      const int primary = rc & 0xff;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline)
        return fail("enable WAL", why);
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }

  Status configure(std::chrono::milliseconds busy_timeout) {
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), static_cast<int>(busy_timeout.count()));
    // journal_mode answers with a row, and it is the first statement that reads the file: a corrupt or
    // locked database shows up here.
    if (Status s = enable_wal(busy_timeout); !s) return s;
    if (Status s = exec(db.get(), "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL"); !s)
      return fail("configure", s.error().message);
    return {};
  }
};

namespace {

// Every row of a query, each read by `read` (the one reader of its row type).
template <class Read>
auto read_rows(Index::Impl& impl, Statement& s, std::string_view what, Read read)
    -> Result<std::vector<std::invoke_result_t<Read, const Statement&>>> {
  std::vector<std::invoke_result_t<Read, const Statement&>> out;
  for (;;) {
    auto row = s.step();
    if (!row) return impl.fail(what, row.error().message);
    if (!*row) return out;
    out.push_back(read(s));
  }
}

// The first row of a query, or nullopt when it has none.
template <class Read>
auto read_row(Index::Impl& impl, Statement& s, std::string_view what, Read read)
    -> Result<std::optional<std::invoke_result_t<Read, const Statement&>>> {
  using Record = std::invoke_result_t<Read, const Statement&>;
  auto row = s.step();
  if (!row) return impl.fail(what, row.error().message);
  if (!*row) return std::optional<Record>{};
  return std::optional<Record>{read(s)};
}

}  // namespace

Result<std::unique_ptr<Index>> Index::open(const std::filesystem::path& db_path) {
  return open(db_path, kDefaultBusyTimeout);
}

Result<std::unique_ptr<Index>> Index::open(const std::filesystem::path& db_path,
                                           std::chrono::milliseconds busy_timeout) {
  auto impl = std::make_unique<Impl>();
  impl->path = db_path;
  std::error_code ec;
  if (db_path.has_parent_path()) std::filesystem::create_directories(db_path.parent_path(), ec);
  if (ec) return impl->fail("create directory", ec.message());

  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  impl->db.reset(raw);  // even a failed open hands back a handle to close
  if (rc != SQLITE_OK) return impl->fail("open", sqlite::describe(raw, rc));
  if (Status s = impl->configure(busy_timeout); !s) return s.error();
  if (Status s = impl->migrate(); !s) return s.error();
  return std::unique_ptr<Index>(new Index(std::move(impl)));
}

Index::Index(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Index::~Index() = default;

Result<std::uint64_t> Index::last_event_seq() {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare("last event seq", "SELECT COALESCE(MAX(seq), 0) AS seq FROM events");
  if (!s) return s.error();
  if (auto row = s->step(); !row) return impl_->fail("last event seq", row.error().message);
  return static_cast<std::uint64_t>(s->int64("seq"));
}

Status Index::record_event(std::uint64_t seq, const std::string& topic, const std::string& payload, WallTime at) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("record event {}", seq);
  auto s =
      impl_->prepare(what, "INSERT INTO events (seq, topic, payload, at_ms) VALUES (:seq, :topic, :payload, :at_ms)");
  if (!s) return s.error();
  s->bind(":seq", static_cast<std::int64_t>(seq))
      .bind(":topic", topic)
      .bind(":payload", payload)
      .bind(":at_ms", to_ms(at));
  if (Status r = s->run(); !r) return impl_->fail(what, r.error().message);
  return {};
}

Result<std::vector<EventRecord>> Index::events_after(std::uint64_t after, int limit) {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare("read events",
                          "SELECT seq, topic, payload, at_ms FROM events WHERE seq > :after ORDER BY seq LIMIT :limit");
  if (!s) return s.error();
  s->bind(":after", static_cast<std::int64_t>(after)).bind(":limit", static_cast<std::int64_t>(limit));
  return read_rows(*impl_, *s, "read events", read_event);
}

Status Index::upsert_incident(const IncidentRecord& r) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("save incident {}", r.id);
  auto s = impl_->prepare(what, R"sql(
    INSERT INTO incidents (id, camera, kind, label, score, box_x, box_y, box_w, box_h, started_at_ms, ended_at_ms,
                           snapshot, clip_id, clip_offset_s)
    VALUES (:id, :camera, :kind, :label, :score, :box_x, :box_y, :box_w, :box_h, :started_at_ms, :ended_at_ms,
            :snapshot, :clip_id, :clip_offset_s)
    ON CONFLICT (id) DO UPDATE SET
      camera = excluded.camera, kind = excluded.kind, label = excluded.label, score = excluded.score,
      box_x = excluded.box_x, box_y = excluded.box_y, box_w = excluded.box_w, box_h = excluded.box_h,
      started_at_ms = excluded.started_at_ms, ended_at_ms = excluded.ended_at_ms, snapshot = excluded.snapshot,
      clip_id = COALESCE(excluded.clip_id, incidents.clip_id),
      clip_offset_s = CASE WHEN excluded.clip_id IS NULL THEN incidents.clip_offset_s ELSE excluded.clip_offset_s END)sql");
  if (!s) return s.error();
  std::optional<std::int64_t> ended;
  if (r.ended_at) ended = to_ms(*r.ended_at);
  s->bind(":id", r.id)
      .bind(":camera", r.camera)
      .bind(":kind", r.kind)
      .bind(":label", r.label)
      .bind(":score", r.score)
      .bind(":box_x", r.box.x)
      .bind(":box_y", r.box.y)
      .bind(":box_w", r.box.w)
      .bind(":box_h", r.box.h)
      .bind(":started_at_ms", to_ms(r.started_at))
      .bind(":ended_at_ms", ended)
      .bind(":snapshot", r.snapshot)
      .bind(":clip_id", r.clip_id)
      .bind(":clip_offset_s", r.clip_offset_s);
  if (Status run = s->run(); !run) return impl_->fail(what, run.error().message);
  return {};
}

Result<std::int64_t> Index::add_clip(const ClipRecord& r) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("add clip {}", r.path);
  auto s = impl_->prepare(what, R"sql(
    INSERT INTO clips (path, camera, start_ms, end_ms, duration_s, bytes, sha256, state, requested_start_ms,
                       created_at_ms, finished_at_ms, deleted_at_ms, deleted_reason, flag)
    VALUES (:path, :camera, :start_ms, :end_ms, :duration_s, :bytes, :sha256, :state, :requested_start_ms,
            :created_at_ms, :finished_at_ms, :deleted_at_ms, :deleted_reason, :flag))sql");
  if (!s) return s.error();
  bind_clip(*s, r);
  if (Status run = s->run(); !run) return impl_->fail(what, run.error().message);
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(impl_->db.get()));
}

Status Index::update_clip(const ClipRecord& r) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("update clip {}", r.id);
  auto s = impl_->prepare(what, R"sql(
    UPDATE clips SET path = :path, camera = :camera, start_ms = :start_ms, end_ms = :end_ms, duration_s = :duration_s,
                     bytes = :bytes, sha256 = :sha256, state = :state, requested_start_ms = :requested_start_ms,
                     created_at_ms = :created_at_ms, finished_at_ms = :finished_at_ms,
                     deleted_at_ms = :deleted_at_ms, deleted_reason = :deleted_reason, flag = :flag
    WHERE id = :id)sql");
  if (!s) return s.error();
  bind_clip(*s, r);
  s->bind(":id", r.id);
  if (Status run = s->run(); !run) return impl_->fail(what, run.error().message);
  if (sqlite3_changes(impl_->db.get()) == 0) return impl_->fail(what, "no such clip");
  return {};
}

Result<std::vector<IncidentRecord>> Index::recent_incidents(int limit) {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare(
      "recent incidents",
      fmt::format("SELECT {} FROM incidents ORDER BY started_at_ms DESC, id LIMIT :limit", kIncidentColumns));
  if (!s) return s.error();
  s->bind(":limit", static_cast<std::int64_t>(limit));
  return read_rows(*impl_, *s, "recent incidents", read_incident);
}

Result<int> Index::schema_version() {
  std::lock_guard lock(impl_->mu);
  return impl_->current_version();
}

// ---------------------------------------------------------------------------------------------------------
// Schema v2: review, evidence, snapshots and the filtered incident query.

namespace {

constexpr const char* kReviewColumns =
    "COALESCE(r.state, 'new') AS review_state, COALESCE(r.evidence, 0) AS review_evidence, "
    "COALESCE(r.note, '') AS review_note, COALESCE(r.updated_by, '') AS review_by, r.updated_at_ms AS review_at_ms";

ReviewRecord read_review(const Statement& s, const std::string& incident_id) {
  ReviewRecord r;
  r.incident_id = incident_id;
  r.state = s.text("review_state");
  r.evidence = s.int64("review_evidence") != 0;
  r.note = s.text("review_note");
  r.updated_by = s.text("review_by");
  if (auto v = s.optional_int64("review_at_ms")) r.updated_at = from_ms(*v);
  return r;
}

}  // namespace

namespace index_detail {

// Runs under Impl::mu. Reads one clip, or nullopt.
Result<std::optional<ClipRecord>> clip_locked(Index::Impl& impl, std::int64_t id);
Result<std::optional<SnapshotRecord>> snapshot_locked(Index::Impl& impl, const std::string& incident_id);
Result<bool> incident_exists_locked(Index::Impl& impl, const std::string& id);
Status log_review_locked(Index::Impl& impl, const std::string& incident_id, const char* action,
                         const std::string& state, const std::string& note, const std::string& user, WallTime at);
Result<std::vector<IncidentView>> views_locked(Index::Impl& impl, Statement& s);

}  // namespace index_detail

Result<std::optional<ClipRecord>> index_detail::clip_locked(Index::Impl& impl, std::int64_t id) {
  const std::string what = fmt::format("read clip {}", id);
  auto s = impl.prepare(what, fmt::format("SELECT {} FROM clips WHERE id = :id", kClipColumns));
  if (!s) return s.error();
  s->bind(":id", id);
  return read_row(impl, *s, what, read_clip);
}

Result<std::optional<SnapshotRecord>> index_detail::snapshot_locked(Index::Impl& impl, const std::string& incident_id) {
  const std::string what = fmt::format("read snapshot of {}", incident_id);
  auto s =
      impl.prepare(what, fmt::format("SELECT {} FROM snapshots WHERE incident_id = :incident_id", kSnapshotColumns));
  if (!s) return s.error();
  s->bind(":incident_id", incident_id);
  return read_row(impl, *s, what, read_snapshot);
}

Result<bool> index_detail::incident_exists_locked(Index::Impl& impl, const std::string& id) {
  auto s = impl.prepare("find incident", "SELECT COUNT(*) AS n FROM incidents WHERE id = :id");
  if (!s) return s.error();
  s->bind(":id", id);
  auto row = s->step();
  if (!row) return impl.fail("find incident", row.error().message);
  return s->int64("n") > 0;
}

Status index_detail::log_review_locked(Index::Impl& impl, const std::string& incident_id, const char* action,
                                       const std::string& state, const std::string& note, const std::string& user,
                                       WallTime at) {
  auto s = impl.prepare("review log", R"sql(
    INSERT INTO review_log (incident_id, action, state, note, user, at_ms)
    VALUES (:incident_id, :action, :state, :note, :user, :at_ms))sql");
  if (!s) return s.error();
  s->bind(":incident_id", incident_id)
      .bind(":action", std::string(action))
      .bind(":state", state)
      .bind(":note", note)
      .bind(":user", user)
      .bind(":at_ms", to_ms(at));
  if (Status r = s->run(); !r) return impl.fail("review log", r.error().message);
  return {};
}

Result<std::vector<IncidentView>> index_detail::views_locked(Index::Impl& impl, Statement& s) {
  auto views = read_rows(impl, s, "read incidents", [](const Statement& row) {
    IncidentView v;
    v.incident = read_incident(row);
    v.review = read_review(row, v.incident.id);
    return v;
  });
  if (!views) return views.error();
  std::vector<IncidentView> out = std::move(*views);
  for (auto& v : out) {
    if (v.incident.clip_id) {
      auto c = clip_locked(impl, *v.incident.clip_id);
      if (!c) return c.error();
      v.clip = std::move(*c);
    }
    auto snap = snapshot_locked(impl, v.incident.id);
    if (!snap) return snap.error();
    v.snapshot = std::move(*snap);
  }
  return out;
}

// Both review writes run in one transaction with their review_log row: the history never misses a change.
namespace {

class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { status_ = exec(db_, "BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (status_ && !done_) (void)exec(db_, "ROLLBACK");
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const Status& begun() const { return status_; }
  Status commit() {
    done_ = true;
    return exec(db_, "COMMIT");
  }

 private:
  sqlite3* db_;
  Status status_;
  bool done_ = false;
};

}  // namespace

Status Index::set_review(const std::string& incident_id, const std::string& state, const std::string& note,
                         const std::string& user, WallTime at) {
  const std::string what = fmt::format("review incident {}", incident_id);
  if (!valid_review_state(state))
    return impl_->fail(what, fmt::format("'{}' is not a review state (new, reviewed, false_alarm)", state));
  std::lock_guard lock(impl_->mu);
  Transaction tx(impl_->db.get());
  if (!tx.begun()) return impl_->fail(what, tx.begun().error().message);
  auto exists = index_detail::incident_exists_locked(*impl_, incident_id);
  if (!exists) return exists.error();
  if (!*exists) return impl_->fail(what, "no such incident");
  auto s = impl_->prepare(what, R"sql(
    INSERT INTO review (incident_id, state, note, updated_by, updated_at_ms)
    VALUES (:incident_id, :state, :note, :user, :at_ms)
    ON CONFLICT (incident_id) DO UPDATE SET
      state = excluded.state, note = excluded.note, updated_by = excluded.updated_by,
      updated_at_ms = excluded.updated_at_ms)sql");
  if (!s) return s.error();
  s->bind(":incident_id", incident_id)
      .bind(":state", state)
      .bind(":note", note)
      .bind(":user", user)
      .bind(":at_ms", to_ms(at));
  if (Status r = s->run(); !r) return impl_->fail(what, r.error().message);
  if (Status r = index_detail::log_review_locked(*impl_, incident_id, "review", state, note, user, at); !r) return r;
  if (Status r = tx.commit(); !r) return impl_->fail(what, r.error().message);
  return {};
}

Status Index::set_evidence(const std::string& incident_id, bool hold, const std::string& note, const std::string& user,
                           WallTime at) {
  const std::string what = fmt::format("evidence hold on incident {}", incident_id);
  std::lock_guard lock(impl_->mu);
  Transaction tx(impl_->db.get());
  if (!tx.begun()) return impl_->fail(what, tx.begun().error().message);
  auto exists = index_detail::incident_exists_locked(*impl_, incident_id);
  if (!exists) return exists.error();
  if (!*exists) return impl_->fail(what, "no such incident");
  auto s = impl_->prepare(what, R"sql(
    INSERT INTO review (incident_id, evidence, note, updated_by, updated_at_ms)
    VALUES (:incident_id, :evidence, :note, :user, :at_ms)
    ON CONFLICT (incident_id) DO UPDATE SET
      evidence = excluded.evidence,
      note = CASE WHEN excluded.note = '' THEN review.note ELSE excluded.note END,
      updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms)sql");
  if (!s) return s.error();
  s->bind(":incident_id", incident_id)
      .bind(":evidence", static_cast<std::int64_t>(hold ? 1 : 0))
      .bind(":note", note)
      .bind(":user", user)
      .bind(":at_ms", to_ms(at));
  if (Status r = s->run(); !r) return impl_->fail(what, r.error().message);
  const char* action = hold ? "evidence_hold" : "evidence_release";
  if (Status r = index_detail::log_review_locked(*impl_, incident_id, action, "", note, user, at); !r) return r;
  if (Status r = tx.commit(); !r) return impl_->fail(what, r.error().message);
  return {};
}

Result<std::optional<ReviewRecord>> Index::review(const std::string& incident_id) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("read review of {}", incident_id);
  auto s = impl_->prepare(
      what, fmt::format("SELECT {} FROM incidents i LEFT JOIN review r ON r.incident_id = i.id WHERE i.id = :id",
                        kReviewColumns));
  if (!s) return s.error();
  s->bind(":id", incident_id);
  return read_row(*impl_, *s, what, [&](const Statement& row) { return read_review(row, incident_id); });
}

Result<IncidentPage> Index::incidents(const IncidentQuery& q) {
  if (q.review_state && !valid_review_state(*q.review_state))
    return impl_->fail("query incidents", fmt::format("'{}' is not a review state", *q.review_state));
  const int limit = std::clamp(q.limit, 1, 1000);
  std::string where = "1 = 1";
  if (q.camera) where += " AND i.camera = :camera";
  if (q.kind) where += " AND i.kind = :kind";
  if (q.label) where += " AND i.label = :label";
  if (q.from) where += " AND i.started_at_ms >= :from_ms";
  if (q.to) where += " AND i.started_at_ms < :to_ms";
  if (q.review_state) where += " AND COALESCE(r.state, 'new') = :review_state";
  if (q.evidence) where += " AND COALESCE(r.evidence, 0) = :evidence";
  if (q.before) where += " AND (i.started_at_ms < :cursor_ms OR (i.started_at_ms = :cursor_ms AND i.id < :cursor_id))";
  const std::string sql = fmt::format(
      "SELECT {}, {} FROM incidents i LEFT JOIN review r ON r.incident_id = i.id WHERE {} "
      "ORDER BY i.started_at_ms DESC, i.id DESC LIMIT :limit",
      qualified(kIncidentColumns, "i"), kReviewColumns, where);

  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare("query incidents", sql);
  if (!s) return s.error();
  if (q.camera) s->bind(":camera", *q.camera);
  if (q.kind) s->bind(":kind", *q.kind);
  if (q.label) s->bind(":label", *q.label);
  if (q.from) s->bind(":from_ms", to_ms(*q.from));
  if (q.to) s->bind(":to_ms", to_ms(*q.to));
  if (q.review_state) s->bind(":review_state", *q.review_state);
  if (q.evidence) s->bind(":evidence", static_cast<std::int64_t>(*q.evidence ? 1 : 0));
  if (q.before) s->bind(":cursor_ms", to_ms(q.before->started_at)).bind(":cursor_id", q.before->id);
  s->bind(":limit", static_cast<std::int64_t>(limit));
  auto views = index_detail::views_locked(*impl_, *s);
  if (!views) return views.error();
  IncidentPage page;
  page.items = std::move(*views);
  if (static_cast<int>(page.items.size()) == limit) {
    const auto& last = page.items.back().incident;
    page.next = IncidentCursor{last.started_at, last.id};
  }
  return page;
}

Result<std::optional<IncidentView>> Index::incident(const std::string& id) {
  const std::string columns = qualified(kIncidentColumns, "i");
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare(
      "read incident",
      fmt::format("SELECT {}, {} FROM incidents i LEFT JOIN review r ON r.incident_id = i.id WHERE i.id = :id", columns,
                  kReviewColumns));
  if (!s) return s.error();
  s->bind(":id", id);
  auto views = index_detail::views_locked(*impl_, *s);
  if (!views) return views.error();
  if (views->empty()) return std::optional<IncidentView>{};
  return std::optional<IncidentView>{std::move(views->front())};
}

Result<std::int64_t> Index::upsert_snapshot(const SnapshotRecord& r) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("save snapshot {}", r.path);
  auto s = impl_->prepare(what, R"sql(
    INSERT INTO snapshots (incident_id, camera, path, taken_at_ms, bytes, sha256, state, deleted_at_ms)
    VALUES (:incident_id, :camera, :path, :taken_at_ms, :bytes, :sha256, :state, :deleted_at_ms)
    ON CONFLICT (incident_id) DO UPDATE SET
      camera = excluded.camera, path = excluded.path, taken_at_ms = excluded.taken_at_ms, bytes = excluded.bytes,
      sha256 = excluded.sha256, state = excluded.state, deleted_at_ms = excluded.deleted_at_ms
    RETURNING id)sql");
  if (!s) return s.error();
  s->bind(":incident_id", r.incident_id)
      .bind(":camera", r.camera)
      .bind(":path", r.path)
      .bind(":taken_at_ms", to_ms(r.taken_at))
      .bind(":bytes", static_cast<std::int64_t>(r.bytes))
      .bind(":sha256", r.sha256)
      .bind(":state", r.state)
      .bind(":deleted_at_ms", opt_ms(r.deleted_at));
  auto row = s->step();
  if (!row) return impl_->fail(what, row.error().message);
  if (!*row) return impl_->fail(what, "no id returned");
  return s->int64("id");
}

// ---------------------------------------------------------------------------------------------------------
// Clip lifecycle, reconcile and retention.

namespace {

// Incidents held as evidence whose clip this is (by link): such a clip must never be deleted.
constexpr const char* kHeldClause =
    "EXISTS (SELECT 1 FROM incidents hi JOIN review hr ON hr.incident_id = hi.id "
    "WHERE hi.clip_id = c.id AND hr.evidence = 1)";

}  // namespace

Result<std::optional<ClipRecord>> Index::clip(std::int64_t id) {
  std::lock_guard lock(impl_->mu);
  return index_detail::clip_locked(*impl_, id);
}

Result<std::optional<ClipRecord>> Index::clip_by_path(const std::string& path) {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare("clip by path", fmt::format("SELECT {} FROM clips WHERE path = :path", kClipColumns));
  if (!s) return s.error();
  s->bind(":path", path);
  return read_row(*impl_, *s, "clip by path", read_clip);
}

Result<std::vector<ClipRecord>> Index::clips_in_state(ClipState state) {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare("clips in state",
                          fmt::format("SELECT {} FROM clips WHERE state = :state ORDER BY start_ms, id", kClipColumns));
  if (!s) return s.error();
  s->bind(":state", std::string(to_string(state)));
  return read_rows(*impl_, *s, "clips in state", read_clip);
}

Result<std::vector<ClipRecord>> Index::live_clips() {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare(
      "live clips", fmt::format("SELECT {} FROM clips WHERE state <> 'deleted' ORDER BY start_ms, id", kClipColumns));
  if (!s) return s.error();
  return read_rows(*impl_, *s, "live clips", read_clip);
}

Result<std::vector<SnapshotRecord>> Index::live_snapshots() {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare(
      "live snapshots",
      fmt::format("SELECT {} FROM snapshots WHERE state = 'present' ORDER BY taken_at_ms, id", kSnapshotColumns));
  if (!s) return s.error();
  return read_rows(*impl_, *s, "live snapshots", read_snapshot);
}

Status Index::link_incident_clip(const std::string& incident_id, std::int64_t clip_id, double offset_s) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("link incident {} to clip {}", incident_id, clip_id);
  auto s = impl_->prepare(what, "UPDATE incidents SET clip_id = :clip_id, clip_offset_s = :offset WHERE id = :id");
  if (!s) return s.error();
  s->bind(":clip_id", clip_id).bind(":offset", offset_s).bind(":id", incident_id);
  if (Status r = s->run(); !r) return impl_->fail(what, r.error().message);
  if (sqlite3_changes(impl_->db.get()) == 0) return impl_->fail(what, "no such incident");
  return {};
}

Result<std::vector<ClipRecord>> Index::retention_candidates(int limit) {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare("retention candidates",
                          fmt::format("SELECT {} FROM clips c WHERE c.state IN ('complete', 'partial') AND NOT {} "
                                      "ORDER BY c.end_ms, c.id LIMIT :limit",
                                      kClipColumns, kHeldClause));
  if (!s) return s.error();
  s->bind(":limit", static_cast<std::int64_t>(std::max(limit, 1)));
  return read_rows(*impl_, *s, "retention candidates", read_clip);
}

Result<std::uint64_t> Index::live_clip_bytes() {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare("clip bytes", "SELECT COALESCE(SUM(bytes), 0) AS n FROM clips WHERE state <> 'deleted'");
  if (!s) return s.error();
  if (auto row = s->step(); !row) return impl_->fail("clip bytes", row.error().message);
  return static_cast<std::uint64_t>(s->int64("n"));
}

Result<std::vector<SnapshotRecord>> Index::snapshots_of_clip(std::int64_t clip_id) {
  std::lock_guard lock(impl_->mu);
  auto s = impl_->prepare("snapshots of clip",
                          fmt::format("SELECT {} FROM snapshots s JOIN incidents i ON i.id = s.incident_id "
                                      "WHERE i.clip_id = :clip_id AND s.state = 'present' ORDER BY s.id",
                                      qualified(kSnapshotColumns, "s")));
  if (!s) return s.error();
  s->bind(":clip_id", clip_id);
  return read_rows(*impl_, *s, "snapshots of clip", read_snapshot);
}

Status Index::mark_clip_deleted(std::int64_t clip_id, const std::string& reason, WallTime at) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("mark clip {} deleted", clip_id);
  Transaction tx(impl_->db.get());
  if (!tx.begun()) return impl_->fail(what, tx.begun().error().message);
  auto held = impl_->prepare(what, fmt::format("SELECT {} AS held FROM clips c WHERE c.id = :id", kHeldClause));
  if (!held) return held.error();
  held->bind(":id", clip_id);
  auto row = held->step();
  if (!row) return impl_->fail(what, row.error().message);
  if (!*row) return impl_->fail(what, "no such clip");
  if (held->int64("held") != 0) return impl_->fail(what, "the clip is held as evidence");
  auto clip = impl_->prepare(what, R"sql(
    UPDATE clips SET state = 'deleted', deleted_at_ms = :at, deleted_reason = :reason WHERE id = :id)sql");
  if (!clip) return clip.error();
  clip->bind(":at", to_ms(at)).bind(":reason", reason).bind(":id", clip_id);
  if (Status r = clip->run(); !r) return impl_->fail(what, r.error().message);
  auto snaps = impl_->prepare(what, R"sql(
    UPDATE snapshots SET state = 'deleted', deleted_at_ms = :at
    WHERE state = 'present' AND incident_id IN (SELECT id FROM incidents WHERE clip_id = :id))sql");
  if (!snaps) return snaps.error();
  snaps->bind(":at", to_ms(at)).bind(":id", clip_id);
  if (Status r = snaps->run(); !r) return impl_->fail(what, r.error().message);
  if (Status r = tx.commit(); !r) return impl_->fail(what, r.error().message);
  return {};
}

Status Index::mark_snapshot_deleted(std::int64_t snapshot_id, WallTime at) {
  std::lock_guard lock(impl_->mu);
  const std::string what = fmt::format("mark snapshot {} deleted", snapshot_id);
  auto s = impl_->prepare(what, "UPDATE snapshots SET state = 'deleted', deleted_at_ms = :at WHERE id = :id");
  if (!s) return s.error();
  s->bind(":at", to_ms(at)).bind(":id", snapshot_id);
  if (Status r = s->run(); !r) return impl_->fail(what, r.error().message);
  return {};
}

}  // namespace matthan
