// Index schema v2: migration from a real v1 database, review and evidence, snapshots, the filtered query.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "matthan/storage/index.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

WallTime ms_time(std::int64_t ms) {
  return WallTime{std::chrono::duration_cast<WallTime::duration>(milliseconds(ms))};
}

// Runs SQL on a raw connection; returns the first column of the last row ("" when none).
std::string sql(const fs::path& db, const std::string& statement) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  std::string last;
  char* err = nullptr;
  const int rc = sqlite3_exec(
      raw, statement.c_str(),
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "NULL";
        return 0;
      },
      &last, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "") << " in: " << statement;
  sqlite3_free(err);
  sqlite3_close(raw);
  return last;
}

class IndexV2Test : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("matthan-index-v2"); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path db() const { return dir_ / "index.db"; }
  std::unique_ptr<Index> open_index() {
    auto index = Index::open(db());
    EXPECT_TRUE(index.ok()) << index.error().message;
    return index.ok() ? std::move(index).value() : nullptr;
  }
  IncidentRecord add_incident(Index& index, const std::string& id, const std::string& camera, std::int64_t start_ms,
                              std::optional<std::string> label = std::nullopt) {
    IncidentRecord r;
    r.id = id;
    r.camera = camera;
    r.kind = "motion";
    r.label = std::move(label);
    r.started_at = ms_time(start_ms);
    r.ended_at = ms_time(start_ms + 5000);
    EXPECT_TRUE(index.upsert_incident(r).ok());
    return r;
  }
  fs::path dir_;
};

// A v1 index exactly as the v1 build wrote it (the 001 file from the source tree, version row 1), with
// reviews kept in the old incidents.review column.
TEST_F(IndexV2Test, UpgradesAVersionOneIndexKeepingEveryRowAndReview) {
  const std::string v1 = test::read_file(fs::path(MATTHAN_MIGRATIONS_DIR) / "001_initial.sql");
  ASSERT_FALSE(v1.empty());
  sql(db(), "PRAGMA journal_mode = WAL;" + v1 + "INSERT INTO schema_version VALUES (1, 1000);" + R"sql(
    INSERT INTO clips (path, camera, start_ms, end_ms, duration_s, bytes, sha256, state)
      VALUES ('clips/a/x.mp4', 'a', 1000, 9000, 8.0, 4096, '', 'complete');
    INSERT INTO incidents (id, camera, kind, started_at_ms, snapshot, clip_id, clip_offset_s, review)
      VALUES ('a-1', 'a', 'motion', 2000, 'snapshots/a/a-1.jpg', 1, 1.0, 'evidence'),
             ('a-2', 'a', 'motion', 3000, '', 1, 2.0, 'false_alarm'),
             ('a-3', 'a', 'motion', 4000, 'snapshots/a/a-3.jpg', NULL, 0, 'new');)sql");
  ASSERT_EQ(sql(db(), "SELECT MAX(version) FROM schema_version"), "1");

  auto index = open_index();
  ASSERT_TRUE(index);
  EXPECT_EQ(index->schema_version().value(), 2);

  auto a1 = index->incident("a-1").value();
  ASSERT_TRUE(a1);
  EXPECT_TRUE(a1->review.evidence);
  EXPECT_EQ(a1->review.state, "reviewed");
  ASSERT_TRUE(a1->clip);
  EXPECT_EQ(a1->clip->path, "clips/a/x.mp4");
  EXPECT_EQ(a1->clip->state, ClipState::kComplete);
  EXPECT_DOUBLE_EQ(a1->incident.clip_offset_s, 1.0);
  ASSERT_TRUE(a1->snapshot);
  EXPECT_EQ(a1->snapshot->path, "snapshots/a/a-1.jpg");

  auto a2 = index->review("a-2").value();
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->state, "false_alarm");
  EXPECT_FALSE(a2->evidence);
  EXPECT_FALSE(index->incident("a-2").value()->snapshot);  // it had none

  auto a3 = index->review("a-3").value();
  ASSERT_TRUE(a3);
  EXPECT_EQ(a3->state, "new");
  EXPECT_FALSE(a3->updated_at);

  // The old column is gone (one truth), both versions are recorded, and a reopen applies nothing again.
  EXPECT_EQ(sql(db(), "SELECT COUNT(*) FROM pragma_table_info('incidents') WHERE name = 'review'"), "0");
  EXPECT_EQ(sql(db(), "SELECT group_concat(version) FROM schema_version"), "1,2");
  index.reset();
  auto again = open_index();
  ASSERT_TRUE(again);
  EXPECT_EQ(sql(db(), "SELECT COUNT(*) FROM schema_version"), "2");
}

TEST_F(IndexV2Test, RefusesAnIndexNewerThanTheBuild) {
  { ASSERT_TRUE(open_index()); }
  sql(db(), "INSERT INTO schema_version VALUES (99, 0)");
  auto index = Index::open(db());
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("newer than this build"), std::string::npos) << index.error().message;
}

