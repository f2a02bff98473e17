// Looping access-unit reader on libavformat: the live loop never re-encodes, it only re-reads.
#include "access_unit_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace matthan {
namespace {

Result<av::InputContextPtr> open_format(const std::filesystem::path& path) {
  AVFormatContext* raw = nullptr;
  const int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) return make_error(fmt::format("cannot open {}: {}", path.string(), av::error_text(rc)));
  av::InputContextPtr format(raw);
  if (const int info = avformat_find_stream_info(format.get(), nullptr); info < 0)
    return make_error(fmt::format("cannot read stream info of {}: {}", path.string(), av::error_text(info)));
  return format;
}

std::int64_t to_ns(std::int64_t ts, AVRational tb) {
  return av_rescale_q(ts, tb, AVRational{1, 1'000'000'000});
}

}  // namespace

Result<VideoFileInfo> probe_video_file(const std::filesystem::path& path) {
  auto format = open_format(path);
  if (!format) return format.error();
  const int index = av_find_best_stream(format.value().get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) return make_error(fmt::format("{} has no video stream", path.string()));
  const AVStream* stream = format.value()->streams[index];
  const AVCodecParameters* par = stream->codecpar;
  VideoFileInfo info;
  info.width = par->width;
  info.height = par->height;
  AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
  if (rate.num > 0 && rate.den > 0) {
    av_reduce(&info.fps_num, &info.fps_den, rate.num, rate.den, 1000000);
  }
  // An MP4-form configuration record (avcC/hvcC) starts with version 1; Annex-B extradata starts 0 0 (0) 1.
  const bool record = par->extradata_size > 6 && par->extradata[0] == 1;
  info.servable = record && (par->codec_id == AV_CODEC_ID_H264 || par->codec_id == AV_CODEC_ID_HEVC);
  info.codec = par->codec_id == AV_CODEC_ID_HEVC ? SimCodec::kH265 : SimCodec::kH264;
  if (info.servable) info.codec_data.assign(par->extradata, par->extradata + par->extradata_size);
  if (info.width <= 0 || info.height <= 0) return make_error(fmt::format("{}: video has no size", path.string()));
  return info;
}

Result<std::unique_ptr<AccessUnitReader>> AccessUnitReader::open(const std::vector<std::filesystem::path>& paths) {
  if (paths.empty()) return make_error("no files to read");
  std::vector<VideoFileInfo> infos;
  for (const auto& path : paths) {
    auto info = probe_video_file(path);
    if (!info) return info.error();
    if (!info.value().servable) return make_error(fmt::format("{} is not H.264 or H.265 in MP4 form", path.string()));
    if (!infos.empty() && info.value().codec != infos.front().codec)
      return make_error(fmt::format("{} is not of the same codec as {}", path.string(), paths.front().string()));
    infos.push_back(std::move(info).value());
  }
  std::unique_ptr<AccessUnitReader> reader(new AccessUnitReader(paths, std::move(infos)));
  if (auto s = reader->reopen(); !s) return s.error();
  return reader;
}

Status AccessUnitReader::reopen() {
  const auto& path = paths_[current_];
  auto format = open_format(path);
  if (!format) return format.error();
  format_ = std::move(format).value();
  stream_index_ = av_find_best_stream(format_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream_index_ < 0) return make_error(fmt::format("{} has no video stream", path.string()));
  if (!packet_) packet_.reset(av_packet_alloc());
  first_ts_ = AV_NOPTS_VALUE;
  return {};
}

std::int64_t AccessUnitReader::frame_duration_ns() const {
  const VideoFileInfo& info = infos_[current_];
  if (info.fps_num <= 0) return 100'000'000;  // 10 fps when the file does not say
  return std::int64_t{1'000'000'000} * info.fps_den / info.fps_num;
}

Result<AccessUnit> AccessUnitReader::next() {
  const std::size_t give_up = 2 * paths_.size();
  for (std::size_t empty_files = 0; empty_files < give_up;) {
    const int rc = av_read_frame(format_.get(), packet_.get());
    if (rc == AVERROR_EOF) {
      // The next file (or the first again) begins where this one ended, so timestamps keep rising.
      if (loop_end_ns_ == 0) ++empty_files;
      loop_offset_ns_ += loop_end_ns_;
      loop_end_ns_ = 0;
      current_ = (current_ + 1) % paths_.size();
      if (auto s = reopen(); !s) return s.error();
      continue;
    }
    if (rc < 0) return make_error(fmt::format("reading {}: {}", paths_[current_].string(), av::error_text(rc)));
    if (packet_->stream_index != stream_index_ || packet_->size <= 0) {
      av_packet_unref(packet_.get());
      continue;
    }
    const AVRational tb = format_->streams[stream_index_]->time_base;
    std::int64_t dts = packet_->dts != AV_NOPTS_VALUE ? packet_->dts : packet_->pts;
    std::int64_t pts = packet_->pts != AV_NOPTS_VALUE ? packet_->pts : dts;
    if (first_ts_ == AV_NOPTS_VALUE) first_ts_ = dts == AV_NOPTS_VALUE ? 0 : dts;
    AccessUnit au;
    au.data.assign(packet_->data, packet_->data + packet_->size);
    au.keyframe = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
    au.file = current_;
    au.duration_ns = packet_->duration > 0 ? to_ns(packet_->duration, tb) : frame_duration_ns();
    const std::int64_t dts_rel = dts == AV_NOPTS_VALUE ? loop_end_ns_ : to_ns(dts - first_ts_, tb);
    const std::int64_t pts_rel = pts == AV_NOPTS_VALUE ? dts_rel : to_ns(pts - first_ts_, tb);
    au.dts_ns = loop_offset_ns_ + dts_rel;
    au.pts_ns = loop_offset_ns_ + pts_rel;
    loop_end_ns_ = std::max({loop_end_ns_, dts_rel + au.duration_ns, pts_rel + au.duration_ns});
    av_packet_unref(packet_.get());
    return au;
  }
  return make_error(fmt::format("{} holds no video access units", paths_[current_].string()));
}

}  // namespace matthan
