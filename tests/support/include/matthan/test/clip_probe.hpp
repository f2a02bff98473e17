// ffprobe on a real clip: does it open, does it start on a keyframe, how long is it, any errors.
#pragma once

#include <filesystem>
#include <string>

namespace matthan::test {

struct ClipProbe {
  bool opened = false;
  std::string codec;
  std::string codec_tag;      // e.g. "avc1"
  int width = 0, height = 0;  // the stream's declared size (from its codec configuration)
  // Every decoded frame has the declared size (a clip that mixed two configurations would not).
  bool one_size = false;
  double duration_s = 0;
  int video_packets = 0;
  bool first_packet_keyframe = false;
  bool decodes_cleanly = false;  // a full decode (ffmpeg -f null) printed no errors
  std::string errors;            // anything ffprobe/ffmpeg complained about
};

ClipProbe probe_clip(const std::filesystem::path& path);

}  // namespace matthan::test