TEST_F(IndexV2Test, AFailingMigrationLeavesTheIndexAtItsOldVersion) {
  // A v1 index that already has a conflicting `review` table: the v2
  // CREATE TABLE review fails, and the transaction must leave version 1 and every v1 row as they were.
  const std::string v1 = test::read_file(fs::path(MATTHAN_MIGRATIONS_DIR) / "001_initial.sql");
  sql(db(), v1 + "INSERT INTO schema_version VALUES (1, 1000); CREATE TABLE review (x INTEGER);" +
                "INSERT INTO incidents (id, camera, kind, started_at_ms) VALUES ('k', 'a', 'motion', 1);");
  auto index = Index::open(db());
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("002_"), std::string::npos) << index.error().message;
  EXPECT_EQ(sql(db(), "SELECT MAX(version) FROM schema_version"), "1");
  EXPECT_EQ(sql(db(), "SELECT COUNT(*) FROM pragma_table_info('clips') WHERE name = 'flag'"), "0");
  EXPECT_EQ(sql(db(), "SELECT COUNT(*) FROM incidents"), "1");
}

TEST_F(IndexV2Test, ReviewAndEvidenceAreRecordedWithWhoAndWhenAndLogged) {
  auto index = open_index();
  ASSERT_TRUE(index);
  add_incident(*index, "c-1", "cam", 1000);
  EXPECT_FALSE(index->set_review("nope", "reviewed", "", "u", ms_time(1)).ok());
  EXPECT_FALSE(index->set_review("c-1", "evidence", "", "u", ms_time(1)).ok());  // not a review state
  EXPECT_FALSE(index->review("nope").value());

  ASSERT_TRUE(index->set_review("c-1", "reviewed", "seen", "officer.an", ms_time(5000)).ok());
  auto r = index->review("c-1").value();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, "reviewed");
  EXPECT_FALSE(r->evidence);
  EXPECT_EQ(r->note, "seen");
  EXPECT_EQ(r->updated_by, "officer.an");
  EXPECT_EQ(r->updated_at, ms_time(5000));

  ASSERT_TRUE(index->set_evidence("c-1", true, "case 42", "officer.binh", ms_time(6000)).ok());
  r = index->review("c-1").value();
  EXPECT_TRUE(r->evidence);
  EXPECT_EQ(r->state, "reviewed");  // the hold does not change the review state
  EXPECT_EQ(r->note, "case 42");
  EXPECT_EQ(r->updated_by, "officer.binh");

  // Re-upserting the incident (its end, its clip) never touches the review.
  add_incident(*index, "c-1", "cam", 1000);
  EXPECT_TRUE(index->review("c-1").value()->evidence);

  ASSERT_TRUE(index->set_evidence("c-1", false, "case closed", "officer.an", ms_time(7000)).ok());
  EXPECT_FALSE(index->review("c-1").value()->evidence);
  index.reset();
  EXPECT_EQ(sql(db(), "SELECT group_concat(action || ':' || user, ' ') FROM (SELECT * FROM review_log ORDER BY id)"),
            "review:officer.an evidence_hold:officer.binh evidence_release:officer.an");
}

// Issue 19 D10: a hold placed without a note used to wipe the officer's review note.
TEST_F(IndexV2Test, AnEvidenceHoldWithoutANoteKeepsTheReviewNote) {
  auto index = open_index();
  ASSERT_TRUE(index);
  add_incident(*index, "c-1", "cam", 1000);
  ASSERT_TRUE(index->set_review("c-1", "reviewed", "two men at the gate", "officer.an", ms_time(5000)).ok());
  ASSERT_TRUE(index->set_evidence("c-1", true, "", "officer.binh", ms_time(6000)).ok());
  auto r = index->review("c-1").value();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->evidence);
  EXPECT_EQ(r->note, "two men at the gate");
  EXPECT_EQ(r->updated_by, "officer.binh");
  ASSERT_TRUE(index->set_evidence("c-1", false, "", "officer.an", ms_time(7000)).ok());
  EXPECT_EQ(index->review("c-1").value()->note, "two men at the gate");
  // A note given with the hold still replaces it.
  ASSERT_TRUE(index->set_evidence("c-1", true, "case 42", "officer.an", ms_time(8000)).ok());
  EXPECT_EQ(index->review("c-1").value()->note, "case 42");
}

