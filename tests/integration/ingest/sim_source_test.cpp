// The camera source against the simulator over real RTSP on 127.0.0.1: packets, frames, errors, looping.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "matthan/ingest/gst_source.hpp"
#include "matthan/ingest/supervisor.hpp"
#include "matthan/sim/simulator.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Everything a source delivered during one run, and how the run ended.
struct Capture {
  std::mutex mu;
  std::vector<EncodedPacket> packets;  // guarded by mu
  std::vector<Frame> frames;           // guarded by mu
  Status status;
  double stop_latency_s = 0;
};

// Runs a source for `duration` (or until it returns on its own) and records what it handed out.
void capture(const SourceOptions& options, std::chrono::milliseconds duration, Capture& out) {
  // Members set by name: the sink's other callbacks stay empty (aggregate initialisation, even designated,
  // warns about every member it leaves out).
  SourceSink sink;
  sink.on_packet = [&](EncodedPacket p) {
    std::lock_guard lock(out.mu);
    out.packets.push_back(std::move(p));
  };
  sink.on_frame = [&](Frame f) {
    std::lock_guard lock(out.mu);
    out.frames.push_back(std::move(f));
  };
  auto source = make_gst_source("itest", options, std::move(sink));
  std::atomic<bool> done{false};
  std::stop_source stop;
  std::thread runner([&] {
    out.status = source->run(stop.get_token());
    done = true;
  });
  const auto until = Clock::now() + duration;
  while (Clock::now() < until && !done) std::this_thread::sleep_for(10ms);
  const auto t0 = Clock::now();
  stop.request_stop();
  runner.join();
  out.stop_latency_s = std::chrono::duration<double>(Clock::now() - t0).count();
}

double seconds(MediaTimeNs ns) {
  return static_cast<double>(ns) / kNsPerSecond;
}

bool cut_video(const fs::path& in, const fs::path& out, int seconds_long) {
  const std::string cmd = "ffmpeg -nostdin -loglevel error -y -i '" + in.string() + "' -t " +
                          std::to_string(seconds_long) + " -c copy '" + out.string() + "'";
  return std::system(cmd.c_str()) == 0 && fs::exists(out);
}

// One simulator for the suite: a 25 s and a 4 s cut of vtest.avi (transcoded once) and test:ball.
class SimSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(test::make_temp_dir("matthan-ingest-it"));
    const fs::path vtest = test::vtest_avi();
    std::vector<SimSource> sources{{"ball", "test:ball"}};
    if (!vtest.empty()) {
      if (!cut_video(vtest, *dir_ / "vtest25.avi", 25) || !cut_video(vtest, *dir_ / "vtest4.avi", 4)) {
        setup_error_ = new std::string("cannot cut vtest.avi with the ffmpeg CLI");
        return;
      }
      sources.push_back({"vtest", (*dir_ / "vtest25.avi").string()});
      sources.push_back({"short", (*dir_ / "vtest4.avi").string()});
      has_vtest_ = true;
    }
    SimOptions options;
    options.port = test::free_tcp_port();
    options.sources = sources;
    options.cache_dir = *dir_ / "cache";
    auto sim = Simulator::start(options);
    if (!sim) {
      setup_error_ = new std::string(sim.error().message);
      return;
    }
    sim_ = std::move(sim).value().release();
  }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
    std::error_code ec;
    if (dir_ != nullptr) fs::remove_all(*dir_, ec);
    delete dir_;
    delete setup_error_;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    ASSERT_NE(sim_, nullptr);
  }
  static std::string url(const std::string& name) {
    for (const auto& u : sim_->urls()) {
      if (u.ends_with("/" + name)) return u;
    }
    return {};
  }

  static inline Simulator* sim_ = nullptr;
  static inline fs::path* dir_ = nullptr;
  static inline std::string* setup_error_ = nullptr;
  static inline bool has_vtest_ = false;
};

