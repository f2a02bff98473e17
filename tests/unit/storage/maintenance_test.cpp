// Start-up reconcile and retention over real clip files and a real index.
#include "matthan/storage/maintenance.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "h264_fixture.hpp"
#include "matthan/storage/clip_writer.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

WallTime at_s(std::int64_t s) {
  return WallTime{std::chrono::seconds(1'800'000'000 + s)};
}

class MaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fx = test::make_h264_fixture({.frames = 40, .fps = 10, .keyint = 10});
    ASSERT_TRUE(fx.ok()) << fx.error().message;
    fixture_ = *fx;
    root_ = test::make_temp_dir("matthan-maintenance");
    auto index = Index::open(root_ / "index.db");
    ASSERT_TRUE(index.ok()) << index.error().message;
    index_ = std::move(index).value();
  }
  void TearDown() override {
    index_.reset();
    if (!HasFailure()) fs::remove_all(root_);
  }

  // A finished clip file (4 s) at root/rel, with a complete row; returns the row.
  ClipRecord finished_clip(const std::string& rel, std::int64_t start_s) {
    auto writer = ClipWriter::open(root_ / rel, *fixture_.stream);
    EXPECT_TRUE(writer.ok());
    for (const auto& p : fixture_.packets) EXPECT_TRUE((*writer)->write(p).ok());
    auto summary = (*writer)->finish();
    EXPECT_TRUE(summary.ok());
    ClipRecord c;
    c.path = rel;
    c.camera = "cam";
    c.start = at_s(start_s);
    c.end = at_s(start_s + 4);
    c.duration_s = summary->duration_s;
    c.bytes = summary->bytes;
    c.sha256 = summary->sha256;
    c.state = ClipState::kComplete;
    c.id = index_->add_clip(c).value();
    return c;
  }
  // An in-progress clip as a kill -9 leaves it: a .part with `frames` packets and a `writing` row.
  ClipRecord interrupted_clip(const std::string& rel, int frames) {
    auto writer = ClipWriter::open(root_ / rel, *fixture_.stream);
    EXPECT_TRUE(writer.ok());
    for (int i = 0; i < frames; ++i) EXPECT_TRUE((*writer)->write(fixture_.packets[static_cast<size_t>(i)]).ok());
    const fs::path part = (*writer)->part_path();
    const fs::path keep = part.string() + ".keep";
    fs::copy_file(part, keep);
    (*writer)->abort();
    fs::rename(keep, part);
    ClipRecord c;
    c.path = rel;
    c.camera = "cam";
    c.start = at_s(100);
    c.end = at_s(100);
    c.state = ClipState::kWriting;
    c.id = index_->add_clip(c).value();
    return c;
  }
  void add_incident(const std::string& id, std::int64_t clip_id, const std::string& snapshot_rel) {
    IncidentRecord r;
    r.id = id;
    r.camera = "cam";
    r.kind = "motion";
    r.started_at = at_s(0);
    r.clip_id = clip_id;
    ASSERT_TRUE(index_->upsert_incident(r).ok());
    fs::create_directories((root_ / snapshot_rel).parent_path());
    std::ofstream(root_ / snapshot_rel) << "jpeg";
    SnapshotRecord s;
    s.incident_id = id;
    s.camera = "cam";
    s.path = snapshot_rel;
    s.taken_at = at_s(0);
    ASSERT_TRUE(index_->upsert_snapshot(s).ok());
  }

  test::H264Fixture fixture_;
  fs::path root_;
  std::unique_ptr<Index> index_;
};

