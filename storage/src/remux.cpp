// Remux to a normal +faststart MP4: how a finished fragmented clip, or one recovered after a crash, is made final.
#include "matthan/storage/remux.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "matthan/storage/av_ptr.hpp"

namespace matthan {
namespace {

struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

Result<av::InputContextPtr> open_input(const std::filesystem::path& in) {
  AVFormatContext* raw = nullptr;
  const int err = avformat_open_input(&raw, in.c_str(), nullptr, nullptr);
  if (err < 0) return make_error(fmt::format("open {}: {}", in.string(), av::error_text(err)));
  return av::InputContextPtr(raw);
}

int first_video_stream(AVFormatContext* ctx) {
  for (unsigned i = 0; i < ctx->nb_streams; ++i)
    if (ctx->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) return static_cast<int>(i);
  return -1;
}

// Reads packets from `in` into `mux` until the end or the first damaged packet.
Status copy_packets(AVFormatContext* in, int video, AVFormatContext* mux, RemuxSummary& summary) {
  AVStream* ist = in->streams[video];
  AVStream* ost = mux->streams[0];
  av::PacketPtr pkt(av_packet_alloc());
  if (!pkt) return make_error("out of memory");
  std::int64_t first = std::numeric_limits<std::int64_t>::min();
  std::int64_t end = 0;
  std::int64_t last_dts = std::numeric_limits<std::int64_t>::min();
  for (;;) {
    const int err = av_read_frame(in, pkt.get());
    if (err == AVERROR_EOF) break;
    if (err < 0) {
      summary.truncated = true;
      break;
    }
    if (pkt->stream_index != video) {
      av_packet_unref(pkt.get());
      continue;
    }
    if ((pkt->flags & AV_PKT_FLAG_CORRUPT) != 0 || pkt->pts == AV_NOPTS_VALUE || pkt->dts == AV_NOPTS_VALUE ||
        (summary.packets == 0 && (pkt->flags & AV_PKT_FLAG_KEY) == 0) || pkt->dts <= last_dts) {
      summary.truncated = true;  // a cut-off sample (short read) or nonsense after the crash point
      av_packet_unref(pkt.get());
      break;
    }
    last_dts = pkt->dts;
    if (first == std::numeric_limits<std::int64_t>::min()) first = pkt->pts;
    end = std::max(end, pkt->pts + std::max<std::int64_t>(pkt->duration, 0));
    pkt->stream_index = 0;
    av_packet_rescale_ts(pkt.get(), ist->time_base, ost->time_base);
    pkt->pos = -1;
    const int werr = av_write_frame(mux, pkt.get());
    av_packet_unref(pkt.get());
    if (werr < 0) return make_error(fmt::format("write: {}", av::error_text(werr)));
    ++summary.packets;
  }
  if (summary.packets > 0) summary.duration_s = static_cast<double>(end - first) * av_q2d(ist->time_base);
  return {};
}

Status write_faststart(AVFormatContext* in, int video, const std::filesystem::path& tmp, RemuxSummary& summary) {
  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, "mp4", tmp.c_str());
  if (err < 0 || raw == nullptr) return make_error(fmt::format("mp4 muxer: {}", av::error_text(err)));
  av::OutputContextPtr mux(raw);
  AVStream* ost = avformat_new_stream(raw, nullptr);
  if (ost == nullptr) return make_error("mp4 stream: out of memory");
  AVStream* ist = in->streams[video];
  err = avcodec_parameters_copy(ost->codecpar, ist->codecpar);
  if (err < 0) return make_error(fmt::format("codec parameters: {}", av::error_text(err)));
  // avc1/hvc1 keep parameter sets in the sample entry, which browsers expect.
  ost->codecpar->codec_tag =
      ist->codecpar->codec_id == AV_CODEC_ID_HEVC ? MKTAG('h', 'v', 'c', '1') : MKTAG('a', 'v', 'c', '1');
  ost->time_base = AVRational{1, 90000};
  ost->avg_frame_rate = ist->avg_frame_rate;
  err = avio_open(&raw->pb, tmp.c_str(), AVIO_FLAG_WRITE);
  if (err < 0) return make_error(fmt::format("open: {}", av::error_text(err)));
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", "+faststart", 0);
  err = avformat_write_header(raw, &opts);
  const av::DictionaryPtr unused_opts(opts);  // what the muxer did not take
  if (err < 0) return make_error(fmt::format("header: {}", av::error_text(err)));
  if (Status s = copy_packets(in, video, raw, summary); !s) return s;
  if (summary.packets == 0) return make_error("no readable video packet");
  return av::finish_output(raw);
}

}  // namespace

Status fsync_path(const std::filesystem::path& path, bool directory) {
  const FdGuard file{::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY)};
  if (file.fd < 0) return make_error(fmt::format("open {} for fsync: {}", path.string(), std::strerror(errno)));
  if (::fsync(file.fd) != 0) return make_error(fmt::format("fsync {}: {}", path.string(), std::strerror(errno)));
  return {};
}

Status commit_file(const std::filesystem::path& tmp, const std::filesystem::path& final_path) {
  std::error_code ec;
  if (Status s = fsync_path(tmp, false); !s) {
    std::filesystem::remove(tmp, ec);
    return s;
  }
  std::filesystem::rename(tmp, final_path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    return make_error(fmt::format("rename {} -> {}: {}", tmp.string(), final_path.string(), why));
  }
  (void)fsync_path(final_path.has_parent_path() ? final_path.parent_path() : ".", true);
  return {};
}

Result<RemuxSummary> remux_to_faststart(const std::filesystem::path& in, const std::filesystem::path& out) {
  auto input = open_input(in);
  if (!input) return input.error();
  const int video = first_video_stream(input->get());
  if (video < 0) return make_error(fmt::format("remux {}: no video stream", in.string()));
  std::filesystem::path tmp = out;
  tmp += ".tmp";
  RemuxSummary summary;
  std::error_code ec;
  if (Status s = write_faststart(input->get(), video, tmp, summary); !s) {
    std::filesystem::remove(tmp, ec);
    return make_error(fmt::format("remux {} -> {}: {}", in.string(), out.string(), s.error().message));
  }
  if (Status s = commit_file(tmp, out); !s) return s.error();
  return summary;
}

Result<RemuxSummary> inspect_clip(const std::filesystem::path& path) {
  auto input = open_input(path);
  if (!input) return input.error();
  const int video = first_video_stream(input->get());
  if (video < 0) return make_error(fmt::format("{}: no video stream", path.string()));
  av::PacketPtr pkt(av_packet_alloc());
  if (!pkt) return make_error("out of memory");
  RemuxSummary summary;
  std::int64_t first = std::numeric_limits<std::int64_t>::min();
  std::int64_t end = 0;
  for (;;) {
    const int err = av_read_frame(input->get(), pkt.get());
    if (err == AVERROR_EOF) break;
    if (err < 0 || (pkt->flags & AV_PKT_FLAG_CORRUPT) != 0) {
      summary.truncated = true;
      break;
    }
    if (pkt->stream_index == video && pkt->pts != AV_NOPTS_VALUE) {
      if (first == std::numeric_limits<std::int64_t>::min()) first = pkt->pts;
      end = std::max(end, pkt->pts + std::max<std::int64_t>(pkt->duration, 0));
      ++summary.packets;
    }
    av_packet_unref(pkt.get());
  }
  if (summary.packets == 0) return make_error(fmt::format("{}: no readable video packet", path.string()));
  summary.duration_s = static_cast<double>(end - first) * av_q2d((*input)->streams[video]->time_base);
  return summary;
}

}  // namespace matthan
