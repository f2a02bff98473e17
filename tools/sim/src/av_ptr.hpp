// RAII owners for the libavformat/libavcodec handles the simulator uses.
#pragma once

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace matthan::av {

struct FormatContextClose {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using FormatContextPtr = std::unique_ptr<AVFormatContext, FormatContextClose>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;

}  // namespace matthan::av
