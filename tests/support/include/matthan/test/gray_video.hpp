// Real frames for detector tests: a video decoded to GRAY8 at a chosen size with the ffmpeg CLI.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace matthan::test {

struct GrayVideo {
  int width = 0;
  int height = 0;
  std::vector<std::vector<std::uint8_t>> frames;  // width*height bytes each, tightly packed
};

// Decodes up to `max_frames` frames of `path` from `start_s`, scaled to width x height, resampled to `fps`
// when fps > 0. Empty frames when ffmpeg is missing or the file does not decode.
GrayVideo decode_gray(const std::filesystem::path& path, int width, int height, int max_frames, double start_s = 0,
                      int fps = 0);

}  // namespace matthan::test
