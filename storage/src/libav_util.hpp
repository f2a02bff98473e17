// RAII handles and error text for the libavformat calls of the storage module (private header).
#pragma once

#include <memory>
#include <string>

#include "matthan/core/result.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

namespace matthan::libav {

struct FormatContextDeleter {
  void operator()(AVFormatContext* ctx) const {
    if (ctx == nullptr) return;
    if (ctx->pb != nullptr && ctx->oformat != nullptr && (ctx->oformat->flags & AVFMT_NOFILE) == 0) {
      avio_closep(&ctx->pb);
    }
    avformat_free_context(ctx);
  }
};
using OutputContextPtr = std::unique_ptr<AVFormatContext, FormatContextDeleter>;

struct InputContextDeleter {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
using InputContextPtr = std::unique_ptr<AVFormatContext, InputContextDeleter>;

struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

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

}  // namespace matthan::libav
