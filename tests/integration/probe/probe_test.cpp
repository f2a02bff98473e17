// `matthan probe` against a real `matthan sim` serving a cut of vtest.avi (768x576 H.264, 10 fps, keyframe
// every 20 frames), plus a missing path, a closed port and a server that never answers.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../engine/mjpeg_camera.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;
constexpr auto kProbeTimeout = std::chrono::seconds(120);

struct ProbeRun {
  std::optional<int> rc;
  std::string out;  // stdout only
  std::string err;  // stderr
};

class ProbeIT : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = new fs::path(make_temp_dir("matthan-probe"));
    const fs::path cut = cut_vtest(*dir_, 20);
    ASSERT_FALSE(cut.empty()) << "could not cut vtest.avi with ffmpeg";
    sim_ = new SimCamera("vtest", cut, *dir_);
    ASSERT_TRUE(sim_->ok()) << "matthan sim did not print its URL:\n" << sim_->log();
  }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_TRUE(sim_ && sim_->ok());
  }

  static ProbeRun probe(std::vector<std::string> args) {
    args.insert(args.begin(), {matthan_binary().string(), "probe"});
    const fs::path err = *dir_ / "probe-stderr.log";
    Process p(args, err.string());
    ProbeRun r;
    r.rc = p.wait(kProbeTimeout);
    r.out = p.output();
    r.err = read_file(err);
    return r;
  }

  static nlohmann::json parse_json(const ProbeRun& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "stdout is not one JSON object:\n" << r.out << "\nstderr:\n" << r.err;
    EXPECT_TRUE(j.is_object());
    return j;
  }

  static std::string url_with_password() {
    // rtsp://127.0.0.1:PORT/vtest -> rtsp://admin:s3cr3t-pw@127.0.0.1:PORT/vtest (the sim ignores it).
    std::string url = sim_->url();
    return url.insert(std::string("rtsp://").size(), "admin:s3cr3t-pw@");
  }

  static fs::path* dir_;
  static SimCamera* sim_;
};

fs::path* ProbeIT::dir_ = nullptr;
SimCamera* ProbeIT::sim_ = nullptr;

