// ClipBook: an incident's `end` goes out exactly once, and only when its clip is final, failed or refused, whatever
// order the clip and the incident finish in.
#include "matthan/storage/clip_book.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

struct End {
  std::string camera;
  std::string note;
};

ClipPlace place(const std::string& path, std::int64_t id) {
  ClipPlace p;
  p.relative_path = path;
  p.duration_s = 12.5;
  p.clip_id = id;
  return p;
}

TEST(ClipBook, AnEndWaitsForItsClipThenCarriesItsPlaceAndOffset) {
  ClipBook<End> book;
  EXPECT_FALSE(book.incident_ended("a", {"gate", "first"}).has_value()) << "the clip is still being written";
  const auto ready = book.clip_finished({"a"}, {3.5}, place("clips/gate/a.mp4", 7), "");
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].incident_id, "a");
  EXPECT_EQ(ready[0].end.note, "first");
  ASSERT_TRUE(ready[0].outcome.clip);
  EXPECT_EQ(ready[0].outcome.clip->relative_path, "clips/gate/a.mp4");
  EXPECT_EQ(ready[0].outcome.clip->clip_id, 7);
  EXPECT_DOUBLE_EQ(ready[0].outcome.clip->offset_s, 3.5);
  EXPECT_TRUE(ready[0].outcome.error.empty());
  EXPECT_EQ(book.waiting(), 0u);
}

TEST(ClipBook, AClipThatFinishesFirstWaitsForTheIncidentsEnd) {
  ClipBook<End> book;
  EXPECT_TRUE(book.clip_finished({"a", "b"}, {0, 4}, place("c.mp4", 1), "").empty()) << "neither incident ended";
  const auto b = book.incident_ended("b", {"gate", ""});
  ASSERT_TRUE(b.has_value());
  EXPECT_DOUBLE_EQ(b->outcome.clip->offset_s, 4) << "each incident of a shared clip has its own offset";
  EXPECT_EQ(book.waiting(), 1u);
  ASSERT_TRUE(book.incident_ended("a", {"gate", ""}).has_value());
  EXPECT_EQ(book.waiting(), 0u);
}

TEST(ClipBook, ASplitIncidentKeepsTheClipHoldingItsStart) {
  ClipBook<End> book;
  EXPECT_TRUE(book.clip_finished({"a"}, {2}, place("first.mp4", 1), "").empty());
  book.incident_ended("a", {"gate", ""});  // ready at once: its clip is done
  // A later part of the same recording (a stream change split it) must not replace the first clip.
  ClipBook<End> split;
  EXPECT_TRUE(split.clip_finished({"a"}, {2}, place("first.mp4", 1), "").empty());
  EXPECT_TRUE(split.clip_finished({"a"}, {0}, place("second.mp4", 2), "").empty());
  const auto r = split.incident_ended("a", {"gate", ""});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome.clip->relative_path, "first.mp4");
  EXPECT_DOUBLE_EQ(r->outcome.clip->offset_s, 2);
}

TEST(ClipBook, AFailedOrRefusedClipEndsTheIncidentWithTheReason) {
  ClipBook<End> book;
  book.incident_ended("a", {"gate", ""});
  const auto failed = book.clip_finished({"a"}, {0}, std::nullopt, "no video packets were received");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_FALSE(failed[0].outcome.clip);
  EXPECT_EQ(failed[0].outcome.error, "no video packets were received");

  book.no_clip("b", "storage full: new clips are refused until space returns");
  const auto refused = book.incident_ended("b", {"gate", ""});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->outcome.error, "storage full: new clips are refused until space returns");
}

TEST(ClipBook, GivingUpEndsOnlyTheChosenCamerasEndedIncidents) {
  ClipBook<End> book;
  book.incident_ended("gate-1", {"gate", ""});
  book.incident_ended("road-1", {"road", ""});
  EXPECT_TRUE(book.clip_finished({"gate-2"}, {0}, place("g.mp4", 3), "").empty());  // not ended: stays
  const auto gone = book.give_up([](const End& e) { return e.camera == "gate"; }, "the camera was stopped");
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].incident_id, "gate-1");
  EXPECT_EQ(gone[0].outcome.error, "the camera was stopped");
  EXPECT_EQ(book.waiting(), 2u);
  const auto rest = book.give_up([](const End&) { return true; }, "the engine stopped");
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].incident_id, "road-1");
  EXPECT_TRUE(book.incident_ended("gate-2", {"gate", ""}).has_value());
  EXPECT_EQ(book.waiting(), 0u);
}

}  // namespace
}  // namespace matthan