TEST_F(MaintenanceTest, InterruptedClipsBecomePlayablePartialsAndNothingTemporaryRemains) {
  const ClipRecord good = interrupted_clip("clips/cam/2027-01-15/a.mp4", 35);
  const ClipRecord empty = interrupted_clip("clips/cam/2027-01-15/b.mp4", 2);  // killed in its first second
  std::ofstream(root_ / "clips/cam/2027-01-15/c.mp4.tmp") << "half a remux";

  auto report = reconcile_storage(root_, *index_, at_s(1000));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->recovered_partial, 1);
  EXPECT_EQ(report->unrecoverable, 1);
  EXPECT_EQ(report->temp_files_removed, 1);

  auto a = index_->clip(good.id).value();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->state, ClipState::kPartial);
  EXPECT_GE(a->duration_s, 2.0);
  EXPECT_LE(a->duration_s, 3.5);
  EXPECT_EQ(a->end,
            a->start + std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(a->duration_s)));
  EXPECT_EQ(a->sha256, sha256_file(root_ / a->path).value());
  EXPECT_EQ(test::ffmpeg_complaints(root_ / a->path), "");
  auto b = index_->clip(empty.id).value();
  EXPECT_EQ(b->state, ClipState::kDeleted);
  EXPECT_EQ(b->deleted_reason, "unrecoverable");
  EXPECT_FALSE(b->flag.empty());

  for (const auto& e : fs::recursive_directory_iterator(root_ / "clips")) {
    const std::string name = e.path().string();
    EXPECT_FALSE(name.ends_with(".part") || name.ends_with(".tmp")) << name;
  }
  EXPECT_TRUE(index_->clips_in_state(ClipState::kWriting).value().empty());
  // A second start-up finds nothing more to do.
  EXPECT_EQ(reconcile_storage(root_, *index_, at_s(1001)).value().total(), 0);
}

TEST_F(MaintenanceTest, MissingAndStrayFilesAreFoundAndRecorded) {
  const ClipRecord gone = finished_clip("clips/cam/2027-01-15/gone.mp4", 0);
  const ClipRecord kept = finished_clip("clips/cam/2027-01-15/kept.mp4", 10);
  add_incident("i-gone", gone.id, "snapshots/cam/i-gone.jpg");
  fs::remove(root_ / gone.path);
  fs::remove(root_ / "snapshots/cam/i-gone.jpg");
  fs::create_directories(root_ / "clips/other/2027-01-15");
  fs::copy_file(root_ / kept.path, root_ / "clips/other/2027-01-15/stray.mp4", fs::copy_options::overwrite_existing);
  // Its last write is when it ended (copied now, stamped back to a known instant).
  const auto written =
      std::chrono::file_clock::from_sys(std::chrono::time_point_cast<std::chrono::system_clock::duration>(
          std::chrono::sys_days{std::chrono::year{2027} / 1 / 15} + std::chrono::hours(10)));
  fs::last_write_time(root_ / "clips/other/2027-01-15/stray.mp4", written);
  // A stray named the recorder's way carries its start in its name.
  fs::copy_file(root_ / kept.path, root_ / "clips/other/2027-01-15/other-20270115T093000Z.mp4");

  auto report = reconcile_storage(root_, *index_, at_s(1000));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->missing_files, 1);
  EXPECT_EQ(report->stray_files, 2);
  EXPECT_EQ(report->missing_snapshots, 1);
  EXPECT_EQ(report->problems.size(), 4u);

  auto g = index_->clip(gone.id).value();
  EXPECT_EQ(g->state, ClipState::kDeleted);
  EXPECT_EQ(g->deleted_reason, "missing");
  EXPECT_EQ(g->deleted_at, at_s(1000));
  EXPECT_EQ(index_->clip(kept.id).value()->state, ClipState::kComplete);
  auto stray = index_->clip_by_path("clips/other/2027-01-15/stray.mp4").value();
  ASSERT_TRUE(stray);
  EXPECT_EQ(stray->state, ClipState::kPartial) << "a file of unknown origin is never listed as complete";
  EXPECT_EQ(stray->camera, "other");
  EXPECT_FALSE(stray->flag.empty());
  EXPECT_EQ(stray->sha256, kept.sha256);
  ASSERT_GT(stray->duration_s, 1.0);
  const auto ten_o_clock = std::chrono::sys_days{std::chrono::year{2027} / 1 / 15} + std::chrono::hours(10);
  EXPECT_NEAR(std::chrono::duration<double>(stray->end - ten_o_clock).count(), 0.0, 0.01)
      << "the last write of a stray file is its end, not its start";
  EXPECT_NEAR(std::chrono::duration<double>(stray->end - stray->start).count(), stray->duration_s, 0.01);
  auto named = index_->clip_by_path("clips/other/2027-01-15/other-20270115T093000Z.mp4").value();
  ASSERT_TRUE(named);
  const auto half_past_nine =
      std::chrono::sys_days{std::chrono::year{2027} / 1 / 15} + std::chrono::hours(9) + std::chrono::minutes(30);
  EXPECT_EQ(named->start, std::chrono::time_point_cast<WallTime::duration>(half_past_nine))
      << "the start from its name";
  EXPECT_EQ(index_->incident("i-gone").value()->snapshot->state, "deleted");
}

