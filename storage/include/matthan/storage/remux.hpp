// Remux of an MP4 (fragmented or not, possibly cut short by a crash) into a normal +faststart MP4.
#pragma once

#include <cstdint>
#include <filesystem>

#include "matthan/core/result.hpp"

namespace matthan {

struct RemuxSummary {
  std::uint64_t packets = 0;
  double duration_s = 0;   // last packet's end - first packet's pts, from the output's own timestamps
  bool truncated = false;  // the input ended with a damaged or cut-off fragment; everything before it was kept
};

// Copies every readable video packet of `in` into `out` (no re-encode), +faststart, fsync'd, then renamed
// into place (written as `out`.tmp first, so `out` is never half-written). Stops at the first unreadable
// packet, which is what a kill -9 leaves at the end of a fragmented file. Error when nothing is readable.
Result<RemuxSummary> remux_to_faststart(const std::filesystem::path& in, const std::filesystem::path& out);

// Reads every packet of an MP4 (no decode): how many are readable, and the duration they cover.
Result<RemuxSummary> inspect_clip(const std::filesystem::path& path);

// fsync of a file or a directory (a rename is durable only once its directory is).
Status fsync_path(const std::filesystem::path& path, bool directory);

// Makes a finished temporary file final: fsync it, rename it to `final_path`, fsync the folder. On any
// failure the temporary file is removed, so a file with the final name is always whole.
Status commit_file(const std::filesystem::path& tmp, const std::filesystem::path& final_path);

}  // namespace matthan
