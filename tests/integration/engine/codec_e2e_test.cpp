// End to end for camera codecs and streams that change: `matthan sim` serving H.265, and a camera that changes
// resolution mid-stream, through `matthan run`, a real ZeroMQ subscriber and ffprobe on the clips.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "event_collector.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::vector<fs::path> clips_under(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root / "clips", ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (it->path().extension() == ".mp4") out.push_back(it->path());
  }
  return out;
}

// A camera config for `url`, storage in `root`; `detect` is the YAML flow map of the detect block.
fs::path write_config(const fs::path& dir, const std::string& name, const fs::path& root, int events_port,
                      const std::string& url, const std::string& detect) {
  const fs::path cfg = dir / (name + ".yaml");
  std::ofstream(cfg) << "node: it-codec\n"
                     << "storage: {root: \"" << root.string() << "\"}\n"
                     << "events: {bind: \"tcp://127.0.0.1:" << events_port << "\"}\n"
                     << "health: {heartbeat_s: 1}\n"
                     << "defaults:\n"
                     << "  detect: " << detect << "\n"
                     << "  motion: {min_area: 0.002, start_frames: 3, end_seconds: 2}\n"
                     << "  clip: {pre_roll: 2, post_roll: 2, max_length: 10}\n"
                     << "cameras:\n"
                     << "  - id: cam\n"
                     << "    url: " << url << "\n";
  return cfg;
}

class CodecE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed; skipping";
    dir_ = make_temp_dir("matthan-codec-e2e");
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

// An H.265 camera: detection on avdec_h265, clips remuxed as hvc1 MP4 that play.
TEST_F(CodecE2E, H265CameraGivesIncidentsAndHvc1Clips) {
  const fs::path cut = cut_vtest(dir_, 20);
  ASSERT_FALSE(cut.empty()) << "could not cut vtest.avi with ffmpeg";
  SimCamera sim("cam", cut, dir_, {"--codec", "h265"});
  ASSERT_TRUE(sim.ok()) << "matthan sim did not print its URL:\n" << sim.log();
  const fs::path root = dir_ / "var";
  const int port = free_tcp_port();
  EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "incident.");
  Process engine(
      {matthan_binary().string(), "run", "--config",
       write_config(dir_, "h265", root, port, sim.url(), "{width: 640, height: 360, fps: 5}").string(), "--for", "24"},
      (dir_ / "h265.log").string());
  const auto rc = engine.wait(90s);
  ASSERT_TRUE(rc.has_value()) << "engine did not stop after --for";
  EXPECT_EQ(*rc, 0) << engine.output();
  events.wait_for([](auto& ev) { return !ev.empty() && ev.back().json.value("phase", "") == "end"; }, 2s);

  int starts = 0, ends_with_clip = 0;
  for (const auto& e : events.events()) {
    EXPECT_EQ(e.json.value("camera", ""), "cam");
    if (e.json.value("phase", "") == "start") ++starts;
    if (e.json.value("phase", "") != "end" || !e.json["clip"].is_object()) continue;
    ++ends_with_clip;
    const fs::path clip = root / e.json["clip"]["path"].get<std::string>();
    const ClipProbe p = probe_clip(clip);
    ASSERT_TRUE(p.opened) << clip << ": " << p.errors;
    EXPECT_EQ(p.codec, "hevc") << clip;
    EXPECT_EQ(p.codec_tag, "hvc1") << clip;
    EXPECT_EQ(p.width, 768);
    EXPECT_EQ(p.height, 576);
    EXPECT_TRUE(p.first_packet_keyframe) << clip;
    EXPECT_TRUE(p.decodes_cleanly) << clip << ": " << p.errors;
    EXPECT_GT(p.duration_s, 0.5) << clip;
  }
  EXPECT_GE(starts, 1) << "no motion incident from the H.265 camera; engine output:\n" << engine.output();
  EXPECT_GE(ends_with_clip, 1) << "no incident ended with a clip; engine output:\n" << engine.output();
}

