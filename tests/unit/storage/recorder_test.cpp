// CameraRecorder: clips cut from a ring of real H.264 packets on a synthetic camera clock.
#include "matthan/storage/recorder.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "h264_fixture.hpp"
#include "matthan/core/time.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;

constexpr MediaTimeNs kFrame = 100'000'000;  // 10 fps
constexpr MediaTimeNs kSec = kNsPerSecond;
// The camera pipeline's clock starts at an arbitrary running time; wall time = kWallBase + pts.
constexpr MediaTimeNs kClockBase = 1'000 * kSec;
const WallTime kWallBase = WallTime{std::chrono::seconds(1'800'000'000)};  // 2027-01-15T08:00:00Z

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 2 s GOPs; frames are replayed in a loop to make a longer stream.
    auto fx = test::make_h264_fixture({.frames = 60, .fps = 10, .keyint = 20});
    ASSERT_TRUE(fx.ok()) << fx.error().message;
    fixture_ = *fx;
    root_ = test::make_temp_dir("matthan-recorder");
    ring_ = std::make_shared<PacketRing>(PacketRingLimits{.max_seconds = 30, .max_bytes = 64u << 20});
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }

  static MediaTimeNs at(double seconds) { return kClockBase + static_cast<MediaTimeNs>(seconds * kSec); }

  // Pushes frames [from, to) of the looped fixture on the camera clock (frame n at n * 100 ms).
  void feed(int from, int to, const test::H264Fixture* source = nullptr) {
    const auto& fx = source ? *source : fixture_;
    for (int n = from; n < to; ++n) {
      const MediaTimeNs pts = kClockBase + n * kFrame;
      const auto& p = fx.packets[static_cast<std::size_t>(n) % fx.packets.size()];
      ring_->push(test::retimed(p, pts, kWallBase + std::chrono::nanoseconds(pts - kClockBase)));
    }
  }

  void expect_playable(const FinishedClip& clip) {
    ASSERT_TRUE(clip.status.ok()) << clip.status.error().message;
    ASSERT_TRUE(clip.summary.has_value());
    const fs::path file = root_ / clip.relative_path;
    EXPECT_EQ(clip.summary->path, file);
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_FALSE(fs::exists(fs::path(file.string() + ".part")));
    auto demux = test::demux_clip(file);
    ASSERT_TRUE(demux.ok()) << demux.error().message;
    EXPECT_TRUE(demux->first_is_keyframe);
    EXPECT_EQ(demux->packets, clip.summary->packets);
    EXPECT_NEAR(demux->duration_s, clip.summary->duration_s, 0.02);
    EXPECT_EQ(test::ffmpeg_complaints(file), "");
  }

  test::H264Fixture fixture_;
  fs::path root_;
  std::shared_ptr<PacketRing> ring_;
};

TEST_F(RecorderTest, ClipStartsOnAKeyframeBeforePreRollAndEndsAfterPostRoll) {
  CameraRecorder rec("cam-1", ring_, root_, ClipPolicy{.pre_roll_s = 3, .post_roll_s = 2, .max_clip_s = 600});
  feed(0, 100);  // 0 .. 9.9 s, keyframes every 2 s
  ASSERT_TRUE(rec.begin("inc-a", at(8.5)).ok());
  EXPECT_TRUE(rec.recording());
  EXPECT_TRUE(rec.poll().empty());
  feed(100, 120);
  rec.end("inc-a", at(11.0));  // closes after 13.0 s
  EXPECT_TRUE(rec.poll().empty());
  feed(120, 130);  // up to 12.9 s: not enough yet
  EXPECT_TRUE(rec.poll().empty());
  EXPECT_TRUE(rec.recording());
  feed(130, 150);
  const auto clips = rec.poll();
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_FALSE(rec.recording());
  const FinishedClip& clip = clips[0];
  expect_playable(clip);
  EXPECT_EQ(clip.summary->first_pts, at(4.0));  // the keyframe at or before 8.5 - 3 = 5.5
  EXPECT_GE(clip.summary->end_pts, at(13.0));
  EXPECT_LE(clip.summary->end_pts, at(13.0) + kFrame);
  EXPECT_EQ(clip.incident_ids, std::vector<std::string>{"inc-a"});
  ASSERT_EQ(clip.offsets_s.size(), 1u);
  EXPECT_NEAR(clip.offsets_s[0], 4.5, 1e-6);
  EXPECT_EQ(clip.summary->first_wall, kWallBase + std::chrono::seconds(4));
  // <root>/clips/<camera>/<YYYY-MM-DD>/<camera>-<UTC stamp>.mp4, stamped with the first packet's wall time.
  EXPECT_EQ(clip.relative_path, "clips/cam-1/2027-01-15/cam-1-20270115T080004Z.mp4");
}

