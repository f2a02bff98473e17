// A real HTTP MJPEG camera for integration tests (see mjpeg_camera.hpp).
#include "mjpeg_camera.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"

namespace matthan::test {
namespace {

using namespace std::chrono_literals;

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

}  // namespace

MjpegCamera::MjpegCamera(std::vector<std::string> pictures) : pictures_(std::move(pictures)) {
  server_.Get("/video.mjpg", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string expected = "Basic " + base64(std::string(kMjpegUser) + ":" + kMjpegPassword);
    if (req.get_header_value("Authorization") != expected) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"camera\"");
      return;
    }
    ++clients_;
    res.set_chunked_content_provider(
        "multipart/x-mixed-replace; boundary=frame",
        [this, i = std::size_t{0}](std::size_t, httplib::DataSink& sink) mutable {
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

MjpegCamera::~MjpegCamera() {
  stop_ = true;
  server_.stop();
  thread_.join();
}

std::string MjpegCamera::url(const std::string& password) const {
  return "http://" + std::string(kMjpegUser) + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/video.mjpg";
}

std::vector<std::string> vtest_jpegs(const std::filesystem::path& dir, int seconds) {
  namespace fs = std::filesystem;
  auto [rc, text] = run_command({"ffmpeg", "-y", "-v", "error", "-i", vtest_avi().string(), "-t",
                                 std::to_string(seconds), "-q:v", "6", (dir / "p%04d.jpg").string()});
  if (rc != 0) return {};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".jpg") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> pictures;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    pictures.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return pictures;
}

}  // namespace matthan::test