#define REQUIRE_VTEST()                                                                                  \
  do {                                                                                                   \
    if (!has_vtest_) GTEST_SKIP() << "vtest.avi (Debian package opencv-doc) is not installed; skipping"; \
  } while (0)

TEST_F(SimSourceTest, ServesOneUrlPerSource) {
  const auto urls = sim_->urls();
  ASSERT_EQ(urls.size(), has_vtest_ ? 3u : 1u);
  EXPECT_EQ(urls[0], "rtsp://127.0.0.1:" + std::to_string(sim_->port()) + "/ball");
}

TEST_F(SimSourceTest, DeliversKeyframeFirstPacketsAndSmallFramesFromVtest) {
  REQUIRE_VTEST();
  SourceOptions o;
  o.url = url("vtest");
  o.width = 320;
  o.height = 240;
  o.fps = 5;
  Capture c;
  const auto started = std::chrono::system_clock::now();
  capture(o, 6500ms, c);  // joining mid-GOP can cost up to 2 s before the first keyframe
  ASSERT_TRUE(c.status.ok()) << c.status.error().message;
  EXPECT_LT(c.stop_latency_s, 2.0);
  std::cout << "stop took " << c.stop_latency_s * 1000 << " ms\n";

  std::lock_guard lock(c.mu);
  ASSERT_GT(c.packets.size(), 20u);
  EXPECT_TRUE(c.packets.front().keyframe) << "the first packet handed out must be decodable on its own";

  // Stream info: an avcC record and the camera's own size, shared by the packets until caps change.
  const auto& info = c.packets.front().stream;
  ASSERT_TRUE(info);
  EXPECT_EQ(info->codec, VideoCodec::kH264);
  EXPECT_EQ(info->width, 768);
  EXPECT_EQ(info->height, 576);
  ASSERT_GT(info->extradata.size(), 7u);
  EXPECT_EQ(info->extradata[0], 1) << "avcC configurationVersion";
  for (const auto& p : c.packets) EXPECT_EQ(p.stream.get(), info.get());

  // Timestamps rise, pace in real time, and keyframes come about every 2 s.
  std::vector<MediaTimeNs> key_pts;
  for (std::size_t i = 0; i < c.packets.size(); ++i) {
    const auto& p = c.packets[i];
    ASSERT_GT(p.size(), 0u);
    EXPECT_GE(p.wall, started);
    if (i > 0) {
      EXPECT_GT(p.pts, c.packets[i - 1].pts);
    }
    if (p.keyframe) key_pts.push_back(p.pts);
  }
  const double media_span = seconds(c.packets.back().pts - c.packets.front().pts);
  const double wall_span = std::chrono::duration<double>(c.packets.back().wall - c.packets.front().wall).count();
  EXPECT_NEAR(media_span, wall_span, 1.0) << "served in real time";
  EXPECT_GT(media_span, 3.0);
  ASSERT_GE(key_pts.size(), 2u);
  for (std::size_t i = 1; i < key_pts.size(); ++i) {
    EXPECT_NEAR(seconds(key_pts[i] - key_pts[i - 1]), 2.0, 0.25) << "keyframe interval " << i;
  }

  // Frames: the requested size and rate, I420, with pts and wall time on the packets' clock.
  ASSERT_GE(c.frames.size(), 10u);
  for (const auto& f : c.frames) {
    EXPECT_EQ(f.camera, "itest");
    EXPECT_EQ(f.format, PixelFormat::kI420);
    EXPECT_EQ(f.width, 320);
    EXPECT_EQ(f.height, 240);
    EXPECT_EQ(f.source_width, 768);
    EXPECT_EQ(f.source_height, 576);
    ASSERT_NE(f.plane[0], nullptr);
    ASSERT_NE(f.plane[1], nullptr);
    ASSERT_NE(f.plane[2], nullptr);
    EXPECT_GE(f.stride[0], 320);
    EXPECT_TRUE(f.owner);
    // Each analysed frame is one of the camera's frames: some packet carries (about) its pts.
    const auto nearest = std::min_element(c.packets.begin(), c.packets.end(), [&](const auto& a, const auto& b) {
      return std::llabs(a.pts - f.pts) < std::llabs(b.pts - f.pts);
    });
    EXPECT_LT(std::llabs(nearest->pts - f.pts), 20'000'000) << "frame pts " << f.pts;
    EXPECT_LT(std::chrono::abs(f.wall - nearest->wall), 1s);
  }
  for (std::size_t i = 1; i < c.frames.size(); ++i) {
    EXPECT_EQ(c.frames[i].index, c.frames[i - 1].index + 1);
    EXPECT_GT(c.frames[i].pts, c.frames[i - 1].pts);
  }
  const double frame_interval =
      seconds(c.frames.back().pts - c.frames.front().pts) / static_cast<double>(c.frames.size() - 1);
  EXPECT_NEAR(frame_interval, 0.2, 0.03) << "about the requested 5 fps";
  // The pixels are real video (vtest is a street scene, not a flat frame).
  const auto& f = c.frames.back();
  int lo = 255, hi = 0;
  for (int y = 0; y < f.height; y += 8) {
    for (int x = 0; x < f.width; x += 8) {
      const int v = f.plane[0][y * f.stride[0] + x];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  EXPECT_GT(hi - lo, 50);
}

TEST_F(SimSourceTest, GrayFramesCarryOnlyLuma) {
  REQUIRE_VTEST();
  SourceOptions o;
  o.url = url("vtest");
  o.width = 160;
  o.height = 120;
  o.format = PixelFormat::kGray8;
  Capture c;
  capture(o, 4000ms, c);
  ASSERT_TRUE(c.status.ok()) << c.status.error().message;
  std::lock_guard lock(c.mu);
  ASSERT_FALSE(c.frames.empty()) << c.packets.size() << " packets";
  EXPECT_EQ(c.frames.front().format, PixelFormat::kGray8);
  EXPECT_EQ(c.frames.front().width, 160);
  EXPECT_EQ(c.frames.front().plane[1], nullptr);
}

TEST_F(SimSourceTest, LoopsWithoutTimestampsGoingBack) {
  REQUIRE_VTEST();
  SourceOptions o;
  o.url = url("short");  // a 4 s file, so this run crosses at least one loop point
  Capture c;
  capture(o, 8000ms, c);
  ASSERT_TRUE(c.status.ok()) << c.status.error().message;
  std::lock_guard lock(c.mu);
  ASSERT_GT(c.packets.size(), 40u);
  EXPECT_GT(seconds(c.packets.back().pts - c.packets.front().pts), 4.5) << "longer than the file";
  for (std::size_t i = 1; i < c.packets.size(); ++i) {
    const double step = seconds(c.packets[i].pts - c.packets[i - 1].pts);
    EXPECT_GT(step, 0.0) << "packet " << i;
    EXPECT_LT(step, 0.3) << "no gap at the loop point, packet " << i;
  }
}

TEST_F(SimSourceTest, TwoClientsShareOneStream) {
  REQUIRE_VTEST();
  SourceOptions o;
  o.url = url("vtest");
  Capture a, b;
  std::thread second([&] { capture(o, 4500ms, b); });
  capture(o, 4500ms, a);
  second.join();
  ASSERT_TRUE(a.status.ok()) << a.status.error().message;
  ASSERT_TRUE(b.status.ok()) << b.status.error().message;
  ASSERT_GT(a.packets.size(), 10u);
  ASSERT_GT(b.packets.size(), 10u);
  EXPECT_TRUE(a.packets.front().keyframe);
  EXPECT_TRUE(b.packets.front().keyframe);
}

TEST_F(SimSourceTest, TestBallServesLiveVideo) {
  SourceOptions o;
  o.url = url("ball");
  Capture c;
  capture(o, 3000ms, c);
  ASSERT_TRUE(c.status.ok()) << c.status.error().message;
  std::lock_guard lock(c.mu);
  ASSERT_GT(c.packets.size(), 10u);
  EXPECT_TRUE(c.packets.front().keyframe);
  EXPECT_EQ(c.packets.front().stream->width, 640);
  EXPECT_EQ(c.packets.front().stream->height, 360);
  EXPECT_FALSE(c.frames.empty());
}

TEST_F(SimSourceTest, WrongPathFailsWithAReasonAndNoPassword) {
  SourceOptions o;
  o.url = "rtsp://admin:s3cretPassw0rd@127.0.0.1:" + std::to_string(sim_->port()) + "/no-such-camera";
  Capture c;
  capture(o, 15000ms, c);
  ASSERT_FALSE(c.status.ok());
  const auto& msg = c.status.error().message;
  EXPECT_FALSE(msg.empty());
  EXPECT_NE(msg.find("ot found"), std::string::npos) << msg;
  std::cout << "404 reason: " << msg << "\n";
  EXPECT_EQ(msg.find("s3cretPassw0rd"), std::string::npos) << msg;
  EXPECT_TRUE(c.packets.empty());
}

TEST_F(SimSourceTest, ClosedPortFailsWithAReasonAndNoPassword) {
  SourceOptions o;
  o.url = "rtsp://admin:s3cretPassw0rd@127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/cam";
  Capture c;
  capture(o, 15000ms, c);
  ASSERT_FALSE(c.status.ok());
  const auto& msg = c.status.error().message;
  EXPECT_FALSE(msg.empty());
  EXPECT_EQ(msg.find("s3cretPassw0rd"), std::string::npos) << msg;
  std::cout << "closed-port reason: " << msg << "\n";
}

TEST_F(SimSourceTest, HeldStreamStallsTheSource) {
  REQUIRE_VTEST();
  ASSERT_TRUE(sim_->set_faults("short", SimFaults{.hold = true}).ok());
  SourceOptions o;
  o.url = url("short");
  Capture held;  // stop stays prompt while the server is silent
  capture(o, 1000ms, held);
  EXPECT_TRUE(held.status.ok()) << held.status.error().message;
  EXPECT_LT(held.stop_latency_s, 2.0);
  o.stall_timeout_ms = 1500;
  Capture c;
  capture(o, 10000ms, c);
  ASSERT_TRUE(sim_->set_faults("short", SimFaults{}).ok());
  ASSERT_FALSE(c.status.ok());
  EXPECT_NE(c.status.error().message.find("no video"), std::string::npos) << c.status.error().message;
  EXPECT_FALSE(sim_->set_faults("ball", SimFaults{}).ok());
  EXPECT_FALSE(sim_->set_faults("nope", SimFaults{}).ok());
}

TEST_F(SimSourceTest, FileUrlsPlayLikeACamera) {
  REQUIRE_VTEST();
  fs::path mp4;
  for (const auto& e : fs::directory_iterator(*dir_ / "cache")) {
    if (e.path().filename().string().starts_with("vtest4")) mp4 = e.path();
  }
  ASSERT_FALSE(mp4.empty());
  SourceOptions o;
  o.url = "file://" + mp4.string();
  Capture c;
  capture(o, 2500ms, c);
  ASSERT_TRUE(c.status.ok()) << c.status.error().message;
  std::lock_guard lock(c.mu);
  ASSERT_GT(c.packets.size(), 10u);
  EXPECT_TRUE(c.packets.front().keyframe);
  EXPECT_EQ(c.packets.front().stream->width, 768);
  // Played at its own pace, not as fast as the disk allows (a 4 s file).
  EXPECT_LT(seconds(c.packets.back().pts - c.packets.front().pts), 3.5);
  EXPECT_FALSE(c.frames.empty());
}

// A camera that drops is reported and comes back by itself: supervisor + real source + a restarted server.
TEST(SupervisorOverRtsp, ReportsADropAndReconnects) {
  SimOptions so;
  so.port = test::free_tcp_port();
  so.sources = {{"ball", "test:ball"}};
  auto sim = Simulator::start(so);
  ASSERT_TRUE(sim) << sim.error().message;
  const std::string url = sim.value()->urls().front();

  std::mutex mu;
  std::condition_variable cv;
  std::vector<CameraHealth> changes;  // guarded by mu
  auto count = [&](CameraState s) {
    return std::count_if(changes.begin(), changes.end(), [&](const auto& h) { return h.state == s; });
  };
  BackoffPolicy policy;
  policy.steps_s = {0.2, 0.4};
  CameraSupervisor* sup_ptr = nullptr;
  CameraSupervisor sup(
      "ball-cam",
      [&] {
        SourceOptions o;
        o.url = url;
        o.stall_timeout_ms = 3000;
        SourceSink sink;
        sink.on_packet = [&](EncodedPacket) { sup_ptr->note_packet(); };
        sink.on_frame = [&](Frame) { sup_ptr->note_frame(); };
        return make_gst_source("ball-cam", o, std::move(sink));
      },
      policy,
      [&](const CameraHealth& h) {
        {
          std::lock_guard lock(mu);
          changes.push_back(h);
        }
        cv.notify_all();
      });
  sup_ptr = &sup;
  sup.start();
  auto wait_for = [&](CameraState s, long n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 20s, [&] { return count(s) >= n; });
  };
  ASSERT_TRUE(wait_for(CameraState::kStreaming, 1));
  sim.value()->stop();  // the camera goes away
  ASSERT_TRUE(wait_for(CameraState::kBackoff, 1));
  EXPECT_EQ(sup.health().state == CameraState::kStreaming, false);
  auto again = Simulator::start(so);  // and comes back on the same address
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_TRUE(wait_for(CameraState::kStreaming, 2));
  for (auto until = Clock::now() + 10s; sup.health().frames == 0 && Clock::now() < until;)
    std::this_thread::sleep_for(20ms);
  const auto h = sup.health();
  EXPECT_GE(h.reconnects, 1u);
  EXPECT_GT(h.packets, 0u);
  EXPECT_GT(h.frames, 0u);
  const auto t0 = Clock::now();
  sup.stop();
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ(sup.health().state, CameraState::kStopped);
}

// ---- codecs and resolution changes ----

// `seconds` of vtest.avi encoded by the ffmpeg CLI with `codec_args` (e.g. {"-c:v", "libx265"}), scaled by
// `vf` when not empty; empty when vtest.avi or ffmpeg is missing.
fs::path encode_vtest(const fs::path& out, int seconds_long, const std::string& codec_args,
                      const std::string& vf = "") {
  const fs::path vtest = test::vtest_avi();
  if (vtest.empty()) return {};
  const std::string cmd = "ffmpeg -nostdin -loglevel error -y -i '" + vtest.string() + "' -t " +
                          std::to_string(seconds_long) + (vf.empty() ? "" : " -vf " + vf) + " -an " + codec_args +
                          " '" + out.string() + "'";
  return std::system(cmd.c_str()) == 0 && fs::exists(out) ? out : fs::path{};
}

constexpr const char* kX265Args =
    "-c:v libx265 -preset ultrafast -x265-params log-level=error:bframes=0:keyint=20 -tag:v hvc1";

TEST(CodecSource, H265FileGivesH265PacketsAndDecodedFrames) {
  const fs::path dir = test::make_temp_dir("matthan-h265-file");
  const fs::path mp4 = encode_vtest(dir / "h265.mp4", 3, kX265Args);
  if (mp4.empty()) GTEST_SKIP() << "vtest.avi (opencv-doc) or ffmpeg with libx265 is missing; skipping";
  SourceOptions o;
  o.url = "file://" + mp4.string();
  Capture c;
  capture(o, 2000ms, c);
  ASSERT_TRUE(c.status.ok()) << c.status.error().message;
  std::lock_guard lock(c.mu);
  ASSERT_GT(c.packets.size(), 5u);
  EXPECT_TRUE(c.packets.front().keyframe);
  EXPECT_EQ(c.packets.front().stream->codec, VideoCodec::kH265);
  ASSERT_GT(c.packets.front().stream->extradata.size(), 22u);
  EXPECT_EQ(c.packets.front().stream->extradata[0], 1) << "an hvcC record (MP4 form), not Annex-B";
  ASSERT_FALSE(c.frames.empty()) << "avdec_h265 decoded nothing";
  EXPECT_EQ(c.frames.front().width, 768);
  EXPECT_EQ(c.frames.front().source_width, 768);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(CodecSource, UnsupportedCodecFailsNamingIt) {
  const fs::path dir = test::make_temp_dir("matthan-mpeg4-file");
  const fs::path mp4 = encode_vtest(dir / "mpeg4.mp4", 2, "-c:v mpeg4");
  if (mp4.empty()) GTEST_SKIP() << "vtest.avi (opencv-doc) or ffmpeg is missing; skipping";
  SourceOptions o;
  o.url = "file://" + mp4.string();
  Capture c;
  capture(o, 5000ms, c);
  ASSERT_FALSE(c.status.ok()) << "an MPEG-4 part 2 file must not play as a camera";
  EXPECT_NE(c.status.error().message.find("unsupported video codec video/mpeg"), std::string::npos)
      << c.status.error().message;
  std::lock_guard lock(c.mu);
  EXPECT_TRUE(c.packets.empty());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The simulator serves H.265 over RTSP and changes resolution mid-stream (768x576, then 320x240, again).
TEST(CodecSource, SimulatedH265CameraChangingResolution) {
  const fs::path dir = test::make_temp_dir("matthan-h265-rtsp");
  const fs::path big = encode_vtest(dir / "big.avi", 3, "-c:v copy");
  const fs::path small = encode_vtest(dir / "small.mp4", 3, "-c:v libx264 -preset ultrafast -g 20", "scale=320:240");
  if (big.empty() || small.empty()) GTEST_SKIP() << "vtest.avi (opencv-doc) or ffmpeg is missing; skipping";
  SimOptions so;
  so.port = test::free_tcp_port();
  SimSource source{"cam", big.string()};
  source.codec = SimCodec::kH265;
  source.then = {small.string()};
  so.sources = {source};
  so.cache_dir = dir / "cache";
  auto sim = Simulator::start(so);
  ASSERT_TRUE(sim) << sim.error().message;
  SourceOptions o;
  o.url = sim.value()->urls().front();
  Capture c;
  capture(o, 8000ms, c);
  ASSERT_TRUE(c.status.ok()) << c.status.error().message;
  std::lock_guard lock(c.mu);
  ASSERT_GT(c.packets.size(), 30u);
  std::vector<std::pair<int, int>> sizes;  // packet stream sizes, in order of change
  for (const auto& p : c.packets) {
    EXPECT_EQ(p.stream->codec, VideoCodec::kH265);
    const std::pair<int, int> size{p.stream->width, p.stream->height};
    if (sizes.empty() || sizes.back() != size) {
      EXPECT_TRUE(p.keyframe) << "a new configuration starts on a keyframe";
      sizes.push_back(size);
    }
  }
  ASSERT_GE(sizes.size(), 2u);
  EXPECT_EQ(sizes[0], (std::pair{768, 576}));
  EXPECT_EQ(sizes[1], (std::pair{320, 240}));
  bool small_frames = false, big_frames = false;
  for (const auto& f : c.frames) {
    if (f.width == 320 && f.height == 240 && f.source_width == 320) small_frames = true;
    if (f.width == 768 && f.height == 576) big_frames = true;
  }
  EXPECT_TRUE(big_frames);
  EXPECT_TRUE(small_frames) << "frames kept coming after the resolution change";
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// Start-up errors, without any media work.
// test:onsets: a live 720p scene, still except for a dark block crossing it for a third of every period. Each
// onset is logged once, at its first frame, and the onsets come exactly one period of frames apart.
TEST(OnsetsSource, ServesTheScriptedSceneAndLogsEachOnset) {
  const auto dir = test::make_temp_dir("onsets");
  SimOptions so;
  so.port = test::free_tcp_port();
  so.sources = {{"onsets", "test:onsets"}};
  so.onset_period_frames = 9;  // 0.9 s: still frames 0-3, the block in 4-6, still 7-8
  so.onset_log = dir / "onsets.log";
  std::mutex mu;
  std::vector<SimOnset> seen;  // guarded by mu
  so.on_onset = [&](const SimOnset& o) {
    std::lock_guard lock(mu);
    seen.push_back(o);
  };
  auto sim = Simulator::start(so);
  ASSERT_TRUE(sim) << sim.error().message;

  SourceOptions o;
  o.url = sim.value()->urls().front();
  Capture c;
  capture(o, 4000ms, c);
  ASSERT_TRUE(c.status.ok()) << c.status.error().message;
  sim.value()->stop();  // closes the log

  {
    std::lock_guard lock(c.mu);
    ASSERT_GT(c.packets.size(), 10u);
    EXPECT_TRUE(c.packets.front().keyframe);
    EXPECT_EQ(c.packets.front().stream->width, 1280);
    EXPECT_EQ(c.packets.front().stream->height, 720);
    // Frames with the block have dark pixels in the middle band; still frames have none (the background's
    // darkest level is about 108).
    int with_block = 0, still = 0;
    for (const auto& f : c.frames) {
      const std::uint8_t* row = f.plane[0] + static_cast<std::ptrdiff_t>(f.height / 2) * f.stride[0];
      const bool dark = std::any_of(row, row + f.width, [](std::uint8_t v) { return v < 60; });
      (dark ? with_block : still)++;
    }
    EXPECT_GT(with_block, 0);
    EXPECT_GT(still, 0);
  }

  std::vector<SimOnset> onsets;
  {
    std::lock_guard lock(mu);
    onsets = seen;
  }
  ASSERT_GE(onsets.size(), 2u);
  std::ifstream log(so.onset_log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), onsets.size());
  for (std::size_t i = 0; i < onsets.size(); ++i) {
    EXPECT_EQ(onsets[i].mount, "onsets");
    EXPECT_EQ(onsets[i].number, i + 1);
    EXPECT_EQ(onsets[i].frame, 4 + 9 * i);  // the first frame with the block, one period apart
    if (i > 0) {
      EXPECT_GT(onsets[i].sent, onsets[i - 1].sent);
    }
    std::istringstream fields(lines[i]);
    long long ms = 0;
    std::string mount;
    std::uint64_t number = 0, frame = 0;
    ASSERT_TRUE(fields >> ms >> mount >> number >> frame) << lines[i];
    EXPECT_EQ(ms, std::chrono::duration_cast<std::chrono::milliseconds>(onsets[i].sent.time_since_epoch()).count());
    EXPECT_EQ(mount, "onsets");
    EXPECT_EQ(number, onsets[i].number);
    EXPECT_EQ(frame, onsets[i].frame);
  }
  fs::remove_all(dir);
}

TEST(SimulatorStart, RejectsAnUnknownTestPatternAndABadOnsetPeriod) {
  SimOptions o;
  o.port = test::free_tcp_port();
  o.sources = {{"x", "test:nope"}};
  auto unknown = Simulator::start(o);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("test:onsets"), std::string::npos) << unknown.error().message;
  o.sources = {{"x", "test:onsets"}};
  o.onset_period_frames = 2;
  auto short_period = Simulator::start(o);
  ASSERT_FALSE(short_period);
  EXPECT_NE(short_period.error().message.find("onset period"), std::string::npos) << short_period.error().message;
}

TEST(SimulatorStart, RejectsBadNamesDuplicatesAndMissingFiles) {
  auto start = [](std::vector<SimSource> sources) {
    SimOptions o;
    o.port = test::free_tcp_port();
    o.sources = std::move(sources);
    return Simulator::start(o);
  };
  auto bad_name = start({{"Cam 1", "test:ball"}});
  ASSERT_FALSE(bad_name);
  EXPECT_NE(bad_name.error().message.find("Cam 1"), std::string::npos);
  auto duplicate = start({{"a", "test:ball"}, {"a", "test:ball"}});
  ASSERT_FALSE(duplicate);
  EXPECT_NE(duplicate.error().message.find("duplicate"), std::string::npos);
  auto missing = start({{"a", "/nonexistent/video.mp4"}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/video.mp4"), std::string::npos);
  SimSource ball_then{"b", "test:ball"};
  ball_then.then = {"/nonexistent/video.mp4"};
  auto pattern_then = start({ball_then});
  ASSERT_FALSE(pattern_then);
  EXPECT_NE(pattern_then.error().message.find("test pattern"), std::string::npos);
  SimSource missing_then{"c", test::vtest_avi().empty() ? "/nonexistent/a.mp4" : test::vtest_avi().string()};
  missing_then.then = {"/nonexistent/then.mp4"};
  auto then_missing = start({missing_then});
  ASSERT_FALSE(then_missing);
  EXPECT_NE(then_missing.error().message.find("/nonexistent/"), std::string::npos);
  auto pattern = start({{"a", "test:smpte"}});
  ASSERT_FALSE(pattern);
  EXPECT_FALSE(start({}));
}

TEST(SimulatorStart, ReportsAPortInUse) {
  SimOptions o;
  o.port = test::free_tcp_port();
  o.sources = {{"ball", "test:ball"}};
  auto first = Simulator::start(o);
  ASSERT_TRUE(first) << first.error().message;
  auto second = Simulator::start(o);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find(std::to_string(o.port)), std::string::npos) << second.error().message;
}

TEST(SimulatorStart, TranscodesOnceAndReusesTheCache) {
  const fs::path vtest = test::vtest_avi();
  if (vtest.empty()) GTEST_SKIP() << "vtest.avi (Debian package opencv-doc) is not installed; skipping";
  const fs::path dir = test::make_temp_dir("matthan-sim-cache");
  ASSERT_TRUE(cut_video(vtest, dir / "clip.avi", 2));
  SimOptions o;
  o.port = test::free_tcp_port();
  o.sources = {{"clip", (dir / "clip.avi").string()}};
  o.cache_dir = dir / "cache";
  fs::file_time_type first_mtime;
  {
    auto sim = Simulator::start(o);
    ASSERT_TRUE(sim) << sim.error().message;
  }
  std::vector<fs::path> cached;
  for (const auto& e : fs::directory_iterator(o.cache_dir)) cached.push_back(e.path());
  ASSERT_EQ(cached.size(), 1u) << "one cached file, no temporary left over";
  EXPECT_EQ(cached[0].extension(), ".mp4");
  first_mtime = fs::last_write_time(cached[0]);
  {
    auto sim = Simulator::start(o);
    ASSERT_TRUE(sim) << sim.error().message;
  }
  EXPECT_EQ(fs::last_write_time(cached[0]), first_mtime) << "reused, not transcoded again";
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace matthan

namespace matthan {
namespace {
// Manual helper: serves the suite's media for MATTHAN_SERVE_S seconds (run with
// --gtest_also_run_disabled_tests).
TEST_F(SimSourceTest, DISABLED_ServeForManualProbing) {
  const char* s = std::getenv("MATTHAN_SERVE_S");
  for (const auto& u : sim_->urls()) std::cout << "serving " << u << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(s ? std::atoi(s) : 30));
}
}  // namespace
}  // namespace matthan
