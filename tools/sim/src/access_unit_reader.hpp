// Reads a playlist of files' H.264 or H.265 access units (MP4 form) for ever, one file after the other, with
// timestamps that keep rising across files and loops.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/sim/simulator.hpp"
#include "matthan/storage/av_ptr.hpp"

namespace matthan {

struct VideoFileInfo {
  // H.264 with an avcC record or H.265 with an hvcC record, i.e. servable without re-encoding; `codec` is
  // meaningful only then.
  bool servable = false;
  SimCodec codec = SimCodec::kH264;
  int width = 0, height = 0;
  int fps_num = 0, fps_den = 1;
  std::vector<std::uint8_t> codec_data;  // avcC or hvcC
};

// Opens a file and describes its best video stream.
Result<VideoFileInfo> probe_video_file(const std::filesystem::path& path);

struct AccessUnit {
  std::vector<std::uint8_t> data;
  std::int64_t pts_ns = 0;  // relative to the first loop's start; never goes back from loop to loop
  std::int64_t dts_ns = 0;
  std::int64_t duration_ns = 0;
  bool keyframe = false;
  std::size_t file = 0;  // which playlist entry it comes from (see AccessUnitReader::info)
};

class AccessUnitReader {
 public:
  // Every file must be servable and of the same codec (sizes may differ: that is a resolution change).
  static Result<std::unique_ptr<AccessUnitReader>> open(const std::vector<std::filesystem::path>& paths);
  static Result<std::unique_ptr<AccessUnitReader>> open(const std::filesystem::path& path) {
    return open(std::vector<std::filesystem::path>{path});
  }
  const VideoFileInfo& info(std::size_t file = 0) const { return infos_.at(file); }
  // The next access unit; at the end of a file the next one starts (the first again after the last),
  // shifted by the length of what was played.
  Result<AccessUnit> next();

 private:
  AccessUnitReader(std::vector<std::filesystem::path> paths, std::vector<VideoFileInfo> infos)
      : paths_(std::move(paths)), infos_(std::move(infos)) {}
  Status reopen();
  std::int64_t frame_duration_ns() const;

  std::vector<std::filesystem::path> paths_;
  std::vector<VideoFileInfo> infos_;
  std::size_t current_ = 0;  // the playlist entry being read
  av::InputContextPtr format_;
  av::PacketPtr packet_;
  int stream_index_ = -1;
  std::int64_t loop_offset_ns_ = 0;         // added to this loop's timestamps
  std::int64_t loop_end_ns_ = 0;            // end of the latest access unit seen, relative to this loop
  std::int64_t first_ts_ = AV_NOPTS_VALUE;  // this file's first dts, in stream time base
};

}  // namespace matthan
