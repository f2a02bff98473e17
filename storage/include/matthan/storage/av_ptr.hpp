// RAII owners and error text for the FFmpeg (libavformat/libavcodec) handles, the one home for every module and
// tool that calls FFmpeg: storage, the simulator, the app's clip decoder, the tests' fixtures. Include only where
// the FFmpeg headers are available (PkgConfig::FFMPEG).
#pragma once

#include <memory>
#include <string>

#include "matthan/core/result.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
}

namespace matthan::av {

// A demuxer opened with avformat_open_input.
struct InputContextDeleter {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
using InputContextPtr = std::unique_ptr<AVFormatContext, InputContextDeleter>;

// A muxer from avformat_alloc_output_context2: closes the file it opened (avio_open), then frees.
struct OutputContextDeleter {
  void operator()(AVFormatContext* ctx) const {
    if (ctx == nullptr) return;
    if (ctx->pb != nullptr && ctx->oformat != nullptr && (ctx->oformat->flags & AVFMT_NOFILE) == 0) {
      avio_closep(&ctx->pb);
    }
    avformat_free_context(ctx);
  }
};
using OutputContextPtr = std::unique_ptr<AVFormatContext, OutputContextDeleter>;

struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;

struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

struct DictionaryDeleter {
  void operator()(AVDictionary* d) const { av_dict_free(&d); }
};
using DictionaryPtr = std::unique_ptr<AVDictionary, DictionaryDeleter>;

inline std::string error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(err, buf, sizeof buf) < 0) return "libav error " + std::to_string(err);
  return buf;
}

// The end of writing a file with a muxer whose `pb` was opened with avio_open: trailer, then close.
inline Status finish_output(AVFormatContext* mux) {
  int err = av_write_trailer(mux);
  if (err < 0) return make_error("trailer: " + error_text(err));
  err = avio_closep(&mux->pb);
  if (err < 0) return make_error("close: " + error_text(err));
  return {};
}

}  // namespace matthan::av
