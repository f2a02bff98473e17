// Index: migrations, the event log, incident and clip round trips, and clear errors on bad databases.
#include "matthan/storage/index.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Whole milliseconds: the index stores wall times at ms precision.
WallTime ms_time(std::int64_t ms) {
  return WallTime{std::chrono::duration_cast<WallTime::duration>(milliseconds(ms))};
}

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("matthan-index"); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::unique_ptr<Index> open_index() {
    auto index = Index::open(dir_ / "db" / "matthan.db");
    EXPECT_TRUE(index.ok()) << index.error().message;
    return index.ok() ? std::move(index).value() : nullptr;
  }
  fs::path dir_;
};

TEST_F(IndexTest, OpensMigratesOnceAndUsesWal) {
  {
    auto index = open_index();
    ASSERT_TRUE(index);
    auto v = index->schema_version();
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*v, 2);
  }
  auto again = open_index();  // reopening must not re-run the migration (it would fail on CREATE TABLE)
  ASSERT_TRUE(again);
  EXPECT_EQ(again->schema_version().value(), 2);

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "db" / "matthan.db").c_str(), &raw), SQLITE_OK);
  std::string mode;
  sqlite3_exec(
      raw, "PRAGMA journal_mode",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0];
        return 0;
      },
      &mode, nullptr);
  int versions = -1;
  sqlite3_exec(
      raw, "SELECT COUNT(*) FROM schema_version",
      [](void* out, int, char** values, char**) {
        *static_cast<int*>(out) = std::atoi(values[0]);
        return 0;
      },
      &versions, nullptr);
  sqlite3_close(raw);
  EXPECT_EQ(mode, "wal");
  EXPECT_EQ(versions, 2);
}

TEST_F(IndexTest, EventLogKeepsSequenceNumbers) {
  auto index = open_index();
  ASSERT_TRUE(index);
  EXPECT_EQ(index->last_event_seq().value(), 0u);
  ASSERT_TRUE(index->record_event(1, "incident.cam.start", R"({"seq":1})", ms_time(1000)).ok());
  ASSERT_TRUE(index->record_event(2, "incident.cam.end", R"({"seq":2})", ms_time(2000)).ok());
  ASSERT_TRUE(index->record_event(5, "health.cam", R"({"seq":5})", ms_time(3000)).ok());
  EXPECT_EQ(index->last_event_seq().value(), 5u);
  const Status dup = index->record_event(2, "x", "{}", ms_time(4000));
  EXPECT_FALSE(dup.ok()) << "a sequence number is written once";
  auto after = index->events_after(1, 10);
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].seq, 2u);
  EXPECT_EQ((*after)[0].topic, "incident.cam.end");
  EXPECT_EQ((*after)[0].payload, R"({"seq":2})");
  EXPECT_EQ((*after)[0].at, ms_time(2000));
  EXPECT_EQ((*after)[1].seq, 5u);
}