TEST_F(MaintenanceTest, RetentionDeletesOldestFirstWithSnapshotsAndNeverEvidence) {
  const ClipRecord c1 = finished_clip("clips/cam/d/1.mp4", 0);
  const ClipRecord c2 = finished_clip("clips/cam/d/2.mp4", 10);
  const ClipRecord c3 = finished_clip("clips/cam/d/3.mp4", 20);
  const ClipRecord c4 = finished_clip("clips/cam/d/4.mp4", 30);
  add_incident("i1", c1.id, "snapshots/cam/i1.jpg");
  add_incident("i2", c2.id, "snapshots/cam/i2.jpg");
  ASSERT_TRUE(index_->set_evidence("i1", true, "case 7", "officer", at_s(50)).ok());
  EXPECT_FALSE(index_->mark_clip_deleted(c1.id, "operator", at_s(60)).ok()) << "evidence can never be deleted";

  // Quota of about two clips: the oldest non-evidence clips go (c2, then c3); c1 is evidence and stays.
  RetentionPolicy policy;
  policy.max_bytes = c3.bytes + c4.bytes + c1.bytes;
  auto report = run_retention(root_, *index_, policy, at_s(100));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->deleted_clips, 1);
  EXPECT_EQ(report->deleted_snapshots, 1);
  EXPECT_TRUE(fs::exists(root_ / c1.path));
  EXPECT_TRUE(fs::exists(root_ / "snapshots/cam/i1.jpg"));
  EXPECT_FALSE(fs::exists(root_ / c2.path));
  EXPECT_FALSE(fs::exists(root_ / "snapshots/cam/i2.jpg"));
  EXPECT_TRUE(fs::exists(root_ / c3.path));
  auto d2 = index_->clip(c2.id).value();
  EXPECT_EQ(d2->state, ClipState::kDeleted);
  EXPECT_EQ(d2->deleted_reason, "retention: max_bytes");
  EXPECT_EQ(index_->incident("i2").value()->snapshot->state, "deleted");

  // Age: clips that ended more than a day ago go, except evidence.
  policy = {};
  policy.max_age_days = 1;
  report = run_retention(root_, *index_, policy, at_s(2 * 86400));
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->deleted_clips, 2);
  EXPECT_TRUE(fs::exists(root_ / c1.path));
  EXPECT_EQ(index_->live_clips().value().size(), 1u);
}

TEST_F(MaintenanceTest, FreeSpaceFloorDeletesUntilMetOrReportsStorageFull) {
  const ClipRecord c1 = finished_clip("clips/cam/d/1.mp4", 0);
  const ClipRecord c2 = finished_clip("clips/cam/d/2.mp4", 10);
  add_incident("i2", c2.id, "snapshots/cam/i2.jpg");
  ASSERT_TRUE(index_->set_evidence("i2", true, "", "officer", at_s(50)).ok());
  // A disk whose free space grows by each deleted clip's size.
  std::uint64_t free_bytes = 100;
  FreeSpaceProbe probe = [&](const fs::path&) -> Result<std::uint64_t> {
    std::uint64_t freed = 0;
    if (!fs::exists(root_ / c1.path)) freed += c1.bytes;
    return free_bytes + freed;
  };
  RetentionPolicy policy;
  policy.min_free_bytes = 100 + c1.bytes;
  auto report = run_retention(root_, *index_, policy, at_s(100), probe);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->deleted_clips, 1);
  EXPECT_FALSE(report->storage_full);

  policy.min_free_bytes = 1'000'000'000;  // cannot be met: the only clip left is evidence
  report = run_retention(root_, *index_, policy, at_s(100), probe);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->deleted_clips, 0);
  EXPECT_TRUE(report->storage_full);
  EXPECT_TRUE(fs::exists(root_ / c2.path));
}

}  // namespace
}  // namespace matthan
