// Cutting a time window out of a recorded file without re-encoding (for `matthan scan`, footage handed in
// on USB sticks): the cut starts at the keyframe at or before the window, so it always plays from its
// first frame and never starts after the moment asked for.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "matthan/core/result.hpp"

namespace matthan {

struct CutSummary {
  std::filesystem::path path;  // the file written: `stem` + ".mp4", or ".mkv" for codecs MP4 cannot hold
  double start_s = 0;          // where the cut starts, in seconds from the source's first video timestamp
  double duration_s = 0;
  std::uint64_t packets = 0;
  bool truncated = false;  // the source ended, or was damaged, before the end of the window
};

// Copies the first video stream's packets from the keyframe at or before `from_s` up to `to_s` (seconds
// from the source's first video timestamp) into `stem`.mp4 (+faststart), or `stem`.mkv when the MP4
// muxer does not take the codec. Timestamps start at 0. Written as a .tmp file, fsync'd and renamed, so a
// file with the final name is always whole. Video only: audio tracks are not copied.
Result<CutSummary> cut_clip(const std::filesystem::path& source, const std::filesystem::path& stem, double from_s,
                            double to_s);

}  // namespace matthan
