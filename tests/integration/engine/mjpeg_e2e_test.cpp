// An HTTP MJPEG camera through real parts: a real HTTP server on 127.0.0.1 (cpp-httplib, in this test) sends
// vtest.avi's pictures as multipart/x-mixed-replace JPEGs at 10 fps behind basic authentication; `matthan run`
// watches it, a real ZeroMQ subscriber checks the events, and ffprobe/ffmpeg check the MJPEG-in-MP4 clip.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

#include <gtest/gtest.h>

#include "engine_run.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kUser = "cam";
constexpr const char* kPassword = "s3cret-mjpeg";

std::string base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A minimal MJPEG camera: GET /video.mjpg with the right basic credentials streams the pictures in a loop.
class MjpegCamera {
 public:
  explicit MjpegCamera(std::vector<std::string> pictures) : pictures_(std::move(pictures)) {
    server_.Get("/video.mjpg", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string expected = "Basic " + base64(std::string(kUser) + ":" + kPassword);
      if (req.get_header_value("Authorization") != expected) {
        res.status = 401;
        res.set_header("WWW-Authenticate", "Basic realm=\"camera\"");
        return;
      }
      ++clients_;
      res.set_chunked_content_provider(
          "multipart/x-mixed-replace; boundary=frame", [this, i = std::size_t{0}](std::size_t, httplib::DataSink& sink) mutable {
            if (stop_) return false;
            const std::string& jpeg = pictures_[i++ % pictures_.size()];
            const std::string head =
                "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + std::to_string(jpeg.size()) + "\r\n\r\n";
            if (!sink.write(head.data(), head.size()) || !sink.write(jpeg.data(), jpeg.size()) || !sink.write("\r\n", 2))
              return false;
            std::this_thread::sleep_for(100ms);  // 10 fps
            return true;
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(10ms);
  }
  ~MjpegCamera() {
    stop_ = true;
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& password) const {
    return "http://" + std::string(kUser) + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/video.mjpg";
  }
  int clients() const { return clients_; }

 private:
  std::vector<std::string> pictures_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> clients_{0};
  int port_ = 0;
};

class MjpegE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = new fs::path(make_temp_dir("matthan-mjpeg"));
    // 20 s of vtest as JPEG pictures, as an MJPEG camera encodes them.
    auto [rc, text] = run_command({"ffmpeg", "-y", "-v", "error", "-i", vtest_avi().string(), "-t", "20", "-q:v", "6",
                                   (*dir_ / "p%04d.jpg").string()});
    ASSERT_EQ(rc, 0) << text;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(*dir_))
      if (e.path().extension() == ".jpg") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    ASSERT_GT(files.size(), 100u);
    std::vector<std::string> pictures;
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      pictures.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
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
    const EngineRun r = run_engine_for(*dir_, name,
                                       short_run_defaults() +
                                       "cameras:\n"
                                       "  - id: mj\n"
                                       "    url: " + url + "\n",
                                       seconds);
    root_ = r.root;
    output_ = r.output;
    return r.events;
  }

  static fs::path* dir_;
  static MjpegCamera* camera_;
  fs::path root_;
  std::string output_;
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
