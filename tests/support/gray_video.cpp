// ffmpeg → raw GRAY8 frames through a pipe.
#include "matthan/test/gray_video.hpp"

#include <cstdio>
#include <memory>
#include <string>

namespace matthan::test {

GrayVideo decode_gray(const std::filesystem::path& path, int width, int height, int max_frames, double start_s,
                      int fps) {
  GrayVideo v;
  v.width = width;
  v.height = height;
  std::string filters = "scale=" + std::to_string(width) + ":" + std::to_string(height);
  if (fps > 0) filters = "fps=" + std::to_string(fps) + "," + filters;
  const std::string cmd = "ffmpeg -v error -nostdin -ss " + std::to_string(start_s) + " -i '" + path.string() +
                          "' -vf " + filters + " -frames:v " + std::to_string(max_frames) +
                          " -f rawvideo -pix_fmt gray -";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return v;
  const std::size_t bytes = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  while (static_cast<int>(v.frames.size()) < max_frames) {
    std::vector<std::uint8_t> f(bytes);
    if (std::fread(f.data(), 1, bytes, pipe.get()) != bytes) break;
    v.frames.push_back(std::move(f));
  }
  return v;
}

}  // namespace matthan::test
