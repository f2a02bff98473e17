// A camera with a detect_url substream, through real parts: two `matthan sim` cameras on 127.0.0.1 (vtest.avi at
// its own 768x576 as the main stream, and a 384x288 copy as the substream), `matthan run`, a real ZeroMQ
// subscriber, and ffprobe on the clip. Detection reads the substream, the clip is cut from the main stream, and
// either stream may fail alone without taking the other down.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "engine_run.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool is_detect_health(const ReceivedEvent& e) {
  return e.topic == "health.cam" && e.json.value("stream", "record") == "detect";
}
bool is_record_health(const ReceivedEvent& e) {
  return e.topic == "health.cam" && !e.json.contains("stream");
}

class SubstreamE2E : public ::testing::Test, protected LastEngineRun {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = new fs::path(make_temp_dir("matthan-substream"));
    const fs::path main = cut_vtest(*dir_, 25);
    ASSERT_FALSE(main.empty()) << "could not cut vtest.avi with ffmpeg";
    // The substream: the same scene at half size, as a camera's second encoder gives it.
    const fs::path sub = *dir_ / "vtest-sub.mp4";
    auto [rc, text] =
        run_command({"ffmpeg", "-y",       "-v",      "error",     "-i",        main.string(), "-vf", "scale=384:288",
                     "-an",    "-c:v",     "libx264", "-preset",   "ultrafast", "-g",          "10",  "-bf",
                     "0",      "-pix_fmt", "yuv420p", sub.string()});
    ASSERT_EQ(rc, 0) << text;
    main_ = new SimCamera("main", main, *dir_);
    ASSERT_TRUE(main_->ok()) << "matthan sim did not print its URL:\n" << main_->log();
    sub_ = new SimCamera("sub", sub, *dir_);
    ASSERT_TRUE(sub_->ok()) << "matthan sim did not print its URL:\n" << sub_->log();
  }
  static void TearDownTestSuite() {
    delete main_;
    delete sub_;
    main_ = sub_ = nullptr;
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_TRUE(main_ && main_->ok() && sub_ && sub_->ok());
  }

  // Runs the engine for `seconds` on one camera and returns every incident and health message it published.
  std::vector<ReceivedEvent> run(const std::string& name, const std::string& url, const std::string& detect_url,
                                 int seconds) {
    return run_engine(*dir_, name,
                      short_run_defaults("  offline_after: 600\n") +
                          "cameras:\n"
                          "  - id: cam\n"
                          "    url: " +
                          url +
                          "\n"
                          "    detect_url: " +
                          detect_url + "\n",
                      seconds);
  }

  static fs::path* dir_;
  static SimCamera* main_;
  static SimCamera* sub_;
};

fs::path* SubstreamE2E::dir_ = nullptr;
SimCamera* SubstreamE2E::main_ = nullptr;
SimCamera* SubstreamE2E::sub_ = nullptr;

TEST_F(SubstreamE2E, DetectsOnTheSubstreamAndRecordsTheMainStream) {
  const auto ev = run("both", main_->url(), sub_->url(), 22);
  bool record_streaming = false, detect_streaming = false;
  std::uint64_t detect_decoded = 0, record_packets = 0;
  int starts = 0;
  std::vector<nlohmann::json> ends;
  for (const auto& e : ev) {
    if (is_record_health(e)) {
      if (e.json.value("state", "") == "streaming") record_streaming = true;
      record_packets = std::max(record_packets, e.json["counters"]["packets"].get<std::uint64_t>());
      // The recorded stream is never decoded when detection has its own stream.
      EXPECT_EQ(e.json["counters"]["frames_decoded"].get<std::uint64_t>(), 0u) << e.payload;
    }
    if (is_detect_health(e)) {
      if (e.json.value("state", "") == "streaming") detect_streaming = true;
      detect_decoded = std::max(detect_decoded, e.json["counters"]["frames_decoded"].get<std::uint64_t>());
    }
    if (e.topic == "incident.cam.start") ++starts;
    if (e.topic == "incident.cam.end") ends.push_back(e.json);
  }
  EXPECT_TRUE(record_streaming) << "no health.cam (record) streaming message\n" << output_;
  EXPECT_TRUE(detect_streaming) << "no health.cam with stream=detect streaming\n" << output_;
  EXPECT_GT(detect_decoded, 20u) << "the heartbeat's detect health must count the substream's decoded frames";
  EXPECT_GT(record_packets, 20u) << "the heartbeat's record health must count the main stream's packets";
  ASSERT_GE(starts, 1) << "people walk through vtest: the substream must give a motion incident\n" << output_;
  ASSERT_FALSE(ends.empty()) << output_;
  bool checked_clip = false;
  for (const auto& end : ends) {
    if (!end["clip"].is_object()) continue;
    const fs::path clip = root_ / end["clip"]["path"].get<std::string>();
    const ClipProbe p = probe_clip(clip);
    ASSERT_TRUE(p.opened) << p.errors;
    EXPECT_TRUE(p.first_packet_keyframe);
    EXPECT_TRUE(p.decodes_cleanly) << p.errors;
    // The clip is the main stream at the camera's full size, not the substream detection read.
    auto [rc, size] = run_command({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                   "stream=width,height", "-of", "csv=p=0", clip.string()});
    ASSERT_EQ(rc, 0) << size;
    EXPECT_EQ(size.substr(0, size.find_first_of("\r\n")), "768,576") << clip;
    checked_clip = true;
  }
  EXPECT_TRUE(checked_clip) << "no incident ended with a clip\n" << output_;
  EXPECT_NE(output_.find("detection on rtsp://"), std::string::npos) << output_;
}

TEST_F(SubstreamE2E, ADeadSubstreamLeavesTheRecordingStreamOnline) {
  const auto ev = run("dead-sub", main_->url(), sub_->url() + "-missing", 14);
  bool record_streaming = false, detect_refused = false, offline = false;
  for (const auto& e : ev) {
    if (is_record_health(e) && e.json.value("state", "") == "streaming") record_streaming = true;
    if (is_detect_health(e) && e.json.value("state", "") == "backoff" &&
        e.json.value("reason", "").find("(404)") != std::string::npos)
      detect_refused = true;
    if (e.topic.rfind("incident.", 0) == 0 && e.json.value("kind", "") == "camera_offline") offline = true;
    if (is_record_health(e)) {
      EXPECT_NE(e.json.value("state", ""), "backoff") << e.payload;
    }
  }
  EXPECT_TRUE(record_streaming) << output_;
  EXPECT_TRUE(detect_refused) << "the missing substream must show as detect backoff with its 404\n" << output_;
  EXPECT_FALSE(offline) << "the camera records on: a dead substream is not a camera_offline";
}

TEST_F(SubstreamE2E, ADeadMainStreamStillDetectsOnTheSubstream) {
  const auto ev = run("dead-main", main_->url() + "-missing", sub_->url(), 16);
  bool record_refused = false, detect_streaming = false;
  int starts = 0;
  for (const auto& e : ev) {
    if (is_record_health(e) && e.json.value("state", "") == "backoff" &&
        e.json.value("reason", "").find("(404)") != std::string::npos)
      record_refused = true;
    if (is_detect_health(e) && e.json.value("state", "") == "streaming") detect_streaming = true;
    if (e.topic == "incident.cam.start" && e.json.value("kind", "") == "motion") ++starts;
  }
  EXPECT_TRUE(record_refused) << output_;
  EXPECT_TRUE(detect_streaming) << output_;
  EXPECT_GE(starts, 1) << "detection goes on while the recording stream is refused\n" << output_;
}

}  // namespace
}  // namespace matthan::test
