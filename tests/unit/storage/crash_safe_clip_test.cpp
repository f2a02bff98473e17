// Crash safety: a clip cut off mid-write (as kill -9 leaves it) is readable up to its last fragment; SHA-256.
#include <gtest/gtest.h>

#include <fstream>

#include "h264_fixture.hpp"
#include "matthan/storage/clip_writer.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/storage/remux.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

class CrashSafeClipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fx = test::make_h264_fixture({.frames = 80, .fps = 10, .keyint = 10});
    ASSERT_TRUE(fx.ok()) << fx.error().message;
    fixture_ = *fx;
    dir_ = test::make_temp_dir("matthan-crash-clip");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  // Writes `frames` packets and returns a byte copy of the .part as it is on disk at that moment, the way a
  // kill -9 would leave it (the writer is then aborted).
  fs::path crashed_part(int frames) {
    const fs::path out = dir_ / "clip.mp4";
    auto writer = ClipWriter::open(out, *fixture_.stream);
    EXPECT_TRUE(writer.ok());
    for (int i = 0; i < frames; ++i) EXPECT_TRUE((*writer)->write(fixture_.packets[static_cast<size_t>(i)]).ok());
    const fs::path copy = dir_ / "crashed.mp4.part";
    fs::copy_file((*writer)->part_path(), copy, fs::copy_options::overwrite_existing);
    (*writer)->abort();
    return copy;
  }
  test::H264Fixture fixture_;
  fs::path dir_;
};

TEST_F(CrashSafeClipTest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const fs::path f = dir_ / "abc.bin";
  std::ofstream(f, std::ios::binary) << "abc";
  EXPECT_EQ(sha256_file(f).value(), sha256_hex("abc"));
  EXPECT_FALSE(sha256_file(dir_ / "missing").ok());
}

TEST_F(CrashSafeClipTest, FinishedClipIsFaststartWithItsHash) {
  const fs::path out = dir_ / "done.mp4";
  auto writer = ClipWriter::open(out, *fixture_.stream);
  ASSERT_TRUE(writer.ok());
  for (const auto& p : fixture_.packets) ASSERT_TRUE((*writer)->write(p).ok());
  auto summary = (*writer)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_FALSE(fs::exists(fs::path(out.string() + ".part")));
  EXPECT_FALSE(fs::exists(fs::path(out.string() + ".tmp")));
  EXPECT_EQ(summary->sha256, sha256_file(out).value());
  EXPECT_EQ(summary->sha256.size(), 64u);
  // +faststart: the moov box comes before the mdat (a browser can start playing at once), and no moof
  // remains (the fragments were remuxed away).
  const std::string bytes = ::matthan::test::read_file(out);
  const auto moov = bytes.find("moov");
  const auto mdat = bytes.find("mdat");
  ASSERT_NE(moov, std::string::npos);
  ASSERT_NE(mdat, std::string::npos);
  EXPECT_LT(moov, mdat);
  EXPECT_EQ(bytes.find("moof"), std::string::npos);
  EXPECT_EQ(test::ffmpeg_complaints(out), "");
  EXPECT_NEAR(test::demux_clip(out)->duration_s, 8.0, 0.05);
}

TEST_F(CrashSafeClipTest, AFailedRemuxKeepsThePlayableFragmentedClip) {
  const fs::path out = dir_ / "kept.mp4";
  // The remux writes <final>.tmp: a non-empty directory there makes it fail, as a full disk would.
  fs::create_directories(fs::path(out.string() + ".tmp") / "blocker");
  auto writer = ClipWriter::open(out, *fixture_.stream);
  ASSERT_TRUE(writer.ok());
  for (const auto& p : fixture_.packets) ASSERT_TRUE((*writer)->write(p).ok());
  auto summary = (*writer)->finish();
  ASSERT_TRUE(summary.ok()) << "a clip that plays is never discarded: " << summary.error().message;
  EXPECT_NE(summary->not_finalised.find("remux"), std::string::npos) << summary->not_finalised;
  EXPECT_FALSE(fs::exists(fs::path(out.string() + ".part")));
  ASSERT_TRUE(fs::exists(out));
  EXPECT_EQ(summary->sha256, sha256_file(out).value());
  EXPECT_EQ(summary->bytes, fs::file_size(out));
  EXPECT_NE(::matthan::test::read_file(out).find("moof"), std::string::npos) << "still the fragmented file";
  EXPECT_EQ(test::ffmpeg_complaints(out), "");
  EXPECT_NEAR(test::demux_clip(out)->duration_s, 8.0, 0.05);
}

TEST_F(CrashSafeClipTest, AClipKilledMidWriteIsFragmentedAndRecoversUpToItsLastFragment) {
  const fs::path part = crashed_part(65);  // 6.5 s written; fragments of ~1 s reached the disk
  EXPECT_NE(::matthan::test::read_file(part).find("moof"), std::string::npos)
      << "the in-progress clip must be fragmented";
  const fs::path out = dir_ / "recovered.mp4";
  auto r = remux_to_faststart(part, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // At most about one second (the fragment in the making, plus the packet held for its duration) is lost.
  EXPECT_GE(r->duration_s, 5.0);
  EXPECT_LE(r->duration_s, 6.5);
  EXPECT_EQ(test::ffmpeg_complaints(out), "");
  auto probe = test::demux_clip(out);
  ASSERT_TRUE(probe.ok());
  EXPECT_TRUE(probe->first_is_keyframe);
  EXPECT_NEAR(probe->duration_s, r->duration_s, 0.15);
}

TEST_F(CrashSafeClipTest, ACutOffFragmentIsDroppedAndEverythingBeforeItKept) {
  const fs::path part = crashed_part(80);
  // Cut the file in the middle of its last fragment's media data, as a crash during a write would.
  const auto size = fs::file_size(part);
  fs::resize_file(part, size - 3000);
  const fs::path out = dir_ / "cut.mp4";
  auto r = remux_to_faststart(part, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GE(r->duration_s, 5.0);
  EXPECT_LT(r->duration_s, 8.0);
  EXPECT_EQ(test::ffmpeg_complaints(out), "");
}

TEST_F(CrashSafeClipTest, AClipKilledBeforeItsFirstFragmentIsReportedUnrecoverable) {
  const fs::path part = crashed_part(3);
  auto r = remux_to_faststart(part, dir_ / "empty.mp4");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(dir_ / "empty.mp4"));
  EXPECT_FALSE(fs::exists(dir_ / "empty.mp4.tmp"));
}

}  // namespace
}  // namespace matthan
