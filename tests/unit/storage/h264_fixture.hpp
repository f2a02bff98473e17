// Test fixtures for recording: real H.264 packets without a camera, and an MP4 prober built on libavformat.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan::test {

struct H264FixtureOptions {
  int frames = 50;
  int fps = 10;
  int keyint = 10;  // frames per GOP (fixed: scene-cut keyframes are disabled)
  int width = 320;
  int height = 240;
  VideoCodec codec = VideoCodec::kH264;  // kH265 encodes with libx265 (hvcC extradata)
};

struct H264Fixture {
  std::shared_ptr<const StreamInfo> stream;  // avcC extradata, size, frame rate
  std::vector<EncodedPacket> packets;        // length-prefixed AUs; pts = dts = index / fps from 0; durations set
};

// Encodes synthetic frames (lavfi testsrc) with the ffmpeg CLI and libx264 (or libx265), no B-frames, into a
// temporary MP4, then demuxes the packets back with libavformat. Results are cached per option set for the
// process.
Result<H264Fixture> make_h264_fixture(const H264FixtureOptions& options = {});

// A copy of `p` moved to a new timeline (the payload is shared, not copied).
EncodedPacket retimed(const EncodedPacket& p, MediaTimeNs pts, WallTime wall = {});

struct ClipDemux {
  std::string format;     // e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;      // "h264" / "hevc"
  std::string codec_tag;  // "avc1" / "hvc1"
  int width = 0, height = 0;
  double duration_s = 0;  // of the video stream
  std::size_t packets = 0;
  bool first_is_keyframe = false;
  std::vector<std::int64_t> dts;  // in the stream's time base
};
// Opens an MP4 with libavformat and reads every packet.
Result<ClipDemux> demux_clip(const std::filesystem::path& path);

// Runs `ffprobe -v error -show_packets` and `ffmpeg -v error -i ... -f null -` (a full decode) and returns
// everything they printed on stderr: empty for a clean, playable file.
std::string ffmpeg_complaints(const std::filesystem::path& path);

}  // namespace matthan::test
