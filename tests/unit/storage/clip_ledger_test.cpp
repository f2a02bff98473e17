// ClipLedger against a real index: a clip is `writing` from the moment its file opens, its incident points at it at
// once, and it ends complete, partial (kept fragmented) or deleted (never complete) when it fails.
#include "matthan/storage/clip_ledger.hpp"

#include <gtest/gtest.h>

#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

WallTime at_ms(std::int64_t ms) {
  return WallTime{std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms))};
}

class ClipLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("matthan-clip-ledger");
    auto index = Index::open(dir_ / "index.db");
    ASSERT_TRUE(index.ok()) << index.error().message;
    index_ = std::move(index).value();
    IncidentRecord inc;
    inc.id = "gate-1";
    inc.camera = "gate";
    inc.kind = "motion";
    inc.started_at = at_ms(1'000'000);
    ASSERT_TRUE(index_->upsert_incident(inc).ok());
  }
  void TearDown() override {
    index_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }
  // The recorder opened clips/gate/a.mp4 for gate-1, 2.5 s into it.
  void open_clip(ClipLedger& ledger) {
    RecorderNotes notes;
    notes.opened.push_back({"clips/gate/a.mp4", at_ms(998'000), at_ms(997'000)});
    notes.links.push_back({"gate-1", "clips/gate/a.mp4", 2.5});
    ledger.note("gate", notes);
  }
  static FinishedClip finished(std::string not_finalised = {}) {
    FinishedClip fc;
    fc.incident_ids = {"gate-1"};
    fc.offsets_s = {2.5};
    fc.relative_path = "clips/gate/a.mp4";
    ClipSummary s;
    s.first_wall = at_ms(998'000);
    s.end_wall = at_ms(1'010'000);
    s.duration_s = 12;
    s.bytes = 4096;
    s.sha256 = std::string(64, 'a');
    s.not_finalised = std::move(not_finalised);
    fc.summary = s;
    return fc;
  }
  fs::path dir_;
  std::unique_ptr<Index> index_;
};

TEST_F(ClipLedgerTest, AnOpenedClipIsWritingAndItsIncidentPointsAtItAtOnce) {
  ClipLedger ledger(*index_);
  open_clip(ledger);
  const auto writing = index_->clips_in_state(ClipState::kWriting);
  ASSERT_TRUE(writing.ok());
  ASSERT_EQ(writing.value().size(), 1u);
  EXPECT_EQ(writing.value()[0].path, "clips/gate/a.mp4");
  EXPECT_EQ(writing.value()[0].camera, "gate");
  const auto view = index_->incident("gate-1");
  ASSERT_TRUE(view.ok() && view.value() && view.value()->clip) << "a crash now must not lose the incident's clip";
  EXPECT_EQ(view.value()->clip->id, writing.value()[0].id);
  EXPECT_DOUBLE_EQ(view.value()->incident.clip_offset_s, 2.5);
}

TEST_F(ClipLedgerTest, AFinishedClipBecomesCompleteInTheSameRow) {
  ClipLedger ledger(*index_);
  open_clip(ledger);
  const auto place = ledger.finished("gate", finished());
  ASSERT_TRUE(place);
  ASSERT_TRUE(place->clip_id);
  EXPECT_EQ(place->relative_path, "clips/gate/a.mp4");
  EXPECT_DOUBLE_EQ(place->duration_s, 12);
  const auto row = index_->clip(*place->clip_id);
  ASSERT_TRUE(row.ok() && row.value());
  EXPECT_EQ(row.value()->state, ClipState::kComplete);
  EXPECT_EQ(row.value()->bytes, 4096u);
  EXPECT_EQ(row.value()->sha256, std::string(64, 'a'));
  EXPECT_TRUE(index_->clips_in_state(ClipState::kWriting).value().empty()) << "one row, not a second one";
}

TEST_F(ClipLedgerTest, AClipKeptFragmentedIsPartialWithTheReason) {
  ClipLedger ledger(*index_);
  open_clip(ledger);
  const auto place = ledger.finished("gate", finished("no space left for the remux"));
  ASSERT_TRUE(place && place->clip_id);
  const auto row = index_->clip(*place->clip_id).value();
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, ClipState::kPartial);
  EXPECT_NE(row->flag.find("no space left for the remux"), std::string::npos) << row->flag;
}

TEST_F(ClipLedgerTest, AFailedClipIsDeletedNeverCompleteAndHasNoPlace) {
  ClipLedger ledger(*index_);
  open_clip(ledger);
  FinishedClip fc = finished();
  fc.summary.reset();
  fc.status = make_error(ErrorCode::kIo, "disk gone");
  EXPECT_FALSE(ledger.finished("gate", fc));
  const auto deleted = index_->clips_in_state(ClipState::kDeleted);
  ASSERT_TRUE(deleted.ok());
  ASSERT_EQ(deleted.value().size(), 1u);
  EXPECT_EQ(deleted.value()[0].deleted_reason, "write failed");
  EXPECT_EQ(deleted.value()[0].flag, "disk gone");
  EXPECT_TRUE(index_->clips_in_state(ClipState::kComplete).value().empty());
}

TEST_F(ClipLedgerTest, AClipFinishedWithoutAnOpeningNoteIsStillRecorded) {
  ClipLedger ledger(*index_);
  const auto place = ledger.finished("gate", finished());
  ASSERT_TRUE(place && place->clip_id);
  EXPECT_EQ(index_->clip(*place->clip_id).value()->state, ClipState::kComplete);
}

}  // namespace
}  // namespace matthan
