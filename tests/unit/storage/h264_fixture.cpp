// Test fixtures for recording: ffmpeg-encoded H.264 packets and an MP4 prober.
#include "h264_fixture.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <tuple>

extern "C" {
#include <libavformat/avformat.h>
}

#include <fmt/format.h>

#include "matthan/storage/av_ptr.hpp"
#include "matthan/test/paths.hpp"

namespace matthan::test {
namespace {

using av::InputContextPtr;
using av::PacketPtr;

Result<InputContextPtr> open_input(const std::filesystem::path& path) {
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (err < 0) return make_error(fmt::format("open {}: {}", path.string(), av::error_text(err)));
  InputContextPtr in(raw);
  err = avformat_find_stream_info(in.get(), nullptr);
  if (err < 0) return make_error(fmt::format("stream info {}: {}", path.string(), av::error_text(err)));
  return in;
}

Result<H264Fixture> encode_and_demux(const H264FixtureOptions& o) {
  const auto dir = make_temp_dir("matthan-h264-fixture");
  const auto mp4 = dir / "fixture.mp4";
  const auto log = dir / "ffmpeg.log";
  const bool hevc = o.codec == VideoCodec::kH265;
  const std::string encoder =
      hevc ? fmt::format("-c:v libx265 -x265-params keyint={0}:min-keyint={0}:scenecut=0:bframes=0:log-level=error",
                         o.keyint)
           : fmt::format("-c:v libx264 -bf 0 -g {0} -keyint_min {0} -sc_threshold 0", o.keyint);
  const std::string cmd = fmt::format(
      "ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size={}x{}:rate={} -frames:v {} {} -preset ultrafast "
      "-pix_fmt yuv420p '{}' 2> '{}'",
      o.width, o.height, o.fps, o.frames, encoder, mp4.string(), log.string());
  if (std::system(cmd.c_str()) != 0) return make_error("ffmpeg failed: " + read_file(log));

  auto in = open_input(mp4);
  if (!in) return in.error();
  AVStream* st = (*in)->streams[0];
  auto info = std::make_shared<StreamInfo>();
  info->codec = o.codec;
  info->width = st->codecpar->width;
  info->height = st->codecpar->height;
  info->fps_num = o.fps;
  info->fps_den = 1;
  info->extradata.assign(st->codecpar->extradata, st->codecpar->extradata + st->codecpar->extradata_size);

  H264Fixture fx;
  fx.stream = info;
  PacketPtr pkt(av_packet_alloc());
  const AVRational ns{1, 1'000'000'000};
  while (av_read_frame(in->get(), pkt.get()) >= 0) {
    EncodedPacket p;
    p.data = std::make_shared<const std::vector<std::uint8_t>>(pkt->data, pkt->data + pkt->size);
    p.stream = info;
    p.pts = av_rescale_q(pkt->pts, st->time_base, ns);
    p.dts = av_rescale_q(pkt->dts, st->time_base, ns);
    p.duration = kNsPerSecond / o.fps;
    p.keyframe = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    fx.packets.push_back(std::move(p));
    av_packet_unref(pkt.get());
  }
  // Start the timeline at 0 whatever the muxer's initial offset was.
  const MediaTimeNs base = fx.packets.empty() ? 0 : fx.packets.front().pts;
  for (auto& p : fx.packets) {
    p.pts -= base;
    p.dts -= base;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (static_cast<int>(fx.packets.size()) != o.frames)
    return make_error(fmt::format("expected {} packets, demuxed {}", o.frames, fx.packets.size()));
  return fx;
}

}  // namespace

Result<H264Fixture> make_h264_fixture(const H264FixtureOptions& o) {
  static std::mutex mu;
  static std::map<std::tuple<int, int, int, int, int, VideoCodec>, H264Fixture> cache;  // guarded by mu
  std::lock_guard lock(mu);
  const auto key = std::make_tuple(o.frames, o.fps, o.keyint, o.width, o.height, o.codec);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto fx = encode_and_demux(o);
  if (fx) cache.emplace(key, *fx);
  return fx;
}

EncodedPacket retimed(const EncodedPacket& p, MediaTimeNs pts, WallTime wall) {
  EncodedPacket out = p;
  out.pts = pts;
  out.dts = pts;
  out.wall = wall;
  return out;
}

Result<ClipDemux> demux_clip(const std::filesystem::path& path) {
  auto in = open_input(path);
  if (!in) return in.error();
  ClipDemux probe;
  probe.format = (*in)->iformat->name;
  const int vi = av_find_best_stream(in->get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (vi < 0) return make_error("no video stream in " + path.string());
  AVStream* st = (*in)->streams[vi];
  probe.codec = avcodec_get_name(st->codecpar->codec_id);
  const std::uint32_t tag = st->codecpar->codec_tag;
  for (int i = 0; i < 4; ++i) probe.codec_tag.push_back(static_cast<char>((tag >> (8 * i)) & 0xff));
  probe.width = st->codecpar->width;
  probe.height = st->codecpar->height;
  probe.duration_s = st->duration == AV_NOPTS_VALUE ? 0 : static_cast<double>(st->duration) * av_q2d(st->time_base);
  PacketPtr pkt(av_packet_alloc());
  while (av_read_frame(in->get(), pkt.get()) >= 0) {
    if (pkt->stream_index == vi) {
      if (probe.packets == 0) probe.first_is_keyframe = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
      ++probe.packets;
      probe.dts.push_back(pkt->dts);
    }
    av_packet_unref(pkt.get());
  }
  return probe;
}

std::string ffmpeg_complaints(const std::filesystem::path& path) {
  const auto dir = make_temp_dir("matthan-ffprobe");
  const auto err = dir / "stderr.txt";
  const std::string file = path.string();
  // passthrough + the input time base: the decode must judge the file, not ffmpeg's own retiming of
  // frames onto a constant-rate output clock (which complains about a repaired 1-tick DTS step).
  const std::string cmd = fmt::format(
      "{{ ffprobe -v error -show_packets '{}' > /dev/null; "
      "ffmpeg -nostdin -v error -i '{}' -fps_mode passthrough -enc_time_base -1 -f null - ; }} 2> '{}'",
      file, file, err.string());
  const int rc = std::system(cmd.c_str());
  std::string out = read_file(err);
  if (rc != 0) out += fmt::format("\n(exit status {})", rc);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

}  // namespace matthan::test
