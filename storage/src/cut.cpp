// cut_clip: a window of a recorded file, copied packet for packet from the keyframe before it.
#include "matthan/storage/cut.hpp"

#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <limits>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include "matthan/storage/av_ptr.hpp"
#include "matthan/storage/remux.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();

std::int64_t packet_time(const AVPacket& p) {
  return p.pts != AV_NOPTS_VALUE ? p.pts : p.dts;
}

// MP4 when its muxer takes the codec (H.264, H.265, MPEG-4 part 2, MJPEG…), Matroska for the rest
// (msmpeg4, old DVR codecs), which holds nearly anything and plays in VLC and browsers' players alike.
const char* container_for(AVCodecID codec) {
  const AVOutputFormat* mp4 = av_guess_format("mp4", nullptr, nullptr);
  if (mp4 != nullptr && avformat_query_codec(mp4, codec, FF_COMPLIANCE_NORMAL) == 1) return "mp4";
  return "matroska";
}

struct Window {
  std::int64_t from = 0, to = 0;  // in the stream's time base, absolute
};

class Cutter {
 public:
  Cutter(AVFormatContext* in, int video, Window w) : in_(in), video_(video), w_(w) {}

  // Reads from wherever the input is now; keeps the packets since the newest keyframe at or before the
  // window's start, then everything up to the window's end.
  Status run(AVFormatContext* mux, CutSummary& summary) {
    av::PacketPtr pkt(av_packet_alloc());
    if (!pkt) return make_error("out of memory");
    std::deque<av::PacketPtr> gop;  // packets of the current GOP before the window starts
    bool started = false;
    for (;;) {
      const int err = av_read_frame(in_, pkt.get());
      if (err == AVERROR_EOF) {
        summary.truncated = true;
        break;
      }
      if (err < 0) {
        summary.truncated = true;
        break;
      }
      if (pkt->stream_index != video_ || packet_time(*pkt) == AV_NOPTS_VALUE) {
        av_packet_unref(pkt.get());
        continue;
      }
      const std::int64_t t = packet_time(*pkt);
      const bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
      if (!started) {
        if (key) gop.clear();
        if (!key && gop.empty()) {  // no keyframe yet: nothing could decode from here
          av_packet_unref(pkt.get());
          continue;
        }
        gop.emplace_back(av_packet_clone(pkt.get()));
        av_packet_unref(pkt.get());
        if (t < w_.from) continue;  // still before the window: keep this GOP in case the window starts in it
        started = true;
        if (Status s = flush(gop, mux, summary); !s) return s;
        continue;
      }
      if (t > w_.to) {
        av_packet_unref(pkt.get());
        summary.truncated = false;
        break;
      }
      Status s = write(mux, *pkt, summary);
      av_packet_unref(pkt.get());
      if (!s) return s;
    }
    if (!started) {  // the file ends before the window: keep its last GOP, the nearest there is
      if (Status s = flush(gop, mux, summary); !s) return s;
    }
    if (summary.packets > 0) {
      const AVRational tb = in_->streams[video_]->time_base;
      summary.start_s = static_cast<double>(first_ - origin_) * av_q2d(tb);
      summary.duration_s = static_cast<double>(end_ - first_) * av_q2d(tb);
    }
    return {};
  }

  void set_origin(std::int64_t origin) { origin_ = origin; }

 private:
  // Writes the buffered GOP in order, freeing each packet.
  Status flush(std::deque<av::PacketPtr>& gop, AVFormatContext* mux, CutSummary& summary) {
    while (!gop.empty()) {
      const av::PacketPtr p = std::move(gop.front());
      gop.pop_front();
      if (Status s = write(mux, *p, summary); !s) return s;
    }
    return {};
  }

  Status write(AVFormatContext* mux, AVPacket& p, CutSummary& summary) {
    const std::int64_t t = packet_time(p);
    if (p.dts == AV_NOPTS_VALUE) p.dts = t;
    if (p.pts == AV_NOPTS_VALUE) p.pts = p.dts;
    if (first_ == kNone) {
      first_ = t;
      first_dts_ = p.dts;
    }
    if (p.dts <= last_dts_) return {};  // duplicate or backwards timestamps: not playable, dropped
    last_dts_ = p.dts;
    end_ = std::max(end_, t + std::max<std::int64_t>(p.duration, 0));
    // Shift so the first packet decodes at 0 (pts may start a little later when frames are reordered).
    const std::int64_t shift = std::min(first_, first_dts_);
    p.pts -= shift;
    p.dts -= shift;
    p.stream_index = 0;
    p.pos = -1;
    av_packet_rescale_ts(&p, in_->streams[video_]->time_base, mux->streams[0]->time_base);
    const int err = av_interleaved_write_frame(mux, &p);
    if (err < 0) return make_error(fmt::format("write: {}", av::error_text(err)));
    ++summary.packets;
    return {};
  }