TEST_F(IndexV2Test, FiltersAndPagesIncidentsNewestFirst) {
  auto index = open_index();
  ASSERT_TRUE(index);
  // Two incidents share a start time, to exercise the (started_at, id) cursor tie-break.
  add_incident(*index, "a-1", "a", 1000, "person");
  add_incident(*index, "a-2", "a", 2000);
  add_incident(*index, "b-1", "b", 2000, "car");
  add_incident(*index, "b-2", "b", 3000, "person");
  add_incident(*index, "a-3", "a", 4000, "person");
  ASSERT_TRUE(index->set_review("a-2", "false_alarm", "", "u", ms_time(9000)).ok());
  ASSERT_TRUE(index->set_evidence("b-2", true, "", "u", ms_time(9000)).ok());

  auto ids = [&](const IncidentQuery& q) {
    std::vector<std::string> out;
    auto page = index->incidents(q);
    EXPECT_TRUE(page.ok()) << page.error().message;
    if (page.ok())
      for (const auto& v : page->items) out.push_back(v.incident.id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}), (V{"a-3", "b-2", "b-1", "a-2", "a-1"}));
  IncidentQuery q;
  q.camera = "a";
  EXPECT_EQ(ids(q), (V{"a-3", "a-2", "a-1"}));
  q = {};
  q.label = "person";
  EXPECT_EQ(ids(q), (V{"a-3", "b-2", "a-1"}));
  q = {};
  q.from = ms_time(2000);
  q.to = ms_time(4000);
  EXPECT_EQ(ids(q), (V{"b-2", "b-1", "a-2"}));
  q = {};
  q.review_state = "new";
  EXPECT_EQ(ids(q), (V{"a-3", "b-2", "b-1", "a-1"}));
  q.review_state = "false_alarm";
  EXPECT_EQ(ids(q), (V{"a-2"}));
  q = {};
  q.evidence = true;
  EXPECT_EQ(ids(q), (V{"b-2"}));
  q.evidence = false;
  EXPECT_EQ(ids(q).size(), 4u);
  q = {};
  q.kind = "object";
  EXPECT_TRUE(ids(q).empty());
  q = {};
  q.review_state = "bogus";
  EXPECT_FALSE(index->incidents(q).ok());

  // Paging two at a time walks every incident exactly once, in order.
  V walked;
  IncidentQuery pq;
  pq.limit = 2;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = index->incidents(pq);
    ASSERT_TRUE(page.ok());
    for (const auto& v : page->items) walked.push_back(v.incident.id);
    if (!page->next) break;
    pq.before = page->next;
  }
  EXPECT_EQ(walked, (V{"a-3", "b-2", "b-1", "a-2", "a-1"}));
}

TEST_F(IndexV2Test, IncidentViewCarriesClipAndSnapshot) {
  auto index = open_index();
  ASSERT_TRUE(index);
  ClipRecord c;
  c.path = "clips/a/1.mp4";
  c.camera = "a";
  c.start = ms_time(900);
  c.end = ms_time(8000);
  c.requested_start = ms_time(950);
  c.created_at = ms_time(1000);
  c.state = ClipState::kPartial;
  c.flag = "recovered after a crash";
  const auto clip_id = index->add_clip(c).value();
  auto rec = add_incident(*index, "a-1", "a", 1000);
  rec.clip_id = clip_id;
  rec.clip_offset_s = 0.1;
  ASSERT_TRUE(index->upsert_incident(rec).ok());
  SnapshotRecord s;
  s.incident_id = "a-1";
  s.camera = "a";
  s.path = "snapshots/a/a-1.jpg";
  s.taken_at = ms_time(1000);
  s.bytes = 1234;
  ASSERT_TRUE(index->upsert_snapshot(s).ok());
  s.bytes = 2345;  // a refreshed snapshot replaces the row
  ASSERT_TRUE(index->upsert_snapshot(s).ok());

  auto v = index->incident("a-1").value();
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->clip);
  EXPECT_EQ(v->clip->state, ClipState::kPartial);
  EXPECT_EQ(v->clip->requested_start, ms_time(950));
  EXPECT_EQ(v->clip->created_at, ms_time(1000));
  EXPECT_EQ(v->clip->flag, "recovered after a crash");
  EXPECT_FALSE(v->clip->deleted_at);
  ASSERT_TRUE(v->snapshot);
  EXPECT_EQ(v->snapshot->bytes, 2345u);
  EXPECT_EQ(v->review.state, "new");
  EXPECT_FALSE(index->incident("none").value());
}

TEST_F(IndexV2Test, ConcurrentOpenersOfANewIndexMigrateItOnce) {
  // Several connections race to create and migrate the same new file (engine, review server, CLI).
  std::vector<std::thread> openers;
  std::atomic<int> failures{0};
  for (int i = 0; i < 6; ++i) {
    openers.emplace_back([&] {
      auto index = Index::open(db());
      if (!index.ok()) {
        ++failures;
        ADD_FAILURE() << index.error().message;
      }
    });
  }
  for (auto& t : openers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sql(db(), "SELECT group_concat(version) FROM schema_version"), "1,2");
}

}  // namespace
}  // namespace matthan
