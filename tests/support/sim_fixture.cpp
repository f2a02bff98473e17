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
  auto [rc, text] = run_command(
      {"ffmpeg", "-y", "-v", "error", "-i", src.string(), "-t", std::to_string(seconds), "-c", "copy", out.string()});
  if (rc != 0) return {};
  return out;
}

std::filesystem::path make_tamper_clip(const std::filesystem::path& dir, const std::string& scenario, double at_s,
                                       int seconds) {
  const auto src = vtest_avi();
  if (src.empty()) return {};
  const std::string t = std::to_string(at_s);
  const std::string after = "enable='gte(t," + t + ")'";
  std::string vf = "scale=640:360,";
  if (scenario == "black")
    vf += "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:" + after + ",noise=alls=5:allf=t:" + after;
  else if (scenario == "turn")
    vf += "hflip=" + after;
  else if (scenario == "blur")
    vf += "gblur=sigma=6:" + after;
  else if (scenario == "ramp")
    vf += "geq=lum='lum(X,Y)*(1-0.65*min(max(T-" + t + ",0)/15,1))':cb='cb(X,Y)':cr='cr(X,Y)'";
  else
    return {};
  const auto out = dir / ("tamper-" + scenario + ".mp4");
  auto [rc, text] =
      run_command({"ffmpeg", "-y",  "-v",  "error",    "-i",      src.string(), "-t",        std::to_string(seconds),
                   "-vf",    vf,    "-an", "-c:v",     "libx264", "-preset",    "ultrafast", "-g",
                   "20",     "-bf", "0",   "-pix_fmt", "yuv420p", out.string()});
  if (rc != 0) return {};
  return out;
}

SimCamera::SimCamera(const std::string& name, const std::filesystem::path& source,
                     const std::filesystem::path& cache_dir, const std::vector<std::string>& extra_args) {
  port_ = free_tcp_port();
  stderr_path_ = cache_dir / ("sim-" + name + ".log");
  std::vector<std::string> args{
      matthan_binary().string(),    "sim",     "--listen",        "127.0.0.1:" + std::to_string(port_), "--source",
      name + "=" + source.string(), "--cache", cache_dir.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  proc_ = std::make_unique<Process>(std::move(args), stderr_path_.string());
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
