// /metrics against a running daemon: `matthan sim` serves a cut of vtest.avi, `matthan run` analyses it,
// and a real HTTP client scrapes the review server (bearer token) and the `metrics.listen` listener on
// ports the test picks. The text is parsed (tests/support/prometheus_text) and checked for real figures:
// the camera is up, frames analysed grow between scrapes, every counter only grows, incidents are counted.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/prometheus_text.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kViewerToken = "prometheus-token-0123456789";
// Quote, backslash and UTF-8: they must reach the label escaped and read back unchanged.
const std::string kCameraName = "Cổng \"A\" \\ trường";

class MetricsIt : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = new fs::path(make_temp_dir("matthan-metrics-it"));
    const fs::path cut = cut_vtest(*dir_, 30);
    ASSERT_FALSE(cut.empty()) << "could not cut vtest.avi with ffmpeg";
    sim_ = new SimCamera("vtest", cut, *dir_);
    ASSERT_TRUE(sim_->ok()) << "matthan sim did not print its URL:\n" << sim_->log();
    review_port_ = free_tcp_port();
    do metrics_port_ = free_tcp_port();
    while (metrics_port_ == review_port_);
    std::ofstream(*dir_ / "metrics.yaml")
        << "node: metrics-it\n"
        << "storage: {root: \"" << (*dir_ / "data").string() << "\"}\n"
        << "events: {bind: \"tcp://127.0.0.1:" << free_tcp_port() << "\"}\n"
        << "health: {heartbeat_s: 1}\n"
        << "defaults:\n"
        << "  detect: {width: 640, height: 360, fps: 5}\n"
        << "  motion: {min_area: 0.002, start_frames: 3, end_seconds: 2}\n"
        << "  clip: {pre_roll: 2, post_roll: 1, max_length: 10}\n"
        << "cameras:\n"
        << "  - {id: vtest, name: \"Cổng \\\"A\\\" \\\\ trường\", url: \"" << sim_->url()
        << "\"}\n"
        // The same stream with object detection (OpenCV's HOG people detector: no model file needed).
        << "  - {id: vtest-objects, url: \"" << sim_->url() << "\", detect: {objects: ~}}\n"
        << "review:\n"
        << "  listen: 127.0.0.1:" << review_port_ << "\n"
        << "  api_tokens:\n"
        << "    - {name: prometheus, role: viewer, token: \"" << kViewerToken << "\"}\n"
        << "metrics:\n"
        << "  listen: 127.0.0.1:" << metrics_port_ << "\n";
    daemon_ = new Process({matthan_binary().string(), "run", "--config", (*dir_ / "metrics.yaml").string()},
                          (*dir_ / "daemon.log").string());
    for (int i = 0; i < 100; ++i) {
      httplib::Client c("127.0.0.1", review_port_);
      if (auto r = c.Get("/healthz"); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "review server did not answer /healthz; log:\n" << read_file(*dir_ / "daemon.log");
  }

  static void TearDownTestSuite() {
    if (daemon_) {
      daemon_->signal(SIGTERM);
      daemon_->wait(std::chrono::seconds(60));
      delete daemon_;
      daemon_ = nullptr;
    }
    delete sim_;
    sim_ = nullptr;
    if (dir_ && !::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_TRUE(daemon_ && daemon_->running()) << "daemon not running; log:\n" << read_file(*dir_ / "daemon.log");
  }

  // One scrape of the review server's /metrics with the viewer token, parsed.
  static PromText scrape() {
    httplib::Client c("127.0.0.1", review_port_);
    c.set_read_timeout(10, 0);
    auto r = c.Get("/metrics", {{"Authorization", std::string("Bearer ") + kViewerToken}});
    if (!r || r->status != 200) {
      PromText t;
      t.errors.push_back("scrape failed: " + (r ? std::to_string(r->status) : std::string("no answer")));
      return t;
    }
    return parse_prometheus_text(r->body);
  }

  // Scrapes until `ok` holds for a parsed scrape (up to `seconds`); returns the last scrape.
  template <class Pred>
  static PromText scrape_until(Pred ok, int seconds) {
    PromText t;
    for (int i = 0; i < seconds * 4; ++i) {
      t = scrape();
      if (t.errors.empty() && ok(t)) return t;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return t;
  }

  static double v(const PromText& t, const std::string& name, const PromLabels& labels = {}) {
    return t.value(name, labels).value_or(-1);
  }

  static fs::path* dir_;
  static SimCamera* sim_;
  static Process* daemon_;
  static int review_port_, metrics_port_;
};

fs::path* MetricsIt::dir_ = nullptr;
SimCamera* MetricsIt::sim_ = nullptr;
Process* MetricsIt::daemon_ = nullptr;
int MetricsIt::review_port_ = 0;
int MetricsIt::metrics_port_ = 0;

TEST_F(MetricsIt, ReviewNeedsATokenAndTheOwnListenerServesOnlyMetrics) {
  httplib::Client review("127.0.0.1", review_port_);
  auto anonymous = review.Get("/metrics");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer realm=\"matthan\"");
  auto wrong = review.Get("/metrics", {{"Authorization", "Bearer not-the-token-at-all"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto ok = review.Get("/metrics", {{"Authorization", std::string("Bearer ") + kViewerToken}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");

  httplib::Client own("127.0.0.1", metrics_port_);
  auto plain = own.Get("/metrics");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  const PromText t = parse_prometheus_text(plain->body);
  EXPECT_TRUE(t.errors.empty()) << ::testing::PrintToString(t.errors);
  EXPECT_EQ(v(t, "matthan_info", {{"node", "metrics-it"}}), 1);
  auto other = own.Get("/api/incidents");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
}

// The object detector's calls and the crops they looked at, per camera and beside the detector's histogram:
// crops / calls is what a call costs (one network input per crop).
TEST_F(MetricsIt, ObjectDetectorCallsAndCropsPerCamera) {
  const PromLabels objects{{"camera", "vtest-objects"}};
  const PromText t =
      scrape_until([&](const PromText& s) { return v(s, "matthan_camera_object_calls_total", objects) > 0; }, 60);
  ASSERT_TRUE(t.errors.empty()) << ::testing::PrintToString(t.errors);
  const double calls = v(t, "matthan_camera_object_calls_total", objects);
  const double crops = v(t, "matthan_camera_object_crops_total", objects);
  ASSERT_GT(calls, 0) << "people walk in vtest: the detector must have run; log:\n" << read_file(*dir_ / "daemon.log");
  EXPECT_GE(crops, calls) << "every call looks at one crop or more";
  EXPECT_EQ(t.families.at("matthan_detector_crops_total").type, "counter");
  EXPECT_GT(v(t, "matthan_detector_crops_total", {{"detector", "objects"}}), 0);
  EXPECT_GT(v(t, "matthan_detector_calls_total", {{"detector", "objects"}}), 0);
  EXPECT_TRUE(t.find("matthan_detector_crops_total", {{"detector", "motion"}}).empty());
  EXPECT_TRUE(t.find("matthan_camera_object_calls_total", {{"camera", "vtest"}}).empty())
      << "the camera without detect.objects has no object detector series";
}

TEST_F(MetricsIt, CameraUpFramesGrowAndCountersOnlyGrow) {
  const PromText first = scrape_until(
      [](const PromText& t) {
        return v(t, "matthan_camera_up", {{"camera", "vtest"}}) == 1 &&
               v(t, "matthan_camera_frames_analysed_total", {{"camera", "vtest"}}) > 0;
      },
      60);
  ASSERT_TRUE(first.errors.empty()) << ::testing::PrintToString(first.errors);
  ASSERT_EQ(v(first, "matthan_camera_up", {{"camera", "vtest"}}), 1) << read_file(*dir_ / "daemon.log");
  EXPECT_EQ(v(first, "matthan_camera_state", {{"camera", "vtest"}, {"state", "streaming"}}), 1);
  const auto info = first.find("matthan_camera_info", {{"camera", "vtest"}});
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].labels.at("name"), kCameraName);

  std::this_thread::sleep_for(std::chrono::seconds(3));
  const PromText second = scrape();
  ASSERT_TRUE(second.errors.empty()) << ::testing::PrintToString(second.errors);
  const PromLabels cam{{"camera", "vtest"}};
  EXPECT_GT(v(second, "matthan_camera_frames_analysed_total", cam),
            v(first, "matthan_camera_frames_analysed_total", cam));
  EXPECT_GT(v(second, "matthan_camera_packets_total", cam), v(first, "matthan_camera_packets_total", cam));
  EXPECT_GT(v(second, "matthan_detector_calls_total", {{"detector", "motion"}}),
            v(first, "matthan_detector_calls_total", {{"detector", "motion"}}));
  // This camera has no object detection: it has no object detector series.
  EXPECT_TRUE(second.find("matthan_camera_object_calls_total", cam).empty());
  EXPECT_TRUE(second.find("matthan_camera_object_crops_total", cam).empty());
  EXPECT_GT(v(second, "process_cpu_seconds_total"), 0);
  EXPECT_GT(v(second, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(v(second, "matthan_storage_free_bytes"), 0);
  EXPECT_GT(v(second, "matthan_events_published_total"), 0);  // health and heartbeat messages
  EXPECT_GE(v(second, "matthan_camera_last_frame_age_seconds", cam), 0);
  EXPECT_LT(v(second, "matthan_camera_last_frame_age_seconds", cam), 5);

  // Every counter series of the first scrape is in the second, and not smaller.
  std::size_t counters = 0;
  for (const auto& s : first.samples) {
    const auto fam = first.families.find(s.name);
    if (fam == first.families.end() || fam->second.type != "counter") continue;
    const auto later = second.value(s.name, s.labels);
    ASSERT_TRUE(later) << s.name << " vanished";
    EXPECT_GE(*later, s.value) << s.name;
    ++counters;
  }
  EXPECT_GT(counters, 15u);
}

TEST_F(MetricsIt, RatesAndKeyframeIntervalFromTheStream) {
  const PromLabels cam{{"camera", "vtest"}};
  const PromText t = scrape_until(
      [&](const PromText& s) {
        return v(s, "matthan_camera_fps_analysed", cam) > 0 && v(s, "matthan_camera_fps_in", cam) > 0 &&
               v(s, "matthan_camera_keyframe_interval_seconds", cam) > 0;
      },
      60);
  ASSERT_TRUE(t.errors.empty()) << ::testing::PrintToString(t.errors);
  // detect.fps is 5: the analysed rate sits near it (never far above).
  EXPECT_GT(v(t, "matthan_camera_fps_analysed", cam), 1);
  EXPECT_LT(v(t, "matthan_camera_fps_analysed", cam), 8);
  EXPECT_GE(v(t, "matthan_camera_fps_in", cam), v(t, "matthan_camera_fps_analysed", cam) * 0.8);
  EXPECT_GT(v(t, "matthan_camera_keyframe_interval_seconds", cam), 0);
  EXPECT_LT(v(t, "matthan_camera_keyframe_interval_seconds", cam), 20);
}

TEST_F(MetricsIt, IncidentsAndClipsAreCounted) {
  const PromLabels motion{{"camera", "vtest"}, {"kind", "motion"}};
  // vtest's walkers start incidents; max_length 10 s ends them, and their clips get written.
  const PromText t = scrape_until(
      [&](const PromText& s) {
        return v(s, "matthan_camera_incidents_total", motion) >= 1 && v(s, "matthan_storage_clips_written_total") >= 1;
      },
      120);
  ASSERT_TRUE(t.errors.empty()) << ::testing::PrintToString(t.errors);
  ASSERT_GE(v(t, "matthan_camera_incidents_total", motion), 1) << read_file(*dir_ / "daemon.log");
  EXPECT_EQ(v(t, "matthan_camera_incidents_total", {{"camera", "vtest"}, {"kind", "camera_offline"}}), 0);
  EXPECT_GE(v(t, "matthan_storage_clips_written_total"), 1);
  EXPECT_GT(v(t, "matthan_storage_clip_bytes"), 0);
  EXPECT_EQ(v(t, "matthan_storage_clip_write_errors_total"), 0);

  // The index lists ended incidents only; a scrape after the listing counts at least as many started.
  httplib::Client c("127.0.0.1", review_port_);
  auto r = c.Get("/api/incidents?camera=vtest&kind=motion&limit=200",
                 {{"Authorization", std::string("Bearer ") + kViewerToken}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::size_t listed = json::parse(r->body)["items"].size();
  const PromText after = scrape();
  EXPECT_GE(v(after, "matthan_camera_incidents_total", motion), static_cast<double>(listed));
}

}  // namespace
}  // namespace matthan::test
