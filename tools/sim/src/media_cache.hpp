// Getting a servable H.264 or H.265 MP4 for a source file: the file itself, or a once-transcoded cached copy.
#pragma once

#include <filesystem>

#include "matthan/core/result.hpp"
#include "matthan/sim/simulator.hpp"

namespace matthan {

// The cache key: absolute path + size + mtime (+ the codec), so an edited file is transcoded again.
std::filesystem::path cached_transcode_path(const std::filesystem::path& source, const std::filesystem::path& cache_dir,
                                            SimCodec codec = SimCodec::kH264);

// Returns `source` when it is already `codec` in MP4 form; otherwise transcodes it once (keyframe every
// ~2 s, no B-frames, source frame rate) into cache_dir, writing to a temporary file and renaming it.
Result<std::filesystem::path> servable_file(const std::filesystem::path& source, const std::filesystem::path& cache_dir,
                                            SimCodec codec);

}  // namespace matthan
