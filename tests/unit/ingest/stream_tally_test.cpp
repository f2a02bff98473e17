// StreamTally: "no usable video" is final only when every pad the source announced has been decided.
#include "stream_tally.hpp"

#include <gtest/gtest.h>

namespace matthan::detail {
namespace {

// multipartdemux announces its part and says "no more pads" before the handler has linked the JPEG branch; the
// bus thread that polls in that window must not call the camera videoless (ProbeIT.Mjpeg… failed that way).
TEST(StreamTally, NoMorePadsWhileAPadIsBeingLinkedIsNotFinal) {
  StreamTally t;
  t.pad_announced();
  t.no_more_pads();
  EXPECT_FALSE(t.no_usable_video()) << "the part's handler has not decided yet";
  t.video_linked();
  EXPECT_TRUE(t.video());
  EXPECT_FALSE(t.no_usable_video());
}

TEST(StreamTally, OnlyUnsupportedStreamsIsFinalOnceAllAreDecided) {
  StreamTally t;
  t.pad_announced();
  t.pad_announced();
  t.unsupported_video("MP4V-ES");
  t.no_more_pads();
  EXPECT_FALSE(t.no_usable_video()) << "the second pad is still undecided";
  t.other_stream();  // audio
  EXPECT_TRUE(t.no_usable_video());
  EXPECT_EQ(t.unsupported(), std::vector<std::string>{"MP4V-ES"});
}

TEST(StreamTally, NothingIsFinalBeforeTheSourceSaysNoMorePads) {
  StreamTally t;
  t.pad_announced();
  t.unsupported_video("unknown");
  EXPECT_FALSE(t.no_usable_video()) << "rtspsrc may still announce the video stream";
  t.no_more_pads();
  EXPECT_TRUE(t.no_usable_video());
}

TEST(StreamTally, ASourceWithNoPadsAtAllHasNoVideo) {
  StreamTally t;
  t.no_more_pads();
  EXPECT_TRUE(t.no_usable_video());
  EXPECT_TRUE(t.unsupported().empty());
}

}  // namespace
}  // namespace matthan::detail
