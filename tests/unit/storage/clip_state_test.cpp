// ClipState's words: the clips.state column and the review API carry them, so they must round-trip exactly.
#include "matthan/storage/clip_state.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

TEST(ClipState, EveryStateRoundTripsThroughItsWord) {
  for (ClipState s : {ClipState::kWriting, ClipState::kComplete, ClipState::kPartial, ClipState::kDeleted}) {
    const auto word = to_string(s);
    EXPECT_FALSE(word.empty());
    EXPECT_EQ(parse_clip_state(word), s) << word;
  }
}

TEST(ClipState, TheWordsAreTheSchemas) {
  // 001_initial.sql: CHECK (state IN ('writing', 'complete', 'partial', 'deleted')); no migration changes them.
  EXPECT_EQ(to_string(ClipState::kWriting), "writing");
  EXPECT_EQ(to_string(ClipState::kComplete), "complete");
  EXPECT_EQ(to_string(ClipState::kPartial), "partial");
  EXPECT_EQ(to_string(ClipState::kDeleted), "deleted");
}

TEST(ClipState, UnknownWordsAreNotStates) {
  EXPECT_EQ(parse_clip_state("lost"), std::nullopt);
  EXPECT_EQ(parse_clip_state(""), std::nullopt);
  EXPECT_EQ(parse_clip_state("Complete"), std::nullopt);
  EXPECT_EQ(to_string(static_cast<ClipState>(99)), "");
}

}  // namespace
}  // namespace matthan
