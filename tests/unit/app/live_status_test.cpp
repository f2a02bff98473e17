// EngineLiveStatus: what the review page's camera cards and /api/cameras get from the engine's samples.
#include <gtest/gtest.h>

#include "../../../tools/app/src/review_wiring.hpp"

namespace matthan {
namespace {

CameraHealth health(CameraState state, std::uint64_t frames, std::string reason = {}) {
  CameraHealth h;
  h.state = state;
  h.frames = frames;
  h.reason = std::move(reason);
  return h;
}

TEST(LiveStatus, ASubstreamCameraReportsItsDetectStreamAndCountsItsFrames) {
  std::vector<CameraSample> samples(2);
  samples[0].id = "plain";
  samples[0].health = health(CameraState::kStreaming, 120);
  samples[1].id = "sub";
  // The recording stream decodes nothing; the substream is down.
  samples[1].health = health(CameraState::kStreaming, 0);
  samples[1].detect = health(CameraState::kBackoff, 340, "not found (404)");
  EngineLiveStatus live([&] { return samples; });
  const auto cams = live.cameras();
  ASSERT_EQ(cams.size(), 2u);
  EXPECT_FALSE(cams[0].detect_stream.has_value()) << "a camera without detect_url has no detect stream";
  EXPECT_EQ(cams[0].frames, 120u);
  ASSERT_TRUE(cams[1].detect_stream.has_value());
  EXPECT_EQ(cams[1].state, "streaming") << "the camera's state is its recording stream's";
  EXPECT_EQ(cams[1].detect_stream->state, "backoff");
  EXPECT_EQ(cams[1].detect_stream->reason, "not found (404)");
  EXPECT_EQ(cams[1].frames, 340u) << "frames analysed come from the substream";
  EXPECT_EQ(cams[1].fps, 0.0) << "nothing is analysed while the substream is down";
}

}  // namespace
}  // namespace matthan
