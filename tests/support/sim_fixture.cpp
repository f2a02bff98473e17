// `matthan sim` as a child process, and a short cut of vtest.avi to serve.
#include "matthan/test/sim_fixture.hpp"

#include <fstream>
#include <sstream>

#include "matthan/test/paths.hpp"

namespace matthan::test {

std::filesystem::path cut_vtest(const std::filesystem::path& dir, int seconds) {
  const auto src = vtest_avi();
  if (src.empty()) return {};
  const auto out = dir / ("vtest-" + std::to_string(seconds) + "s.avi");
  auto [rc, text] = run_command({"ffmpeg", "-y", "-v", "error", "-i", src.string(), "-t", std::to_string(seconds),
                                 "-c", "copy", out.string()});
  if (rc != 0) return {};
  return out;
}

SimCamera::SimCamera(const std::string& name, const std::filesystem::path& source,
                     const std::filesystem::path& cache_dir) {
  port_ = free_tcp_port();
  stderr_path_ = cache_dir / ("sim-" + name + ".log");
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{matthan_binary().string(), "sim", "--listen", "127.0.0.1:" + std::to_string(port_),
                               "--source", name + "=" + source.string(), "--cache", cache_dir.string()},
      stderr_path_.string());
  while (auto line = proc_->read_line(std::chrono::seconds(120))) {
    if (line->rfind("rtsp://", 0) == 0) {
      url_ = *line;
      break;
    }
  }
}

std::string SimCamera::log() const {
  std::ifstream in(stderr_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace matthan::test