// A camera that switches between 768x576 and 512x288 every 8 s on the same RTSP session. Detection runs on the
// camera's own size (no scaling) so the analysis must follow each size; every clip holds one size.
TEST_F(CodecE2E, ResolutionChangeKeepsAnalysingAndStartsANewClip) {
  const fs::path big = cut_vtest(dir_, 8);
  ASSERT_FALSE(big.empty()) << "could not cut vtest.avi with ffmpeg";
  const fs::path small = dir_ / "small.mp4";
  auto [frc, fout] =
      run_command({"ffmpeg",    "-y", "-v",  "error",         "-ss", "8",           "-i",      vtest_avi().string(),
                   "-t",        "8",  "-vf", "scale=512:288", "-an", "-c:v",        "libx264", "-preset",
                   "ultrafast", "-g", "20",  "-bf",           "0",   small.string()});
  ASSERT_EQ(frc, 0) << fout;
  SimCamera sim("cam", big, dir_, {"--then", "cam=" + small.string()});
  ASSERT_TRUE(sim.ok()) << "matthan sim did not print its URL:\n" << sim.log();
  const fs::path root = dir_ / "var";
  const int port = free_tcp_port();
  EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "");
  Process engine({matthan_binary().string(), "run", "--config",
                  write_config(dir_, "switch", root, port, sim.url(), "{fps: 5}").string(), "--for", "36"},
                 (dir_ / "switch.log").string());
  const auto rc = engine.wait(100s);
  ASSERT_TRUE(rc.has_value()) << "engine did not stop after --for";
  EXPECT_EQ(*rc, 0) << engine.output();

  // Analysed frames, sampled from the camera's health after each heartbeat: the count keeps rising through
  // every change (two or more in 36 s), and the camera never leaves `streaming` once it got there.
  std::vector<double> analysed;
  bool streamed = false;
  std::set<std::string> states_after_streaming;
  const auto ev = events.events();
  for (const auto& e : ev) {
    if (e.topic != "health.cam") continue;
    const std::string state = e.json.value("state", "");
    if (streamed) states_after_streaming.insert(state);
    if (state == "streaming") streamed = true;
    if (e.json.contains("counters") && e.json["counters"].contains("frames_analysed"))
      analysed.push_back(e.json["counters"]["frames_analysed"].get<double>());
  }
  ASSERT_TRUE(streamed) << engine.output();
  states_after_streaming.erase("streaming");
  states_after_streaming.erase("stopped");  // the end of --for
  EXPECT_TRUE(states_after_streaming.empty()) << "the camera left streaming on a resolution change";
  ASSERT_GE(analysed.size(), 20u) << "too few health samples (heartbeat 1 s over 36 s)";
  // In every run of 5 consecutive samples (about 5 s) after the first 5, at least 5 frames were analysed.
  for (std::size_t i = 5; i + 5 < analysed.size(); ++i) {
    EXPECT_GE(analysed[i + 5] - analysed[i], 5.0)
        << "analysis stalled around sample " << i << " (" << analysed[i] << " frames)";
  }
  std::cout << "[ figures ] frames analysed " << analysed.back() << " in 36 s\n";

  // Clips: both sizes recorded, each clip one size, all decode cleanly.
  std::set<std::pair<int, int>> sizes;
  const auto clips = clips_under(root);
  ASSERT_GE(clips.size(), 2u) << engine.output();
  for (const auto& clip : clips) {
    const ClipProbe p = probe_clip(clip);
    ASSERT_TRUE(p.opened) << clip << ": " << p.errors;
    EXPECT_EQ(p.codec, "h264");
    EXPECT_TRUE(p.first_packet_keyframe) << clip;
    EXPECT_TRUE(p.decodes_cleanly) << clip << ": " << p.errors;
    EXPECT_TRUE(p.one_size) << clip << " mixes picture sizes (declared " << p.width << "x" << p.height << ")";
    sizes.insert({p.width, p.height});
    std::cout << "[ figures ] " << clip.filename().string() << " " << p.width << "x" << p.height << " " << p.duration_s
              << " s\n";
  }
  EXPECT_TRUE(sizes.count({768, 576})) << "no clip at the first size";
  EXPECT_TRUE(sizes.count({512, 288})) << "no clip at the second size";
  const std::string log = read_file(dir_ / "switch.log");
  EXPECT_NE(log.find("stream configuration changed"), std::string::npos) << log;
}

}  // namespace
}  // namespace matthan::test