  AVFormatContext* in_;
  int video_;
  Window w_;
  std::int64_t origin_ = 0;
  std::int64_t first_ = kNone, first_dts_ = kNone, end_ = 0;
  std::int64_t last_dts_ = kNone;
};

Status write_cut(AVFormatContext* in, int video, Window w, std::int64_t origin, const fs::path& tmp,
                 const char* container, CutSummary& summary) {
  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, container, tmp.c_str());
  if (err < 0 || raw == nullptr) return make_error(fmt::format("{} muxer: {}", container, av::error_text(err)));
  av::OutputContextPtr mux(raw);
  AVStream* ost = avformat_new_stream(raw, nullptr);
  if (ost == nullptr) return make_error("output stream: out of memory");
  AVStream* ist = in->streams[video];
  err = avcodec_parameters_copy(ost->codecpar, ist->codecpar);
  if (err < 0) return make_error(fmt::format("codec parameters: {}", av::error_text(err)));
  ost->codecpar->codec_tag = 0;  // the source's tag (an AVI fourcc) means nothing in the new container
  if (std::string_view(container) == "mp4") {
    if (ist->codecpar->codec_id == AV_CODEC_ID_H264) ost->codecpar->codec_tag = MKTAG('a', 'v', 'c', '1');
    if (ist->codecpar->codec_id == AV_CODEC_ID_HEVC) ost->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');
  }
  ost->time_base = ist->time_base;
  ost->avg_frame_rate = ist->avg_frame_rate;
  err = avio_open(&raw->pb, tmp.c_str(), AVIO_FLAG_WRITE);
  if (err < 0) return make_error(fmt::format("open: {}", av::error_text(err)));
  AVDictionary* opts = nullptr;
  if (std::string_view(container) == "mp4") av_dict_set(&opts, "movflags", "+faststart", 0);
  err = avformat_write_header(raw, &opts);
  const av::DictionaryPtr unused_opts(opts);  // what the muxer did not take
  if (err < 0) return make_error(fmt::format("header: {}", av::error_text(err)));
  Cutter cutter(in, video, w);
  cutter.set_origin(origin);
  if (Status s = cutter.run(raw, summary); !s) return s;
  if (summary.packets == 0) return make_error("no video packet in the window");
  return av::finish_output(raw);
}

}  // namespace

Result<CutSummary> cut_clip(const fs::path& source, const fs::path& stem, double from_s, double to_s) {
  if (!(to_s >= from_s)) return make_error(fmt::format("cut {}: the window ends before it starts", source.string()));
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, source.c_str(), nullptr, nullptr);
  if (err < 0) return make_error(fmt::format("open {}: {}", source.string(), av::error_text(err)));
  av::InputContextPtr in(raw);
  err = avformat_find_stream_info(raw, nullptr);
  if (err < 0) return make_error(fmt::format("{}: no stream info: {}", source.string(), av::error_text(err)));
  const int video = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video < 0) return make_error(fmt::format("{}: no video stream", source.string()));
  AVStream* st = raw->streams[video];
  const std::int64_t origin = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
  const double tb = av_q2d(st->time_base);
  Window w;
  w.from = origin + static_cast<std::int64_t>(std::floor(std::max(from_s, 0.0) / tb));
  w.to = origin + static_cast<std::int64_t>(std::ceil(to_s / tb));
  // Seek to the keyframe before the window when the file is indexed; the cutter still finds the keyframe
  // itself, so an unindexed stream (raw H.264, some DVR exports) is simply read from the start.
  if (av_seek_frame(raw, video, w.from, AVSEEK_FLAG_BACKWARD) < 0)
    (void)av_seek_frame(raw, video, origin, AVSEEK_FLAG_BACKWARD);

  const char* container = container_for(st->codecpar->codec_id);
  CutSummary summary;
  summary.path = stem;
  summary.path += std::string_view(container) == "mp4" ? ".mp4" : ".mkv";
  fs::path tmp = summary.path;
  tmp += ".tmp";
  std::error_code ec;
  fs::create_directories(summary.path.parent_path(), ec);
  if (Status s = write_cut(raw, video, w, origin, tmp, container, summary); !s) {
    fs::remove(tmp, ec);
    return make_error(fmt::format("cut {} [{:.2f}s, {:.2f}s] -> {}: {}", source.string(), from_s, to_s,
                                  summary.path.string(), s.error().message));
  }
  if (Status s = commit_file(tmp, summary.path); !s) return s.error();
  // The window reached past the file's end only if the last packet came before the window's end.
  summary.truncated = summary.truncated && summary.start_s + summary.duration_s < to_s - 1e-3;
  return summary;
}

}  // namespace matthan
