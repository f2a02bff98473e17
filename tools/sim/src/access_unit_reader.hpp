// Reads a file's H.264 access units (MP4 form) for ever, with timestamps that keep rising across each loop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "av_ptr.hpp"
#include "matthan/core/result.hpp"

namespace matthan {

struct VideoFileInfo {
  bool h264_avc = false;  // H.264 with an avcC record, i.e. servable without re-encoding
  int width = 0, height = 0;
  int fps_num = 0, fps_den = 1;
  std::vector<std::uint8_t> codec_data;  // avcC
};

// Opens a file and describes its best video stream.
Result<VideoFileInfo> probe_video_file(const std::filesystem::path& path);

struct AccessUnit {
  std::vector<std::uint8_t> data;
  std::int64_t pts_ns = 0;  // relative to the first loop's start; never goes back from loop to loop
  std::int64_t dts_ns = 0;
  std::int64_t duration_ns = 0;
  bool keyframe = false;
};

class AccessUnitReader {
 public:
  static Result<std::unique_ptr<AccessUnitReader>> open(const std::filesystem::path& path);
  const VideoFileInfo& info() const { return info_; }
  // The next access unit; at the end of the file it starts over, shifted by the file's length.
  Result<AccessUnit> next();

 private:
  AccessUnitReader(std::filesystem::path path, VideoFileInfo info)
      : path_(std::move(path)), info_(std::move(info)) {}
  Status reopen();
  std::int64_t frame_duration_ns() const;

  std::filesystem::path path_;
  VideoFileInfo info_;
  av::FormatContextPtr format_;
  av::PacketPtr packet_;
  int stream_index_ = -1;
  std::int64_t loop_offset_ns_ = 0;         // added to this loop's timestamps
  std::int64_t loop_end_ns_ = 0;            // end of the latest access unit seen, relative to this loop
  std::int64_t first_ts_ = AV_NOPTS_VALUE;  // this file's first dts, in stream time base
};

}  // namespace matthan
