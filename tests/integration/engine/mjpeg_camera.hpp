// A real HTTP MJPEG camera for integration tests: cpp-httplib on 127.0.0.1 (a port it picks free), sending
// pictures as multipart/x-mixed-replace JPEGs at 10 fps behind basic authentication.
#pragma once

#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace matthan::test {

inline constexpr const char* kMjpegUser = "cam";
inline constexpr const char* kMjpegPassword = "s3cret-mjpeg";

// GET /video.mjpg with the right basic credentials streams the pictures in a loop; anything else is a 401.
class MjpegCamera {
 public:
  explicit MjpegCamera(std::vector<std::string> pictures);
  ~MjpegCamera();
  MjpegCamera(const MjpegCamera&) = delete;
  MjpegCamera& operator=(const MjpegCamera&) = delete;

  // http://cam:PASSWORD@127.0.0.1:PORT/video.mjpg
  std::string url(const std::string& password) const;
  int clients() const { return clients_; }

 private:
  std::vector<std::string> pictures_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> clients_{0};
  int port_ = 0;
};

// The first `seconds` of vtest.avi as JPEG pictures (ffmpeg, into `dir`), as an MJPEG camera encodes them;
// empty when ffmpeg fails.
std::vector<std::string> vtest_jpegs(const std::filesystem::path& dir, int seconds);

}  // namespace matthan::test
