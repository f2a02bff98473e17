// An HTTP MJPEG camera through real parts: a real HTTP server on 127.0.0.1 (cpp-httplib, mjpeg_camera.hpp) sends
// vtest.avi's pictures as multipart/x-mixed-replace JPEGs at 10 fps behind basic authentication; `matthan run`
// watches it, a real ZeroMQ subscriber checks the events, and ffprobe/ffmpeg check the MJPEG-in-MP4 clip.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_run.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "mjpeg_camera.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassword = kMjpegPassword;

class MjpegE2E : public ::testing::Test, protected LastEngineRun {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = new fs::path(make_temp_dir("matthan-mjpeg"));
    // 20 s of vtest as JPEG pictures, as an MJPEG camera encodes them.
    auto pictures = vtest_jpegs(*dir_, 20);
    ASSERT_GT(pictures.size(), 100u) << "could not cut vtest.avi into JPEGs with ffmpeg";
    camera_ = new MjpegCamera(std::move(pictures));
  }
  static void TearDownTestSuite() {
    delete camera_;
    camera_ = nullptr;
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_NE(camera_, nullptr);
  }

  std::vector<ReceivedEvent> run(const std::string& name, const std::string& url, int seconds) {
    return run_engine(*dir_, name,
                      short_run_defaults() +
                          "cameras:\n"
                          "  - id: mj\n"
                          "    url: " +
                          url + "\n",
                      seconds);
  }

  static fs::path* dir_;
  static MjpegCamera* camera_;
};

fs::path* MjpegE2E::dir_ = nullptr;
MjpegCamera* MjpegE2E::camera_ = nullptr;

TEST_F(MjpegE2E, DetectsMotionAndRecordsAPlayableMjpegClip) {
  const auto ev = run("good", camera_->url(kPassword), 20);
  bool streaming = false;
  std::uint64_t decoded = 0, packets = 0;
  int starts = 0;
  std::vector<nlohmann::json> ends;
  for (const auto& e : ev) {
    EXPECT_EQ(e.payload.find(kPassword), std::string::npos) << "the password leaked into an event: " << e.payload;
    if (e.topic == "health.mj") {
      streaming |= e.json.value("state", "") == "streaming";
      decoded = std::max(decoded, e.json["counters"]["frames_decoded"].get<std::uint64_t>());
      packets = std::max(packets, e.json["counters"]["packets"].get<std::uint64_t>());
    }
    if (e.topic == "incident.mj.start") ++starts;
    if (e.topic == "incident.mj.end") ends.push_back(e.json);
  }
  EXPECT_TRUE(streaming) << output_;
  ASSERT_GE(starts, 1) << "people walk through vtest: the MJPEG camera must give a motion incident\n" << output_;
  // 10 pictures a second arrive; only detect.fps (5) of them are decoded.
  EXPECT_GT(packets, 100u) << output_;
  EXPECT_GT(decoded, 20u) << output_;
  EXPECT_LT(decoded * 10, packets * 7) << "pictures beyond detect.fps must be dropped before decoding";
  bool checked = false;
  for (const auto& end : ends) {
    if (!end["clip"].is_object()) continue;
    const ClipProbe p = probe_clip(root_ / end["clip"]["path"].get<std::string>());
    ASSERT_TRUE(p.opened) << p.errors;
    EXPECT_EQ(p.codec, "mjpeg");
    EXPECT_EQ(p.width, 768);
    EXPECT_EQ(p.height, 576);
    EXPECT_TRUE(p.decodes_cleanly) << p.errors;
    EXPECT_GT(p.duration_s, 1.0);
    EXPECT_GT(p.video_packets, 10);
    checked = true;
  }
  EXPECT_TRUE(checked) << "no incident ended with a clip\n" << output_;
  EXPECT_EQ(output_.find(kPassword), std::string::npos) << "the password leaked into the log";
}

TEST_F(MjpegE2E, WrongPasswordIsAClearRefusal) {
  const auto ev = run("refused", camera_->url("wrong-password"), 8);
  bool refused = false;
  for (const auto& e : ev) {
    if (e.topic == "health.mj" && e.json.value("state", "") == "backoff" &&
        e.json.value("reason", "").find("(401)") != std::string::npos)
      refused = true;
    EXPECT_NE(e.topic, "incident.mj.start");
  }
  EXPECT_TRUE(refused) << "a 401 from the camera must show as backoff with its reason\n" << output_;
  EXPECT_EQ(output_.find("wrong-password"), std::string::npos) << "the password leaked into the log";
}

}  // namespace
}  // namespace matthan::test
