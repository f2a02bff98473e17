// cut_clip on real files: an H.264 MP4 encoded here with ffmpeg (keyframe every second, no B-frames), and
// Debian's vtest.avi (MS-MPEG4, which MP4 cannot hold). Every cut is checked with ffprobe/ffmpeg.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "matthan/storage/cut.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

class CutClipTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = test::make_temp_dir("cut-clip");
    source_ = dir_ / "source.mp4";
    // 12 s at 10 fps, a keyframe every 10 frames (1 s), scene cuts off so the GOPs are exact.
    const std::string cmd = fmt::format(
        "ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=320x240:rate=10 -frames:v 120 -c:v libx264 "
        "-preset ultrafast -bf 0 -g 10 -keyint_min 10 -sc_threshold 0 -pix_fmt yuv420p '{}'",
        source_.string());
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static fs::path dir_, source_;
};
fs::path CutClipTest::dir_, CutClipTest::source_;

TEST_F(CutClipTest, StartsAtTheKeyframeBeforeTheWindowAndPlays) {
  auto cut = cut_clip(source_, dir_ / "a", 3.5, 5.2);
  ASSERT_TRUE(cut.ok()) << cut.error().message;
  EXPECT_EQ(cut->path, dir_ / "a.mp4");
  EXPECT_NEAR(cut->start_s, 3.0, 1e-6);      // the keyframe at or before 3.5 s
  EXPECT_NEAR(cut->duration_s, 2.3, 0.051);  // frames 3.0 .. 5.2 inclusive
  EXPECT_EQ(cut->packets, 23u);
  EXPECT_FALSE(cut->truncated);
  const auto p = test::probe_clip(cut->path);
  ASSERT_TRUE(p.opened) << p.errors;
  EXPECT_EQ(p.codec, "h264");
  EXPECT_EQ(p.codec_tag, "avc1");
  EXPECT_TRUE(p.first_packet_keyframe);
  EXPECT_TRUE(p.decodes_cleanly) << p.errors;
  EXPECT_EQ(p.video_packets, 23);
  EXPECT_FALSE(fs::exists(dir_ / "a.mp4.tmp"));
}

TEST_F(CutClipTest, AWindowOnAKeyframeStartsThere) {
  auto cut = cut_clip(source_, dir_ / "b", 6.0, 6.95);
  ASSERT_TRUE(cut.ok()) << cut.error().message;
  EXPECT_NEAR(cut->start_s, 6.0, 1e-6);
  EXPECT_EQ(cut->packets, 10u);
}

TEST_F(CutClipTest, AWindowPastTheEndKeepsWhatThereIsAndSaysSo) {
  auto cut = cut_clip(source_, dir_ / "c", 10.4, 30);
  ASSERT_TRUE(cut.ok()) << cut.error().message;
  EXPECT_NEAR(cut->start_s, 10.0, 1e-6);
  EXPECT_EQ(cut->packets, 20u);  // 10.0 .. 11.9
  EXPECT_TRUE(cut->truncated);
  EXPECT_TRUE(test::probe_clip(cut->path).decodes_cleanly);
}

TEST_F(CutClipTest, BadRequestsAreClearErrorsAndLeaveNoFile) {
  auto backwards = cut_clip(source_, dir_ / "d", 5, 4);
  ASSERT_FALSE(backwards.ok());
  EXPECT_NE(backwards.error().message.find("ends before it starts"), std::string::npos);
  auto missing = cut_clip(dir_ / "nope.mp4", dir_ / "e", 0, 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.mp4"), std::string::npos);
  // Not a video file at all.
  const fs::path junk = dir_ / "junk.mp4";
  { std::ofstream(junk) << "this is not a video"; }
  auto bad = cut_clip(junk, dir_ / "f", 0, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("junk.mp4"), std::string::npos);
  for (const char* f : {"d.mp4", "e.mp4", "f.mp4", "d.mp4.tmp", "e.mp4.tmp", "f.mp4.tmp"})
    EXPECT_FALSE(fs::exists(dir_ / f)) << f;
}

TEST(CutClipAvi, ACodecMp4CannotHoldGoesToMatroskaAndPlays) {
  const fs::path vtest = test::vtest_avi();
  if (vtest.empty()) GTEST_SKIP() << "opencv-doc's vtest.avi is not installed (scripts/install-deps.sh installs it)";
  const fs::path dir = test::make_temp_dir("cut-avi");
  auto cut = cut_clip(vtest, dir / "v", 20, 25);
  ASSERT_TRUE(cut.ok()) << cut.error().message;
  EXPECT_EQ(cut->path.extension(), ".mkv");
  EXPECT_LE(cut->start_s, 20.0);
  EXPECT_GE(cut->start_s + cut->duration_s, 25.0);
  const auto p = test::probe_clip(cut->path);
  ASSERT_TRUE(p.opened) << p.errors;
  EXPECT_EQ(p.codec, "msmpeg4v3");
  EXPECT_TRUE(p.first_packet_keyframe);
  EXPECT_TRUE(p.decodes_cleanly) << p.errors;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace matthan
