// ClipWriter: real H.264 packets remuxed to MP4, checked with libavformat, ffprobe and a full ffmpeg decode.
#include "matthan/storage/clip_writer.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "h264_fixture.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

class ClipWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fx = test::make_h264_fixture({.frames = 50, .fps = 10, .keyint = 10});
    ASSERT_TRUE(fx.ok()) << fx.error().message;
    fixture_ = *fx;
    dir_ = test::make_temp_dir("matthan-clip-writer");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  test::H264Fixture fixture_;
  fs::path dir_;
};

TEST_F(ClipWriterTest, WritesAPlayableMp4FromEncodedPackets) {
  const fs::path out = dir_ / "a" / "b" / "clip.mp4";
  auto writer = ClipWriter::open(out, *fixture_.stream);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  EXPECT_TRUE(fs::exists((*writer)->part_path()));
  // Start mid-stream (frame 20, a keyframe at 2 s) on a camera-like clock with RTP jitter.
  const MediaTimeNs base = 3'600 * kNsPerSecond;
  for (std::size_t i = 20; i < fixture_.packets.size(); ++i) {
    const MediaTimeNs jitter = (i % 3 == 0) ? 7'000 : -4'000;  // a few microseconds, like 10.0002 fps
    auto p = test::retimed(fixture_.packets[i], base + static_cast<MediaTimeNs>(i) * 100'000'000 + jitter);
    ASSERT_TRUE((*writer)->write(p).ok());
  }
  EXPECT_FALSE(fs::exists(out)) << "nothing under the final name before finish()";
  EXPECT_EQ((*writer)->packets_written(), 30u);
  auto summary = (*writer)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->path, out);
  EXPECT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(fs::path(out.string() + ".part")));
  EXPECT_EQ(summary->packets, 30u);
  EXPECT_NEAR(summary->duration_s, 3.0, 0.01);
  EXPECT_EQ(summary->bytes, fs::file_size(out));
  EXPECT_EQ(summary->first_pts, base + 20 * 100'000'000 - 4'000);

  auto probe = test::demux_clip(out);
  ASSERT_TRUE(probe.ok()) << probe.error().message;
  EXPECT_EQ(probe->codec, "h264");
  EXPECT_EQ(probe->codec_tag, "avc1");
  EXPECT_EQ(probe->width, 320);
  EXPECT_EQ(probe->height, 240);
  EXPECT_EQ(probe->packets, 30u);
  EXPECT_TRUE(probe->first_is_keyframe);
  EXPECT_NEAR(probe->duration_s, 3.0, 0.02);
  ASSERT_FALSE(probe->dts.empty());
  EXPECT_EQ(probe->dts.front(), 0);
  for (std::size_t i = 1; i < probe->dts.size(); ++i) EXPECT_GT(probe->dts[i], probe->dts[i - 1]);
  EXPECT_EQ(test::ffmpeg_complaints(out), "");
}

TEST_F(ClipWriterTest, H265IsMuxedAsHvc1) {
  auto hevc = test::make_h264_fixture({.frames = 20, .fps = 10, .keyint = 10, .codec = VideoCodec::kH265});
  ASSERT_TRUE(hevc.ok()) << hevc.error().message;
  const fs::path out = dir_ / "hevc.mp4";
  auto writer = ClipWriter::open(out, *hevc->stream);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  for (const auto& p : hevc->packets) ASSERT_TRUE((*writer)->write(p).ok());
  auto summary = (*writer)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_NEAR(summary->duration_s, 2.0, 0.01);
  auto demux = test::demux_clip(out);
  ASSERT_TRUE(demux.ok()) << demux.error().message;
  EXPECT_EQ(demux->codec, "hevc");
  EXPECT_EQ(demux->codec_tag, "hvc1");
  EXPECT_EQ(demux->packets, 20u);
  EXPECT_TRUE(demux->first_is_keyframe);
  EXPECT_EQ(test::ffmpeg_complaints(out), "");
}

TEST_F(ClipWriterTest, RepairsNonIncreasingTimestamps) {
  const fs::path out = dir_ / "dup.mp4";
  auto writer = ClipWriter::open(out, *fixture_.stream);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  for (std::size_t i = 0; i < 20; ++i) {
    // Frames 5 and 6 carry the same timestamp, as a camera sometimes sends.
    const std::size_t slot = i == 6 ? 5 : i;
    ASSERT_TRUE(
        (*writer)->write(test::retimed(fixture_.packets[i], static_cast<MediaTimeNs>(slot) * 100'000'000)).ok());
  }
  EXPECT_EQ((*writer)->dts_bumps(), 1u);
  auto summary = (*writer)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  auto probe = test::demux_clip(out);
  ASSERT_TRUE(probe.ok()) << probe.error().message;
  EXPECT_EQ(probe->packets, 20u);
  for (std::size_t i = 1; i < probe->dts.size(); ++i) EXPECT_GT(probe->dts[i], probe->dts[i - 1]);
  EXPECT_EQ(test::ffmpeg_complaints(out), "");
}

TEST_F(ClipWriterTest, FirstPacketMustBeAKeyframe) {
  const fs::path out = dir_ / "bad.mp4";
  auto writer = ClipWriter::open(out, *fixture_.stream);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  ASSERT_FALSE(fixture_.packets[1].keyframe);
  const Status s = (*writer)->write(fixture_.packets[1]);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("keyframe"), std::string::npos) << s.error().message;
  EXPECT_EQ((*writer)->packets_written(), 0u);
  EXPECT_FALSE((*writer)->finish().ok());  // nothing to finish
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(fs::path(out.string() + ".part")));
}

TEST_F(ClipWriterTest, AbortAndDestructionLeaveNothingBehind) {
  const fs::path aborted = dir_ / "aborted.mp4";
  const fs::path dropped = dir_ / "dropped.mp4";
  {
    auto a = ClipWriter::open(aborted, *fixture_.stream);
    auto d = ClipWriter::open(dropped, *fixture_.stream);
    ASSERT_TRUE(a.ok() && d.ok());
    for (std::size_t i = 0; i < 12; ++i) {
      ASSERT_TRUE((*a)->write(fixture_.packets[i]).ok());
      ASSERT_TRUE((*d)->write(fixture_.packets[i]).ok());
    }
    (*a)->abort();
    EXPECT_FALSE((*a)->write(fixture_.packets[12]).ok());
    EXPECT_TRUE(fs::exists(fs::path(dropped.string() + ".part")));
  }
  EXPECT_TRUE(fs::is_empty(dir_)) << "abort() and the destructor must delete the .part files";
}

TEST_F(ClipWriterTest, RejectsAStreamWithoutCodecConfiguration) {
  StreamInfo bare = *fixture_.stream;
  bare.extradata.clear();
  auto writer = ClipWriter::open(dir_ / "x.mp4", bare);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message.find("extradata"), std::string::npos) << writer.error().message;
}

TEST_F(ClipWriterTest, ReportsAnUnwritableDirectory) {
  const fs::path blocker = dir_ / "file";
  { std::ofstream(blocker) << "x"; }
  auto writer = ClipWriter::open(blocker / "clip.mp4", *fixture_.stream);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message.find(blocker.string()), std::string::npos) << writer.error().message;
}

}  // namespace
}  // namespace matthan
