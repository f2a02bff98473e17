// ClipDecoder: libavformat demux + libavcodec decode, single-threaded, frames copied into owned buffers.
#include "clip_decoder.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
}

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "matthan/core/time.hpp"
#include "matthan/storage/av_ptr.hpp"

namespace matthan {
namespace {

// libavformat's creation_time: "2024-05-01T10:20:30.000000Z" (UTC).
std::optional<WallTime> parse_creation_time(const char* text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (std::sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6 &&
      std::sscanf(text, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
    return std::nullopt;
  return utc_time(y, mo, d, h, mi, sec);
}

void copy_plane(const std::uint8_t* src, int src_stride, std::uint8_t* dst, int dst_stride, int w, int h) {
  for (int y = 0; y < h; ++y)
    std::memcpy(dst + static_cast<std::ptrdiff_t>(y) * dst_stride, src + static_cast<std::ptrdiff_t>(y) * src_stride,
                w);
}

}  // namespace

struct ClipDecoder::Impl {
  av::InputContextPtr fmt;
  av::CodecContextPtr codec;
  av::PacketPtr packet{av_packet_alloc()};
  av::FramePtr frame{av_frame_alloc()};
  int stream = -1;
  double fps = 25;
  std::uint64_t index = 0;
  bool keyframe = false;  // the frame next() returned last was a keyframe
  bool draining = false;
  ClipTiming timing = ClipTiming::kFrameIndex;
  std::int64_t origin = AV_NOPTS_VALUE;  // first frame's timestamp (kStream)
  MediaTimeNs last_pts = -1;
  CameraId camera = "eval";
  WallTime start = WallTime{} + std::chrono::hours(24 * 365 * 56);

  MediaTimeNs frame_pts(const AVFrame& f) {
    const MediaTimeNs by_index =
        static_cast<MediaTimeNs>(std::llround(static_cast<double>(index) / fps * kNsPerSecond));
    if (timing == ClipTiming::kFrameIndex || f.best_effort_timestamp == AV_NOPTS_VALUE)
      return std::max(by_index, last_pts + 1);
    if (origin == AV_NOPTS_VALUE) origin = f.best_effort_timestamp;
    const AVRational tb = fmt->streams[stream]->time_base;
    const auto t = static_cast<MediaTimeNs>(
        std::llround(static_cast<double>(f.best_effort_timestamp - origin) * av_q2d(tb) * kNsPerSecond));
    return std::max(t, last_pts + 1);  // media time never goes backwards, even when the file's does
  }

  Frame convert(const AVFrame& f) {
    const bool i420 = f.format == AV_PIX_FMT_YUV420P || f.format == AV_PIX_FMT_YUVJ420P;
    Frame out = make_owned_frame(i420 ? PixelFormat::kI420 : PixelFormat::kGray8, f.width, f.height);
    // The frame's memory is a fresh vector of ours; writing into it here is its initialisation.
    copy_plane(f.data[0], f.linesize[0], const_cast<std::uint8_t*>(out.plane[0]), out.stride[0], f.width, f.height);
    if (i420) {
      for (int p = 1; p <= 2; ++p)
        copy_plane(f.data[p], f.linesize[p], const_cast<std::uint8_t*>(out.plane[p]), out.stride[p], (f.width + 1) / 2,
                   (f.height + 1) / 2);
    }
    out.camera = camera;
    out.index = index;
    out.pts = frame_pts(f);
    last_pts = out.pts;
    out.wall = start + std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(out.pts));
    ++index;
    return out;
  }

  std::optional<Frame> next() {
    while (true) {
      const int r = avcodec_receive_frame(codec.get(), frame.get());
      if (r == 0) {
        Frame out = convert(*frame);
        keyframe = frame->key_frame != 0 || frame->pict_type == AV_PICTURE_TYPE_I;
        av_frame_unref(frame.get());
        return out;
      }
      if (r == AVERROR_EOF || (r != AVERROR(EAGAIN))) return std::nullopt;
      if (draining) return std::nullopt;
      if (av_read_frame(fmt.get(), packet.get()) < 0) {
        draining = true;
        avcodec_send_packet(codec.get(), nullptr);
        continue;
      }
      if (packet->stream_index == stream) avcodec_send_packet(codec.get(), packet.get());
      av_packet_unref(packet.get());
    }
  }
};

Result<std::unique_ptr<ClipDecoder>> ClipDecoder::open(const std::filesystem::path& path, ClipTiming timing) {
  auto impl = std::make_unique<Impl>();
  impl->timing = timing;
  AVFormatContext* raw = nullptr;
  if (int r = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); r < 0)
    return make_error(fmt::format("cannot open {}: {}", path.string(), av::error_text(r)));
  impl->fmt.reset(raw);
  if (int r = avformat_find_stream_info(raw, nullptr); r < 0)
    return make_error(fmt::format("{}: no stream info: {}", path.string(), av::error_text(r)));
  const AVCodec* dec = nullptr;
  impl->stream = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, &dec, 0);
  if (impl->stream < 0 || !dec) return make_error(fmt::format("{}: no decodable video stream", path.string()));
  AVStream* st = raw->streams[impl->stream];
  impl->codec.reset(avcodec_alloc_context3(dec));
  avcodec_parameters_to_context(impl->codec.get(), st->codecpar);
  impl->codec->thread_count = 1;
  if (int r = avcodec_open2(impl->codec.get(), dec, nullptr); r < 0)
    return make_error(fmt::format("{}: cannot open the decoder: {}", path.string(), av::error_text(r)));
  const AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  if (rate.num > 0 && rate.den > 0) impl->fps = av_q2d(rate);
  return std::unique_ptr<ClipDecoder>(new ClipDecoder(std::move(impl)));
}

ClipDecoder::ClipDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClipDecoder::~ClipDecoder() = default;
std::optional<Frame> ClipDecoder::next() {
  return impl_->next();
}
double ClipDecoder::fps() const {
  return impl_->fps;
}
bool ClipDecoder::keyframe() const {
  return impl_->keyframe;
}
int ClipDecoder::width() const {
  return impl_->codec->width;
}
int ClipDecoder::height() const {
  return impl_->codec->height;
}
void ClipDecoder::set_camera(CameraId camera) {
  impl_->camera = std::move(camera);
}
void ClipDecoder::set_start(WallTime start) {
  impl_->start = start;
}

std::int64_t ClipDecoder::estimated_frames() const {
  const AVStream* st = impl_->fmt->streams[impl_->stream];
  if (st->nb_frames > 0) return st->nb_frames;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
    return std::llround(static_cast<double>(st->duration) * av_q2d(st->time_base) * impl_->fps);
  if (impl_->fmt->duration != AV_NOPTS_VALUE && impl_->fmt->duration > 0)
    return std::llround(static_cast<double>(impl_->fmt->duration) / AV_TIME_BASE * impl_->fps);
  return 0;
}

std::optional<WallTime> ClipDecoder::creation_time() const {
  const AVDictionaryEntry* e = av_dict_get(impl_->fmt->metadata, "creation_time", nullptr, 0);
  if (e == nullptr) e = av_dict_get(impl_->fmt->streams[impl_->stream]->metadata, "creation_time", nullptr, 0);
  if (e == nullptr || e->value == nullptr) return std::nullopt;
  auto t = parse_creation_time(e->value);
  // MP4's zero date (1904) and files from cameras whose clock was never set say nothing useful.
  if (!t || *t < WallTime{} + std::chrono::hours(24 * 365 * 30)) return std::nullopt;
  return t;
}

}  // namespace matthan