TEST_F(ProbeIT, JsonReportsTheSimulatedCameraAndMasksThePassword) {
  const ProbeRun r = probe({url_with_password(), "--seconds", "6", "--json"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const auto j = parse_json(r);
  ASSERT_TRUE(j.is_object());
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_TRUE(j["error"].is_null());

  const auto& v = j["video"];
  ASSERT_TRUE(v.is_object()) << j.dump(2);
  EXPECT_EQ(v["codec"], "H.264");
  EXPECT_FALSE(v["profile"].get<std::string>().empty());
  EXPECT_EQ(v["width"], 768);
  EXPECT_EQ(v["height"], 576);
  EXPECT_NEAR(v["fps"].get<double>(), 10.0, 0.5);
  ASSERT_TRUE(v["keyframe_interval_s"].is_number()) << j.dump(2);
  EXPECT_NEAR(v["keyframe_interval_s"].get<double>(), 2.0, 0.25);
  EXPECT_NEAR(v["keyframe_interval_frames"].get<double>(), 20.0, 2.0);
  EXPECT_GE(v["keyframes"].get<int>(), 3);
  EXPECT_GT(v["bitrate_kbps"].get<double>(), 20.0);
  EXPECT_LT(v["bitrate_kbps"].get<double>(), 20000.0);
  EXPECT_TRUE(j["audio"].is_null());

  ASSERT_TRUE(j["time_to_first_frame_s"].is_number());
  EXPECT_GT(j["time_to_first_frame_s"].get<double>(), 0.0);
  EXPECT_LT(j["time_to_first_frame_s"].get<double>(), 20.0);
  EXPECT_NEAR(j["measured_seconds"].get<double>(), 6.0, 1.0);

  EXPECT_TRUE(j["transports"]["tcp"]["ok"].get<bool>()) << j["transports"].dump();
  EXPECT_TRUE(j["transports"]["udp"]["ok"].get<bool>()) << j["transports"].dump();
  EXPECT_EQ(j["pre_roll_s"], 5.0);
  EXPECT_TRUE(j["clips_start_on_time"].get<bool>());

  // Masked everywhere, the user name kept so the config is easy to finish.
  EXPECT_EQ(r.out.find("s3cr3t-pw"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("s3cr3t-pw"), std::string::npos) << r.err;
  const std::string masked = url_with_password().replace(std::string("rtsp://admin:").size(), 9, "***");
  EXPECT_EQ(j["url"], masked);

  // The suggested block is itself a valid config.
  const std::string yaml = j["suggested_config"].get<std::string>();
  EXPECT_NE(yaml.find("url: \"" + masked + "\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("id: vtest"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("detect: {fps: 5}"), std::string::npos) << yaml;  // analysed at its own size
  const fs::path cfg = *dir_ / "suggested.yaml";
  std::ofstream(cfg) << yaml;
  auto [rc, text] = run_command({matthan_binary().string(), "check", "--config", cfg.string()});
  EXPECT_EQ(rc, 0) << yaml << "\n" << text;
}

// An H.265 camera: the codec is reported as H.265 (not refused), with its size and a config that checks.
TEST_F(ProbeIT, H265CameraIsReportedAsH265) {
  const fs::path cut = cut_vtest(*dir_, 6);
  ASSERT_FALSE(cut.empty());
  SimCamera h265("hevc", cut, *dir_, {"--codec", "h265"});
  ASSERT_TRUE(h265.ok()) << "matthan sim did not print its URL:\n" << h265.log();
  const ProbeRun r = probe({h265.url(), "--seconds", "4", "--json"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const auto j = parse_json(r);
  ASSERT_TRUE(j.is_object());
  EXPECT_TRUE(j["ok"].get<bool>()) << j.dump(2);
  const auto& v = j["video"];
  ASSERT_TRUE(v.is_object()) << j.dump(2);
  EXPECT_EQ(v["codec"], "H.265");
  EXPECT_EQ(v["width"], 768);
  EXPECT_EQ(v["height"], 576);
  const fs::path cfg = *dir_ / "suggested-h265.yaml";
  std::ofstream(cfg) << j["suggested_config"].get<std::string>();
  auto [rc, text] = run_command({matthan_binary().string(), "check", "--config", cfg.string()});
  EXPECT_EQ(rc, 0) << text;
}

// An HTTP MJPEG camera (a real cpp-httplib server with basic auth, mjpeg_camera.hpp): measured as MJPEG, no RTSP
// transport checks, a suggested config `matthan check` accepts, the password masked; a wrong one is a 401.
TEST_F(ProbeIT, MjpegCameraIsMeasuredAndAWrongPasswordIsUnauthorized) {
  const fs::path pics = *dir_ / "mjpeg";
  fs::create_directories(pics);
  auto pictures = vtest_jpegs(pics, 5);
  ASSERT_GT(pictures.size(), 20u) << "could not cut vtest.avi into JPEGs with ffmpeg";
  MjpegCamera camera(std::move(pictures));
  const ProbeRun r = probe({camera.url(kMjpegPassword), "--seconds", "3", "--json"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const auto j = parse_json(r);
  ASSERT_TRUE(j.is_object());
  EXPECT_TRUE(j["ok"].get<bool>()) << j.dump(2);
  EXPECT_EQ(j["url"], camera.url("***"));
  EXPECT_EQ(r.out.find(kMjpegPassword), std::string::npos) << "the password leaked into the report";
  const auto& v = j["video"];
  ASSERT_TRUE(v.is_object()) << j.dump(2);
  EXPECT_EQ(v["codec"], "MJPEG");
  EXPECT_EQ(v["width"], 768);
  EXPECT_EQ(v["height"], 576);
  EXPECT_NEAR(v["fps"].get<double>(), 10.0, 2.5) << "the camera sends 10 pictures a second";
  EXPECT_EQ(v["keyframes"], v["frames"]) << "every JPEG is a whole picture";
  EXPECT_TRUE(j["transports"].empty()) << "an HTTP camera has no RTSP transport to check";
  EXPECT_TRUE(j["clips_start_on_time"].get<bool>());
  bool warned = false;
  for (const auto& w : j["warnings"]) warned |= w.get<std::string>().find("MJPEG") != std::string::npos;
  EXPECT_TRUE(warned) << "the report must say what MJPEG costs: " << j.dump(2);
  const fs::path cfg = *dir_ / "suggested-mjpeg.yaml";
  std::string yaml = j["suggested_config"].get<std::string>();
  const auto masked = yaml.find("***");
  ASSERT_NE(masked, std::string::npos) << yaml;
  yaml.replace(masked, 3, kMjpegPassword);
  std::ofstream(cfg) << yaml;
  auto [rc, text] = run_command({matthan_binary().string(), "check", "--config", cfg.string()});
  EXPECT_EQ(rc, 0) << text;

  const ProbeRun bad = probe({camera.url("wrong-password"), "--seconds", "2", "--timeout", "10", "--json"});
  EXPECT_NE(bad.rc, 0);
  const auto jb = parse_json(bad);
  ASSERT_TRUE(jb.is_object());
  EXPECT_FALSE(jb["ok"].get<bool>());
  EXPECT_EQ(jb["error"]["kind"], "unauthorized") << jb.dump(2);
  EXPECT_EQ(bad.out.find("wrong-password"), std::string::npos) << "the password leaked into the report";
}

TEST_F(ProbeIT, TextWarnsWhenKeyframesComeLessOftenThanThePreRoll) {
  const ProbeRun r = probe({sim_->url(), "--seconds", "4", "--pre-roll", "1"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;  // a warning, not a failure
  EXPECT_NE(r.out.find("H.264"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("768x576"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("may NOT start on time with a 1 s pre-roll"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warning: clips may not start on time: keyframes come every 2."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cameras:\n  - id: vtest"), std::string::npos) << r.out;
}

TEST_F(ProbeIT, MissingPathIsNotFound) {
  std::string url = sim_->url();
  url.replace(url.rfind('/'), std::string::npos, "/no-such-camera");
  const ProbeRun r = probe({url, "--json", "--timeout", "20"});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  const auto j = parse_json(r);
  ASSERT_TRUE(j.is_object());
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["error"]["kind"], "not_found") << j.dump(2);
  EXPECT_NE(j["error"]["message"].get<std::string>().find("404"), std::string::npos);
  EXPECT_TRUE(j["suggested_config"].is_null());
}

TEST(ProbeFailures, ClosedPortIsRefused) {
  const int port = free_tcp_port();
  const auto dir = make_temp_dir("matthan-probe-refused");
  Process p(
      {matthan_binary().string(), "probe", "rtsp://u:pw-secret@127.0.0.1:" + std::to_string(port) + "/x", "--json"},
      (dir / "stderr.log").string());
  ASSERT_EQ(p.wait(kProbeTimeout), 1) << p.output();
  const auto j = nlohmann::json::parse(p.output(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << p.output();
  EXPECT_EQ(j["error"]["kind"], "refused") << j.dump(2);
  EXPECT_NE(j["error"]["message"].get<std::string>().find("connection refused"), std::string::npos);
  EXPECT_EQ(p.output().find("pw-secret"), std::string::npos);
  fs::remove_all(dir);
}

TEST(ProbeFailures, ServerThatNeverAnswersTimesOut) {
  // Accepts TCP (the kernel completes the handshake from the backlog) but never speaks RTSP.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  const auto dir = make_temp_dir("matthan-probe-silent");
  Process p({matthan_binary().string(), "probe", "rtsp://127.0.0.1:" + std::to_string(port) + "/x", "--json",
             "--timeout", "3"},
            (dir / "stderr.log").string());
  const auto rc = p.wait(kProbeTimeout);
  ::close(fd);
  ASSERT_EQ(rc, 1) << p.output();
  const auto j = nlohmann::json::parse(p.output(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << p.output();
  EXPECT_EQ(j["error"]["kind"], "timeout") << j.dump(2);
  EXPECT_GE(j["connect_ms"].get<double>(), 0.0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace matthan::test