TEST_F(RecorderTest, OverlappingIncidentsShareOneClip) {
  CameraRecorder rec("cam-2", ring_, root_, ClipPolicy{.pre_roll_s = 2, .post_roll_s = 2, .max_clip_s = 600});
  feed(0, 80);
  ASSERT_TRUE(rec.begin("a", at(6.5)).ok());  // keyframe at 4 s
  rec.poll();
  // The open clip is announced at once (the index marks it `writing`), with its real and requested start.
  RecorderNotes notes = rec.take_notes();
  ASSERT_EQ(notes.opened.size(), 1u);
  EXPECT_EQ(notes.opened[0].first_wall, kWallBase + std::chrono::seconds(4));
  ASSERT_TRUE(notes.opened[0].requested_start);
  EXPECT_EQ(*notes.opened[0].requested_start, kWallBase + std::chrono::milliseconds(4500));
  ASSERT_EQ(notes.links.size(), 1u);
  EXPECT_EQ(notes.links[0].incident_id, "a");
  EXPECT_EQ(notes.links[0].relative_path, notes.opened[0].relative_path);
  EXPECT_NEAR(notes.links[0].offset_s, 2.5, 1e-6);
  feed(80, 100);
  ASSERT_TRUE(rec.begin("b", at(9.0)).ok());
  notes = rec.take_notes();
  EXPECT_TRUE(notes.opened.empty());
  ASSERT_EQ(notes.links.size(), 1u);
  EXPECT_EQ(notes.links[0].incident_id, "b");
  EXPECT_NEAR(notes.links[0].offset_s, 5.0, 1e-6);
  rec.end("a", at(9.5));
  feed(100, 120);
  EXPECT_TRUE(rec.poll().empty()) << "b is still going";
  rec.end("b", at(11.0));  // would close after 13 s
  feed(120, 125);
  EXPECT_TRUE(rec.poll().empty());
  // c starts inside b's post-roll: it joins the same file.
  ASSERT_TRUE(rec.begin("c", at(12.1)).ok());
  feed(125, 150);
  EXPECT_TRUE(rec.poll().empty());
  rec.end("c", at(13.0));  // closes after 15 s
  feed(150, 170);
  const auto clips = rec.poll();
  ASSERT_EQ(clips.size(), 1u);
  expect_playable(clips[0]);
  EXPECT_EQ(clips[0].incident_ids, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(clips[0].offsets_s.size(), 3u);
  EXPECT_NEAR(clips[0].offsets_s[0], 2.5, 1e-6);
  EXPECT_NEAR(clips[0].offsets_s[1], 5.0, 1e-6);
  EXPECT_NEAR(clips[0].offsets_s[2], 8.1, 1e-6);
  EXPECT_EQ(clips[0].summary->first_pts, at(4.0));
  EXPECT_GE(clips[0].summary->end_pts, at(15.0));
  EXPECT_LE(clips[0].summary->end_pts, at(15.0) + kFrame);

  // A later incident gets a file of its own.
  ASSERT_TRUE(rec.begin("d", at(16.5)).ok());
  rec.end("d", at(16.6));
  feed(170, 200);
  const auto later = rec.poll();
  ASSERT_EQ(later.size(), 1u);
  expect_playable(later[0]);
  EXPECT_NE(later[0].relative_path, clips[0].relative_path);
}

TEST_F(RecorderTest, FlushNowFinishesAtOnceWithAPlayableFile) {
  CameraRecorder rec("cam-3", ring_, root_, ClipPolicy{.pre_roll_s = 1, .post_roll_s = 30, .max_clip_s = 600});
  feed(0, 60);
  ASSERT_TRUE(rec.begin("x", at(4.5)).ok());
  feed(60, 85);
  const auto clips = rec.poll(/*flush_now=*/true);
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_FALSE(rec.recording());
  expect_playable(clips[0]);
  EXPECT_EQ(clips[0].summary->first_pts, at(2.0));
  EXPECT_NEAR(media_seconds(clips[0].summary->end_pts - at(2.0)), 6.5, 0.01);  // up to frame 84 + one frame
  EXPECT_TRUE(rec.poll(true).empty()) << "nothing left to flush";
}

TEST_F(RecorderTest, PacketsOverwrittenBeforeCopyAreCountedAndRecordingContinues) {
  ring_ = std::make_shared<PacketRing>(PacketRingLimits{.max_seconds = 3, .max_bytes = 64u << 20});
  CameraRecorder rec("cam-4", ring_, root_, ClipPolicy{.pre_roll_s = 1, .post_roll_s = 1, .max_clip_s = 600});
  feed(0, 40);
  ASSERT_TRUE(rec.begin("slow", at(3.5)).ok());
  rec.poll();
  feed(40, 140);  // 10 s without a poll: the ring keeps only about 3-5 s of it
  rec.end("slow", at(13.0));
  feed(140, 160);
  const auto clips = rec.poll();
  EXPECT_GT(rec.missed_packets(), 0u);
  ASSERT_EQ(clips.size(), 1u);
  expect_playable(clips[0]);
  EXPECT_EQ(clips[0].summary->packets + rec.missed_packets(),
            141u - 20u);  // frames 20..140 offered to the clip
}

TEST_F(RecorderTest, StreamChangeClosesTheClipAndContinuesInANewOneAtTheNextKeyframe) {
  auto small = test::make_h264_fixture({.frames = 40, .fps = 10, .keyint = 20, .width = 160, .height = 120});
  ASSERT_TRUE(small.ok()) << small.error().message;
  CameraRecorder rec("cam-5", ring_, root_, ClipPolicy{.pre_roll_s = 1, .post_roll_s = 1, .max_clip_s = 600});
  feed(0, 50);
  ASSERT_TRUE(rec.begin("s", at(4.5)).ok());
  rec.poll();
  feed(50, 60);
  feed(60, 100, &*small);  // the camera switched resolution at 6 s (a keyframe)
  rec.end("s", at(8.0));
  feed(100, 120, &*small);
  const auto clips = rec.poll();
  ASSERT_EQ(clips.size(), 2u);
  expect_playable(clips[0]);
  expect_playable(clips[1]);
  EXPECT_EQ(clips[0].summary->first_pts, at(2.0));
  EXPECT_EQ(clips[1].summary->first_pts, at(6.0));
  EXPECT_EQ(clips[1].incident_ids, std::vector<std::string>{"s"});
  EXPECT_NE(clips[0].relative_path, clips[1].relative_path);
  auto second = test::demux_clip(root_ / clips[1].relative_path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->width, 160);
}

TEST_F(RecorderTest, LongRecordingsAreSplitAtKeyframes) {
  CameraRecorder rec("cam-6", ring_, root_, ClipPolicy{.pre_roll_s = 0, .post_roll_s = 0, .max_clip_s = 4});
  feed(0, 10);
  ASSERT_TRUE(rec.begin("long", at(0.5)).ok());
  feed(10, 110);
  rec.end("long", at(10.0));
  feed(110, 130);
  const auto clips = rec.poll();
  ASSERT_EQ(clips.size(), 3u);  // 0-4, 4-8, 8-10 s
  for (const auto& c : clips) expect_playable(c);
  EXPECT_EQ(clips[1].summary->first_pts, at(4.0));
  EXPECT_EQ(clips[2].summary->first_pts, at(8.0));
  EXPECT_NEAR(clips[0].summary->duration_s, 4.0, 0.01);
}

TEST_F(RecorderTest, AClipThatCannotBeWrittenReportsAnErrorAndLeavesNoFile) {
  const fs::path blocked_root = root_ / "not-a-dir";
  { std::ofstream(blocked_root) << "x"; }
  CameraRecorder rec("cam-7", ring_, blocked_root, ClipPolicy{});
  feed(0, 30);
  ASSERT_TRUE(rec.begin("e", at(2.0)).ok());
  const auto clips = rec.poll();
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_FALSE(clips[0].status.ok());
  EXPECT_FALSE(clips[0].summary.has_value());
  EXPECT_EQ(clips[0].incident_ids, std::vector<std::string>{"e"});
  EXPECT_FALSE(rec.recording());
  EXPECT_TRUE(fs::is_regular_file(blocked_root));
}

}  // namespace
}  // namespace matthan
