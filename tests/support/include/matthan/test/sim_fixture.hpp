// A real simulated camera for integration tests: `matthan sim` as a child process on a free port.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "matthan/test/process.hpp"

namespace matthan::test {

// The first `seconds` of Debian's vtest.avi, stream-copied (no re-encode) into `dir`. Empty when
// vtest.avi is not installed.
std::filesystem::path cut_vtest(const std::filesystem::path& dir, int seconds);

// Tamper scenarios for `matthan sim`: vtest.avi at 640x360, 10 fps, H.264 (no transcoding in the sim),
// `seconds` long, normal for `at_s` seconds and then, by `scenario`:
//   black  - blacked out (with a little sensor noise, as a covered camera shows)
//   turn   - cut to a different view of the scene (mirrored: every edge elsewhere)
//   blur   - badly defocused (Gaussian blur, sigma 6 px)
//   ramp   - no cut at all: the light fades smoothly to 35 % over 15 s from at_s (must not be tamper)
// Empty when vtest.avi is not installed or ffmpeg fails.
std::filesystem::path make_tamper_clip(const std::filesystem::path& dir, const std::string& scenario, double at_s,
                                       int seconds);

class SimCamera {
 public:
  // Starts `matthan sim` serving `source` as NAME; waits (up to 120 s, the first run transcodes) for its URL.
  // `extra_args` go to `matthan sim` as they are (e.g. {"--codec", "h265"}, {"--then", "NAME=PATH"}).
  SimCamera(const std::string& name, const std::filesystem::path& source, const std::filesystem::path& cache_dir,
            const std::vector<std::string>& extra_args = {});
  bool ok() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  Process& process() { return *proc_; }
  std::string log() const;

 private:
  std::unique_ptr<Process> proc_;
  std::filesystem::path stderr_path_;
  std::string url_;
  int port_ = 0;
};

}  // namespace matthan::test