TEST_F(IndexTest, IncidentsAndClipsRoundTrip) {
  auto index = open_index();
  ASSERT_TRUE(index);
  ClipRecord clip;
  clip.path = "clips/cam-1/2027-01-15/cam-1-20270115T080004Z.mp4";
  clip.camera = "cam-1";
  clip.start = ms_time(1'800'000'004'000);
  clip.end = ms_time(1'800'000'013'100);
  clip.duration_s = 9.1;
  clip.bytes = 123456;
  clip.state = ClipState::kWriting;
  auto id = index->add_clip(clip);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_GT(*id, 0);

  IncidentRecord a;
  a.id = "inc-a";
  a.camera = "cam-1";
  a.kind = "motion";
  a.score = 0.75;
  a.box = Box{0.1, 0.2, 0.3, 0.4};
  a.started_at = ms_time(1'800'000'008'500);
  a.snapshot = "snapshots/cam-1/inc-a.jpg";
  ASSERT_TRUE(index->upsert_incident(a).ok());
  IncidentRecord b = a;
  b.id = "inc-b";
  b.started_at = ms_time(1'800'000'009'000);
  b.label = "person";
  ASSERT_TRUE(index->upsert_incident(b).ok());

  // The incident ends and gets its clip: the same id updates in place.
  a.ended_at = ms_time(1'800'000'011'000);
  a.clip_id = *id;
  a.clip_offset_s = 4.5;
  a.label = "car";
  ASSERT_TRUE(index->upsert_incident(a).ok());

  auto recent = index->recent_incidents(10);
  ASSERT_TRUE(recent.ok()) << recent.error().message;
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[0].id, "inc-b");  // newest first
  EXPECT_FALSE((*recent)[0].ended_at.has_value());
  EXPECT_FALSE((*recent)[0].clip_id.has_value());
  const IncidentRecord& got = (*recent)[1];
  EXPECT_EQ(got.id, a.id);
  EXPECT_EQ(got.camera, a.camera);
  EXPECT_EQ(got.kind, a.kind);
  EXPECT_EQ(got.label, std::optional<std::string>("car"));
  EXPECT_DOUBLE_EQ(got.score, a.score);
  EXPECT_EQ(got.box, a.box);
  EXPECT_EQ(got.started_at, a.started_at);
  EXPECT_EQ(got.ended_at, a.ended_at);
  EXPECT_EQ(got.snapshot, a.snapshot);
  EXPECT_EQ(got.clip_id, a.clip_id);
  EXPECT_DOUBLE_EQ(got.clip_offset_s, 4.5);
  ASSERT_EQ(index->recent_incidents(1)->size(), 1u);

  clip.id = *id;
  clip.state = ClipState::kComplete;
  clip.sha256 = "ab12";
  ASSERT_TRUE(index->update_clip(clip).ok());
  auto back = index->clip(*id);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_TRUE(back->has_value());
  const ClipRecord& c = **back;
  EXPECT_EQ(c.id, *id);
  EXPECT_EQ(c.path, clip.path);
  EXPECT_EQ(c.camera, clip.camera);
  EXPECT_EQ(c.start, clip.start);
  EXPECT_EQ(c.end, clip.end);
  EXPECT_DOUBLE_EQ(c.duration_s, 9.1);
  EXPECT_EQ(c.bytes, 123456u);
  EXPECT_EQ(c.sha256, "ab12");
  EXPECT_EQ(c.state, ClipState::kComplete);

  EXPECT_FALSE(index->clip(*id + 100)->has_value());
  ClipRecord missing = clip;
  missing.id = *id + 100;
  EXPECT_FALSE(index->update_clip(missing).ok());
  ClipRecord bad_state = clip;
  bad_state.state = static_cast<ClipState>(99);  // no word: the schema must refuse it
  EXPECT_FALSE(index->update_clip(bad_state).ok()) << "the schema checks the state";
}

TEST_F(IndexTest, ConcurrentWritersAllLand) {
  auto index = open_index();
  ASSERT_TRUE(index);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const auto seq = static_cast<std::uint64_t>(t * 1000 + i + 1);
        if (!index->record_event(seq, "heartbeat", "{}", ms_time(seq)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(index->events_after(0, 1000)->size(), 200u);
  EXPECT_EQ(index->last_event_seq().value(), 3050u);
}

TEST_F(IndexTest, CorruptFileGivesAnErrorNamingThePath) {
  const fs::path path = dir_ / "garbage.db";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 37 + 11) & 0xff));
  }
  auto index = Index::open(path);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find(path.string()), std::string::npos) << index.error().message;
  EXPECT_NE(index.error().message.find("not a database"), std::string::npos) << index.error().message;
}

TEST_F(IndexTest, LockedDatabaseGivesAClearError) {
  const fs::path path = dir_ / "locked.db";
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(other, "CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr),
      SQLITE_OK);
  auto index = Index::open(path, milliseconds(100));
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find(path.string()), std::string::npos) << index.error().message;
  EXPECT_NE(index.error().message.find("locked"), std::string::npos) << index.error().message;
}

}  // namespace
}  // namespace matthan
